"""Downlink policy: turn a ``DownlinkRequest`` into a scheduled TX, or say why not.

Checks, in order, for one item (``schedule``); ``rules`` are the region's
(``packet_forwarder.regions.DownlinkRules``), docs/downlinks.md has the table:

1. TX_FREQ: no TX-enabled RF chain whose ``tx_freq_min..tx_freq_max`` holds the frequency, the
   frequency is outside the region's range (both inclusive), the channel (centre ± half its
   bandwidth) lies in none of the region's regulatory sub-bands, or its modulation/bandwidth is
   not one of the region's downlink data rates (US915 and AU915 send 500 kHz LoRa only).
2. Context (Timing.DELAY): a malformed context (``parse_context`` raises ContextError) is
   INTERNAL_ERROR; a context whose session id is not the running concentrator session is
   TOO_LATE — the uplink it answers was timed on a counter that no longer exists, so its RX
   window cannot be found any more. A bare 4-byte context carries no session and is taken as
   the current one. Start = context count_us + delay, modulo 2^32.
3. Invalid radio parameters (SF, bandwidth, code rate, length, a preamble longer than
   ``rules.max_preamble``): INTERNAL_ERROR.
4. DUTY_CYCLE_OVERFLOW for a single packet: longer than the region allows (``rules.max_toa_us``,
   a 255-byte frame at the slowest downlink data rate) or than its dwell time.
5. TX_POWER: the requested EIRP, capped at the EIRP limit of the channel's sub-band, minus the
   antenna gain, gives the conducted power; the highest TX gain table entry at or below it is
   used and the item is OK even when that is lower than asked (Semtech reports that as a
   *warning* with the packet still sent; ChirpStack treats every non-OK item as failed, so we
   report OK and log). When even the lowest entry is above it, the packet goes at the lowest
   entry (OK, logged as a warning, as the HAL does) if that entry plus the antenna gain stays
   within the sub-band's EIRP limit, and is refused with TX_POWER only when it would not.
6. DUTY_CYCLE_OVERFLOW: when the duty-cycle tracker enforces and the band's budget would be
   passed. The airtime is recorded as soon as the item is queued, so queued packets count.
7. The JIT queue of the chosen chain: TOO_LATE, TOO_EARLY, COLLISION_PACKET (also against a
   packet already handed to the chip and still on air), QUEUE_FULL, GPS_UNLOCKED (see
   ``packet_forwarder.jit``).

``schedule_frame`` tries the items of one downlink frame in order, stops at the first OK and
leaves the rest IGNORED (ChirpStack's semantics for a DownlinkFrame). A frame whose downlink id
was already taken in the last 10 minutes (``packet_forwarder.dedup``) is not tried: every item
is COLLISION_PACKET (it would collide with itself).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from drivers.sx1302.plan import TxGain
from drivers.sx1302.tx import TxRequest
from packet_forwarder.airtime import code_rate_index, time_on_air_us
from packet_forwarder.dedup import RecentIds
from packet_forwarder.dutycycle import DutyCycleTracker
from packet_forwarder.errors import ContextError
from packet_forwarder.jit import TX_IMMEDIATE_ASAP_US, GpsToCountUs, JitEntry, JitQueue, wrap_diff
from packet_forwarder.model import (
    COUNT_US_MASK,
    DownlinkRequest,
    GatewayStats,
    Modulation,
    Timing,
    TxAck,
    TxStatus,
    Uplink,
    parse_context,
)
from packet_forwarder.regions import DownlinkRules

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TxChain:
    """A TX-capable RF chain: its frequency range and TX gain table."""

    rf_chain: int
    freq_min_hz: int
    freq_max_hz: int
    tx_gain_lut: tuple[TxGain, ...]


@dataclass(frozen=True, slots=True)
class ScheduledTx:
    """A downlink accepted into a JIT queue; ``count_us`` is its start on air."""

    request: DownlinkRequest
    rf_chain: int
    count_us: int
    airtime_us: int
    gain: TxGain
    #: EIRP actually radiated: the gain entry's power + antenna gain
    eirp_dbm: float

    def tx_request(self, lorawan_public: bool = True) -> TxRequest:
        """The chip-level TX (``drivers.sx1302.tx.program``) for this downlink."""
        req = self.request
        lora = req.modulation is Modulation.LORA
        return TxRequest(
            rf_chain=self.rf_chain,
            freq_hz=req.freq_hz,
            payload=req.phy_payload,
            modulation="LORA" if lora else "FSK",
            mode="TIMESTAMPED",
            count_us=self.count_us,
            sf=req.sf,
            bandwidth_hz=req.bandwidth_hz if lora else 125_000,
            coding_rate=code_rate_index(req.code_rate) if lora else 1,
            preamble=req.preamble,
            invert_pol=req.iq_inverted,
            no_crc=req.no_crc,
            lorawan_public=lorawan_public,
            pa_gain=self.gain.pa_gain,
            pwr_idx=self.gain.pwr_idx,
            datarate_bps=req.datarate_bps or 50_000,
            freq_deviation_hz=req.freq_deviation_hz or 25_000,
        )


def modulation_key(req: DownlinkRequest | Uplink) -> str:
    """Key of the per-modulation counters: 'LORA/SF7/BW125000/4/5' or 'FSK/50000'."""
    if req.modulation is Modulation.LORA:
        return f"LORA/SF{req.sf}/BW{req.bandwidth_hz}/{req.code_rate}"
    return f"FSK/{req.datarate_bps}"


@dataclass(slots=True)
class TxStats:
    """Downlink counters for one stats interval."""

    tx_packets_received: int = 0
    tx_packets_emitted: int = 0
    tx_packets_missed: int = 0
    per_frequency: dict[int, int] = field(default_factory=dict)
    per_modulation: dict[str, int] = field(default_factory=dict)
    per_status: dict[str, int] = field(default_factory=dict)

    def add_to(self, stats: GatewayStats) -> None:
        """Add these counters into a GatewayStats."""
        stats.tx_packets_received += self.tx_packets_received
        stats.tx_packets_emitted += self.tx_packets_emitted
        for freq, n in self.per_frequency.items():
            stats.tx_packets_per_frequency[freq] = stats.tx_packets_per_frequency.get(freq, 0) + n
        for status, n in self.per_status.items():
            stats.tx_packets_per_status[status] = stats.tx_packets_per_status.get(status, 0) + n
        for key, n in self.per_modulation.items():
            mods = stats.tx_packets_per_modulation
            mods[key] = mods.get(key, 0) + n


def pick_gain(lut: Sequence[TxGain], conducted_dbm: float) -> TxGain | None:
    """The highest table entry at or below ``conducted_dbm``, or None when all are above."""
    fitting = [g for g in lut if g.rf_power_dbm <= conducted_dbm]
    return max(fitting, key=lambda g: g.rf_power_dbm) if fitting else None


def _effective_preamble(req: DownlinkRequest) -> int:
    """The preamble the chip will send: 0 means the standard one, short ones are raised."""
    std, low = (8, 6) if req.modulation is Modulation.LORA else (5, 3)
    return max(req.preamble or std, low)


class DownlinkScheduler:
    """Downlink policy + one JIT queue per TX chain; used by the daemon and the radio thread."""

    def __init__(
        self,
        chains: Sequence[TxChain],
        session_id: Callable[[], int],
        *,
        antenna_gain_dbi: float = 0.0,
        region_freq_range_hz: tuple[int, int] | None = None,
        region_max_eirp_dbm: float | None = None,
        rules: DownlinkRules | None = None,
        duty_cycle: DutyCycleTracker | None = None,
        gps_to_count_us: GpsToCountUs | None = None,
        clock_s: Callable[[], float] = time.monotonic,
        recent_ids: RecentIds | None = None,
    ) -> None:
        self.chains = tuple(chains)
        self.queues = {c.rf_chain: JitQueue(gps_to_count_us) for c in self.chains}
        self.stats = TxStats()
        self._session_id = session_id
        self._antenna_gain_dbi = antenna_gain_dbi
        self._region_freq_range_hz = region_freq_range_hz
        self._region_max_eirp_dbm = region_max_eirp_dbm
        self._rules = rules
        self._duty_cycle = duty_cycle
        self._clock_s = clock_s
        self._recent_ids = recent_ids if recent_ids is not None else RecentIds(clock_s=clock_s)
        # one lock: the check-then-record of the duty cycle and the counters must not interleave
        self._lock = threading.Lock()

    @property
    def duty_cycle(self) -> DutyCycleTracker | None:
        """The duty-cycle tracker (None when the region has none)."""
        return self._duty_cycle

    def schedule_frame(self, items: Sequence[DownlinkRequest], now_us: int) -> TxAck:
        """Try the items in order until one is queued; the others stay IGNORED."""
        downlink_id = items[0].downlink_id if items else 0
        if items and self._recent_ids.seen(downlink_id):
            LOGGER.info("downlink %d already taken in the last %.0f s: not sent again",
                           downlink_id, self._recent_ids.window_s)  # fmt: skip
            with self._lock:
                key = TxStatus.COLLISION_PACKET.value
                self.stats.per_status[key] = self.stats.per_status.get(key, 0) + len(items)
            return TxAck(downlink_id, (TxStatus.COLLISION_PACKET,) * len(items))
        statuses = [TxStatus.IGNORED] * len(items)
        for i, item in enumerate(items):
            statuses[i] = self.schedule(item, now_us)
            if statuses[i] is TxStatus.OK:
                break
        return TxAck(downlink_id, tuple(statuses))

    def schedule(self, req: DownlinkRequest, now_us: int) -> TxStatus:
        """Check and queue one downlink item; the status to report for it."""
        with self._lock:
            self.stats.tx_packets_received += 1
            status = self._schedule(req, now_us)
            self.stats.per_status[status.value] = self.stats.per_status.get(status.value, 0) + 1
        if status is not TxStatus.OK:
            LOGGER.info("downlink %d refused: %s", req.downlink_id, status.value)
        return status

    def next_due(self, now_us: int) -> ScheduledTx | None:
        """For the radio thread: the next packet to program now (start < 40 ms away)."""
        with self._lock:
            for rf_chain, queue in self.queues.items():
                self.stats.tx_packets_missed += len(queue.expire(now_us))
                due = queue.dequeue(now_us)
                if due is not None:
                    return replace(due.item, rf_chain=rf_chain, count_us=due.count_us)
            return None

    def mark_emitted(self, tx: ScheduledTx) -> None:
        """Count a packet the chip reported as sent (scheduled or emitting)."""
        freq, key = tx.request.freq_hz, modulation_key(tx.request)
        with self._lock:
            self.stats.tx_packets_emitted += 1
            self.stats.per_frequency[freq] = self.stats.per_frequency.get(freq, 0) + 1
            self.stats.per_modulation[key] = self.stats.per_modulation.get(key, 0) + 1

    def count_missed(self) -> None:
        """Count a packet that was due but could not be programmed."""
        with self._lock:
            self.stats.tx_packets_missed += 1

    def reset_queues(self) -> None:
        """Drop every queued packet (concentrator restart: their count_us are meaningless)."""
        with self._lock:
            for queue in self.queues.values():
                self.stats.tx_packets_missed += len(queue.clear())

    def take_stats(self) -> TxStats:
        """Return the counters of the interval and start a new one."""
        with self._lock:
            stats, self.stats = self.stats, TxStats()
            return stats

    # -- policy ---------------------------------------------------------------------------

    def _schedule(self, req: DownlinkRequest, now_us: int) -> TxStatus:
        chain = self._chain_for(req)
        if chain is None:
            return TxStatus.TX_FREQ
        count_us = 0
        if req.timing is Timing.DELAY:
            try:
                ctx_count_us, session = parse_context(req.context)
            except ContextError as exc:
                LOGGER.warning("downlink %d: bad context: %s", req.downlink_id, exc)
                return TxStatus.INTERNAL_ERROR
            if session is not None and session != self._session_id():
                LOGGER.info("downlink %d: context from session %08x", req.downlink_id, session)
                return TxStatus.TOO_LATE
            count_us = (ctx_count_us + req.delay_us) & COUNT_US_MASK
        try:
            airtime_us = self._airtime_us(req)
        except ValueError as exc:
            LOGGER.warning("downlink %d: invalid radio parameters: %s", req.downlink_id, exc)
            return TxStatus.INTERNAL_ERROR
        if not self._airtime_allowed(req, airtime_us):
            return TxStatus.DUTY_CYCLE_OVERFLOW
        gain = self._gain_for(req, chain)
        if gain is None:
            return TxStatus.TX_POWER
        used_eirp = gain.rf_power_dbm + self._antenna_gain_dbi
        if used_eirp != req.power_dbm:
            LOGGER.debug("downlink %d: %.1f dBm EIRP asked, %.1f used", req.downlink_id,
                         req.power_dbm, used_eirp)  # fmt: skip
        if self._duty_cycle is not None:
            now_s = self._clock_s()
            start_s = now_s + self._ahead_us(req, count_us, now_us) / 1e6
            if self._duty_cycle.would_exceed(req.freq_hz, used_eirp, airtime_us, start_s, now_s):
                return TxStatus.DUTY_CYCLE_OVERFLOW
        item = ScheduledTx(req, chain.rf_chain, count_us, airtime_us, gain, used_eirp)
        entry = JitEntry(req.timing, count_us, req.gps_epoch_us, airtime_us, item)
        status = self.queues[chain.rf_chain].enqueue(now_us, entry)
        if status is TxStatus.OK and self._duty_cycle is not None:
            self._duty_cycle.record(req.freq_hz, used_eirp, airtime_us, start_s, now_s)
        return status

    def _chain_for(self, req: DownlinkRequest) -> TxChain | None:
        freq_hz = req.freq_hz
        if self._region_freq_range_hz is not None:
            low, high = self._region_freq_range_hz
            if not low <= freq_hz <= high:
                return None
        rules = self._rules
        if rules is not None:
            lora = req.modulation is Modulation.LORA
            if (lora and req.bandwidth_hz not in rules.lora_bandwidths_hz) or (
                not lora and not rules.fsk
            ):
                LOGGER.info("downlink %d: %s is not a downlink data rate of the region",
                            req.downlink_id, modulation_key(req))  # fmt: skip
                return None
            if rules.sub_band(freq_hz, req.bandwidth_hz if lora else 0) is None:
                LOGGER.info("downlink %d: %d Hz lies in no regulatory sub-band of the region",
                            req.downlink_id, freq_hz)  # fmt: skip
                return None
        return next((c for c in self.chains if c.freq_min_hz <= freq_hz <= c.freq_max_hz), None)

    def _limit_eirp_dbm(self, req: DownlinkRequest) -> float:
        """The EIRP the item may radiate: its sub-band's limit (and the region cap, if any)."""
        limit = math.inf
        if self._rules is not None:
            bandwidth = req.bandwidth_hz if req.modulation is Modulation.LORA else 0
            limit = self._rules.max_eirp_dbm(req.freq_hz, bandwidth) or math.inf
        if self._region_max_eirp_dbm is not None:
            limit = min(limit, self._region_max_eirp_dbm)
        return limit

    def _gain_for(self, req: DownlinkRequest, chain: TxChain) -> TxGain | None:
        limit = self._limit_eirp_dbm(req)
        gain = pick_gain(chain.tx_gain_lut, min(req.power_dbm, limit) - self._antenna_gain_dbi)
        if gain is not None or not chain.tx_gain_lut:
            return gain
        lowest = min(chain.tx_gain_lut, key=lambda g: g.rf_power_dbm)
        if lowest.rf_power_dbm + self._antenna_gain_dbi > limit + 1e-9:
            LOGGER.warning(
                "downlink %d: lowest TX gain entry %d dBm + %.1f dBi exceeds the "
                "%.2f dBm EIRP limit at %d Hz: refused",
                req.downlink_id,
                lowest.rf_power_dbm,
                self._antenna_gain_dbi,
                limit,
                req.freq_hz,
            )
            return None
        LOGGER.warning("downlink %d: %.1f dBm EIRP asked, below the TX gain table: sent at its "
                       "lowest entry, %.1f dBm EIRP", req.downlink_id, req.power_dbm,
                       lowest.rf_power_dbm + self._antenna_gain_dbi)  # fmt: skip
        return lowest

    def _airtime_allowed(self, req: DownlinkRequest, airtime_us: int) -> bool:
        rules = self._rules
        if rules is None:
            return True
        if airtime_us > rules.max_toa_us:
            LOGGER.warning("downlink %d: %d µs on air, the region allows at most %d µs",
                           req.downlink_id, airtime_us, rules.max_toa_us)  # fmt: skip
            return False
        dwell = rules.dwell_time_us
        narrow = req.modulation is not Modulation.LORA or req.bandwidth_hz < rules.dwell_below_bw_hz
        if dwell is not None and narrow and airtime_us > dwell:
            LOGGER.warning("downlink %d: %d µs on air exceeds the %d µs dwell time",
                           req.downlink_id, airtime_us, dwell)  # fmt: skip
            return False
        return True

    @staticmethod
    def _ahead_us(req: DownlinkRequest, count_us: int, now_us: int) -> int:
        if req.timing is Timing.DELAY:
            return max(0, wrap_diff(count_us, now_us))
        return TX_IMMEDIATE_ASAP_US  # immediate; GPS-epoch start is close enough for 1 h bins

    def _airtime_us(self, req: DownlinkRequest) -> int:
        limit = self._rules.max_preamble if self._rules is not None else None
        if limit is not None and req.preamble > limit:
            raise ValueError(f"preamble of {req.preamble} is longer than {limit}")
        if len(req.phy_payload) > 255:
            raise ValueError(f"payload is {len(req.phy_payload)} bytes, at most 255")
        return time_on_air_us(
            modulation=req.modulation.value,
            payload_len=len(req.phy_payload),
            sf=req.sf,
            bandwidth_hz=req.bandwidth_hz,
            code_rate=req.code_rate,
            preamble=_effective_preamble(req),
            no_crc=req.no_crc,
            datarate_bps=req.datarate_bps,
        )


def dispatch_once(
    scheduler: DownlinkScheduler,
    now_us: int,
    tx_status: Callable[[int], str],
    send: Callable[[ScheduledTx], None],
) -> ScheduledTx | None:
    """One radio-thread step: program the next due packet unless its chain is still emitting.

    ``tx_status(rf_chain)`` returns ``drivers.sx1302.tx.tx_status_from_register`` of the chain's
    status register; ``send`` programs the chip (``program_tx(..., program(tx.tx_request()))``).
    As lora_pkt_fwd does: a chain still EMITTING loses the new packet; a SCHEDULED one is
    overwritten (the earlier packet was already handed out, so that should not happen).
    """
    tx = scheduler.next_due(now_us)
    if tx is None:
        return None
    status = tx_status(tx.rf_chain)
    if status == "EMITTING":
        LOGGER.warning("RF chain %d still emitting: downlink %d lost", tx.rf_chain,
                       tx.request.downlink_id)  # fmt: skip
        scheduler.count_missed()
        return None
    if status == "SCHEDULED":
        LOGGER.warning("RF chain %d had a TX scheduled: overwritten", tx.rf_chain)
    send(tx)
    scheduler.mark_emitted(tx)
    return tx
