"""The concentrator: one chip, polled step by step into ``Uplink`` objects (docs/uplinks.md).

``poll_once()`` is the whole receive step (FIFO byte count, fetch, counter, conversion); the
daemon's radio thread repeats it, sleeping ``next_poll_delay_s()`` after an empty poll. ``lock``
serialises every chip access, so the JIT dispatcher can share the chip between polls.

The poll is adaptive (docs/performance.md): an empty poll reads only the FIFO byte count (one
SPI transaction; the counter is read when records came, at least every ``COUNTER_REFRESH_S``
for its wrap tracking, and at every poll in fine-timestamp mode); the delay to the next poll is
``ACTIVE_POLL_S`` while packets arrive and ``QUIET_POLL_S`` once the air has been quiet for
``QUIET_AFTER_S``. The wait for the next poll is most of an uplink's latency, so
``ACTIVE_POLL_S`` bounds it under traffic and ``QUIET_POLL_S`` bounds it for the first packet
after a silence.
"""

from __future__ import annotations

import logging
import math
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from packet_forwarder.errors import ForwardError
from packet_forwarder.model import CrcStatus, Modulation, Uplink
from packet_forwarder.uplink import (
    merge_dual_demod,
    record_to_uplink,
    sort_by_count_us,
    unmappable_reason,
)

if TYPE_CHECKING:
    from drivers.sx1302.plan import ChipPlan
    from drivers.transport import Transport

LOGGER = logging.getLogger(__name__)

#: board temperature assumed until the sensor has answered once (°C); the HAL has no fallback
DEFAULT_TEMPERATURE_C = 25.0
#: at most one warning per kind of bad data in this many seconds
LOG_INTERVAL_S = 60.0
#: poll period while packets arrive (the C packet forwarder polls every 10 ms)
ACTIVE_POLL_S = 0.006
#: poll period once the air has been quiet for QUIET_AFTER_S: a wake of the radio thread costs
#: 200-300 µs of CPU on a busy 2-core VM (cold caches, bench/wake_cost.py), so 20 wakes/s keep
#: idle under 1 % of a core; the first packet after a silence waits at most this long (RX1
#: opens 1 s after it; downlinks are programmed by the downlink thread, not by this poll)
QUIET_POLL_S = 0.050
#: a silence this long switches to QUIET_POLL_S: at 50 uplinks/s (random arrivals) one gap in
#: 1,800 is longer, at 5/s half of them (issue 15 sets latency limits at 50 and 400/s)
QUIET_AFTER_S = 0.15
#: an empty poll still reads the counter this often (wrap tracking needs one read per half wrap,
#: 67 s); in fine-timestamp mode every poll reads it (the PPS history keeps every edge)
COUNTER_REFRESH_S = 0.5


class RateLimitedLog:
    """Log a warning per key at most once per ``interval_s``, saying how many were suppressed."""

    def __init__(
        self,
        logger: logging.Logger,
        interval_s: float = LOG_INTERVAL_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._interval_s = interval_s
        self._monotonic = monotonic
        self._last: dict[str, float] = {}
        self._suppressed: Counter[str] = Counter()

    def warning(self, key: str, msg: str, *args: object) -> bool:
        """Log ``msg % args`` unless ``key`` was logged recently; True if it was logged."""
        now = self._monotonic()
        last = self._last.get(key)
        if last is not None and now - last < self._interval_s:
            self._suppressed[key] += 1
            return False
        suppressed = self._suppressed.pop(key, 0)
        if suppressed:
            msg += " (%d similar suppressed)"
            args = (*args, suppressed)
        self._last[key] = now
        self._logger.warning(msg, *args)
        return True


def _default_chip_factory(transport: Transport) -> Any:
    from drivers.sx1302.chip import SX1302  # lazily: the driver is only needed for real polling

    return SX1302(transport)


class Concentrator:
    """Owns one SX1302 driver device and turns its RX FIFO into uplinks."""

    def __init__(
        self,
        transport: Transport,
        plan: ChipPlan,
        *,
        temperature_c: Callable[[], float],
        clock: Callable[[], float] = time.time,
        chip_factory: Callable[[Transport], Any] | None = None,
        on_close: Callable[[], None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lock = threading.RLock()
        self._transport = transport
        self._on_close = on_close  # releases what the owner opened with it (a thermometer)
        self._plan = plan
        self._temperature_source = temperature_c
        self._clock = clock
        self._monotonic = monotonic
        self._counter_read_at = -math.inf
        self._packet_at = -math.inf  # when a poll last found bytes in the FIFO
        self._chip_factory = chip_factory or _default_chip_factory
        self._chip: Any = None
        self._session_id = 0
        self._eui: int | None = None
        self._version: int | None = None
        self._model: str | None = None
        self._firmware: dict[str, int] = {}
        self._temperature_c: float | None = None
        self._last_fetch_empty = False
        self._log = RateLimitedLog(LOGGER)
        self._rx_received = 0
        self._bad_records: Counter[str] = Counter()
        #: packets per (status, frequency, channel, modulation, SF): one count per uplink,
        #: the per-status/frequency/channel/SF views are summed in ``stats()``
        self._rx_counts: dict[tuple[CrcStatus, int, int, Modulation, int], int] = {}
        self._last_uplink: float | None = None
        self._closed = False

    @property
    def session_id(self) -> int:
        """Random non-zero 32-bit id of the current start (0 before the first start)."""
        return self._session_id

    @property
    def eui(self) -> int | None:
        """The chip EUI from OTP, read at start."""
        return self._eui

    @property
    def version(self) -> int | None:
        """The chip version register, read at start."""
        return self._version

    @property
    def model(self) -> str | None:
        """The chip model, "SX1302" or "SX1303", read at start."""
        return self._model

    @property
    def plan(self) -> ChipPlan:
        """The channel plan the chip was (or will be) started with."""
        return self._plan

    @property
    def exhausted(self) -> bool:
        """True when a simulated source has no more packets and the last fetch was empty."""
        return bool(getattr(self._transport, "exhausted", False)) and self._last_fetch_empty

    @property
    def firmware_versions(self) -> dict[str, int]:
        """The AGC and ARB firmware versions the chip runs ({} before the first start)."""
        return dict(self._firmware)

    @property
    def started(self) -> bool:
        """True between ``start()`` and ``stop()``."""
        return self._chip is not None

    def start(self) -> None:
        """Bring the chip up with the plan and open a new session."""
        with self.lock:
            if self._chip is not None:
                return
            if self._closed:
                raise ForwardError("concentrator is closed")
            chip = self._chip_factory(self._transport)
            version = chip.version()  # fails fast (ChipNotFound) before the slow bring-up
            chip.start(self._plan)
            self._version = version
            self._model = chip.model()
            self._eui = chip.eui()
            firmware = getattr(chip, "running_firmware", None)
            self._firmware = (
                {}
                if firmware is None
                else {"agc": firmware.agc_version, "arb": firmware.arb_version}
            )
            self._session_id = secrets.randbits(32) or 1
            self._last_fetch_empty = False
            self._chip = chip
            LOGGER.info(
                "concentrator started: %s version %#04x eui %016x session %08x",
                self._model,
                self._version,
                self._eui,
                self._session_id,
            )

    def stop(self) -> None:
        """Stop the chip; idempotent. The transport stays open: ``start()`` may follow."""
        with self.lock:
            chip, self._chip = self._chip, None
            if chip is not None:
                chip.stop()
                LOGGER.info("concentrator stopped (session %08x)", self._session_id)

    def close(self) -> None:
        """Stop the chip, close the transport (the SPI/USB device), call ``on_close``; idempotent,
        final."""
        with self.lock:
            if self._closed:
                return
            self._closed = True
            try:
                self.stop()
            finally:
                try:
                    self._transport.close()
                finally:
                    if self._on_close is not None:
                        self._on_close()

    def configuration_lost(self) -> str | None:
        """Why the chip no longer holds its bring-up (a brown-out or reset), or None.

        Reads two registers the bring-up set and a reset clears: ``COMMON_GEN_GLOBAL_EN`` (1
        after step 15, reset 0) and ``ARB_MCU_CTRL_MCU_CLEAR`` (0 while the ARB firmware runs,
        reset 1). Transfer errors propagate (the caller counts them as failed polls).
        """
        with self.lock:
            chip = self._require_chip()
            if chip.read_reg("COMMON_GEN_GLOBAL_EN") != 1:
                return "chip reset detected: COMMON_GEN_GLOBAL_EN reads 0 (configuration lost)"
            if chip.read_reg("ARB_MCU_CTRL_MCU_CLEAR") != 0:
                return "chip reset detected: the ARB firmware is held in reset"
            return None

    def counter_us(self) -> int:
        """The chip's free-running counter now, in 32-bit µs (keeps the wrap tracking fresh)."""
        with self.lock:
            return self._require_chip().read_counter()

    def pps_us(self) -> int:
        """The counter latched at the last PPS edge, in 32-bit µs (for GPS time sync)."""
        with self.lock:
            chip = self._require_chip()
            chip.read_counter()
            return chip.counter.pps_us

    def tx_status(self, rf_chain: int) -> str:
        """The RF chain's TX state (FREE, SCHEDULED, EMITTING, UNKNOWN), read from the chip."""
        with self.lock:
            return str(self._require_chip().tx_status(rf_chain))

    def send(self, program: Any) -> None:
        """Program one TX (a ``drivers.sx1302.tx.TxProgram``) into the chip."""
        with self.lock:
            self._require_chip().send(program)

    def next_poll_delay_s(self) -> float:
        """How long the radio loop may sleep after an empty poll (see the module docstring)."""
        if self._monotonic() - self._packet_at < QUIET_AFTER_S:
            return ACTIVE_POLL_S
        return QUIET_POLL_S

    def poll_once(self) -> list[Uplink]:
        """One receive step: drain the FIFO, convert every record (the counter is read after a
        non-empty fetch, and every ``COUNTER_REFRESH_S`` anyway)."""
        with self.lock:
            chip = self._require_chip()
            gw_time = self._clock()
            now = self._monotonic()
            # fine timestamps: every poll, as before (the PPS history must see every edge)
            if self._plan.fine_timestamp or now - self._counter_read_at >= COUNTER_REFRESH_S:
                chip.read_counter()
                self._counter_read_at = now
            parse = chip.fetch_rx()  # reads the counter again after a non-empty fetch
            self._last_fetch_empty = not parse.records and not parse.bytes_read
            if parse.bytes_read:
                self._packet_at = self._counter_read_at = now
            self._count_parse_errors(parse.errors)
            if not parse.records:
                return []
            temperature_c = self._read_temperature()
            fine = self._plan.fine_timestamp
            pps_history = chip.counter.pps_history if fine else None
            uplinks = []
            for record in parse.records:
                count_us = chip.expand_timestamp(record.timestamp)  # every record: wrap tracking
                uplink = record_to_uplink(
                    record,
                    self._plan,
                    count_us=count_us,
                    session_id=self._session_id,
                    gw_time=gw_time,
                    temperature_c=temperature_c,
                    pps_history=pps_history,
                )
                if uplink is None:  # the record does not fit the plan: say why (rare)
                    reason = unmappable_reason(record, self._plan) or "unmappable"
                    self._bad_records[reason] += 1
                    self._log.warning(
                        reason, "dropped RX record on IF chain %d: %s", record.if_chain, reason
                    )
                    continue
                uplinks.append(uplink)
            if fine:  # sx1302_hal merges and sorts only in fine-timestamp mode
                uplinks = sort_by_count_us(merge_dual_demod(uplinks))
            for uplink in uplinks:
                self._count(uplink)
            return uplinks

    def stats(self) -> dict[str, Any]:
        """Counters since construction (a snapshot; the daemon derives intervals from it)."""
        with self.lock:
            by_status: Counter[CrcStatus] = Counter()
            per_frequency: Counter[int] = Counter()
            per_channel: Counter[int] = Counter()
            per_sf: Counter[str] = Counter()
            for (status, freq_hz, channel, modulation, sf), n in self._rx_counts.items():
                by_status[status] += n
                per_frequency[freq_hz] += n
                per_channel[channel] += n
                per_sf[f"SF{sf}" if modulation is Modulation.LORA else "FSK"] += n
            return {
                "rx_received": self._rx_received,
                "rx_ok": by_status[CrcStatus.OK],
                "rx_bad_crc": by_status[CrcStatus.BAD],
                "rx_no_crc": by_status[CrcStatus.NONE],
                "bad_records": dict(self._bad_records),
                "rx_per_frequency": dict(per_frequency),
                "rx_per_channel": dict(per_channel),
                "rx_per_sf": dict(per_sf),
                "last_uplink": self._last_uplink,
                "temperature_c": self._temperature_c,
                "session_id": self._session_id,
            }

    def _require_chip(self) -> Any:
        if self._chip is None:
            raise ForwardError("concentrator is not started")
        return self._chip

    def _count_parse_errors(self, errors: dict[str, int]) -> None:
        for kind, count in errors.items():
            if count:
                self._bad_records[kind] += count
                self._log.warning(kind, "RX FIFO: %d bad record(s) of kind %s", count, kind)

    def _read_temperature(self) -> float:
        try:
            value = float(self._temperature_source())
            if not math.isfinite(value):
                raise ValueError(f"temperature is {value}")
        except Exception as exc:  # any sensor failure: keep the last value
            kept = self._temperature_c if self._temperature_c is not None else DEFAULT_TEMPERATURE_C
            self._log.warning(
                "temperature", "temperature read failed (%s); using %.2f °C", exc, kept
            )
            return kept
        self._temperature_c = value
        return value

    def _count(self, uplink: Uplink) -> None:
        self._rx_received += 1
        key = (uplink.crc_status, uplink.freq_hz, uplink.channel, uplink.modulation, uplink.sf)
        self._rx_counts[key] = self._rx_counts.get(key, 0) + 1
        self._last_uplink = uplink.gw_time
