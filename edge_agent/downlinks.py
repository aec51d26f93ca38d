"""Downlinks in the daemon: ``command/down`` -> JIT queue -> TX on the chip, ``event/ack`` back.

- The backend's paho ``on_message`` only calls ``DownlinkPipeline.submit(payload)``: the raw
  bytes and their arrival time go on a queue.
- ``handle_once()`` (the ``downlink`` thread) decodes the ``gw.DownlinkFrame`` (protobuf or
  JSON), checks the gateway id, converts the items to ``DownlinkRequest``, tries them in order
  against the ``DownlinkScheduler`` at the concentrator's counter now, and publishes one
  ``gw.DownlinkTxAck`` (one item per frame item, in order, IGNORED for those not tried).
- ``dispatch_once()`` programs the packet whose start is due through the concentrator
  (``packet_forwarder.downlink.dispatch_once``). The radio thread calls it every loop (10 ms);
  the downlink thread also calls it when it wakes at a JIT window (``idle_timeout_s``), so a
  packet is programmed within ~1 ms of its window opening. Both take the concentrator lock, and a
  packet leaves the queue atomically, so it is programmed once.
See docs/downlinks.md.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chirpstack_api import common, gw
from google.protobuf import json_format
from google.protobuf.message import DecodeError

from drivers.sx1302.tx import program
from edge_agent.config import AgentConfig
from edge_agent.errors import ConfigError
from packet_forwarder import downlink
from packet_forwarder.downlink import DownlinkScheduler, ScheduledTx, TxChain
from packet_forwarder.dutycycle import DutyCycleTracker
from packet_forwarder.jit import TX_JIT_DELAY_US, wrap_diff
from packet_forwarder.model import DownlinkRequest, GatewayStats, Modulation, Timing, TxStatus
from packet_forwarder.regions import power_gaps

LOGGER = logging.getLogger(__name__)

_CODE_RATES = {gw.CodeRate.CR_4_5: "4/5", gw.CodeRate.CR_4_6: "4/6",
               gw.CodeRate.CR_4_7: "4/7", gw.CodeRate.CR_4_8: "4/8"}  # fmt: skip
#: the downlink thread wakes this far (µs) inside a JIT window to program its packet
DISPATCH_MARGIN_US = 300
#: most recent latency samples kept (seconds), for the bench and the logs
LATENCY_SAMPLES = 10_000


class FrameError(ValueError):
    """A downlink frame item that cannot be turned into a DownlinkRequest."""


@dataclass(frozen=True, slots=True)
class Latency:
    """One downlink's timeline, on ``time.perf_counter`` seconds."""

    downlink_id: int
    arrived: float
    acked: float
    programmed: float | None = None


def make_scheduler(cfg: AgentConfig, session_id: Callable[[], int]) -> DownlinkScheduler:
    """The scheduler for this configuration: TX chains of the plan, region limits, duty cycle."""
    conc = cfg.concentrator
    chains = [
        TxChain(i, r.tx_freq_min_hz, r.tx_freq_max_hz, r.tx_gain_lut)
        for i, r in enumerate(conc.plan.radios)
        if r.enable and r.tx_enable
    ]
    preset = conc.preset
    enforce = cfg.regulation.get("enforce_duty_cycle", preset.name == "EU868")
    if not isinstance(enforce, bool):
        raise ConfigError(
            "regulation.enforce_duty_cycle", f"must be true or false, got {enforce!r}"
        )
    rules = preset.rules
    duty = DutyCycleTracker(rules.sub_bands, enforce=enforce) if rules.duty_cycle else None
    for chain in chains:  # issue 11.5: say when the antenna gain leaves no usable entry
        for gap in power_gaps(preset, chain.tx_gain_lut, conc.antenna_gain_dbi):
            LOGGER.warning("RF chain %d: %s", chain.rf_chain, gap)
    return DownlinkScheduler(
        chains,
        session_id,
        antenna_gain_dbi=conc.antenna_gain_dbi,
        region_freq_range_hz=(preset.tx_freq_min_hz, preset.tx_freq_max_hz),
        rules=rules,
        duty_cycle=duty,
    )


def decode_frame(payload: bytes, marshaler: str) -> gw.DownlinkFrame:
    """Parse a ``command/down`` payload (protobuf, or JSON when the agent marshals JSON)."""
    frame = gw.DownlinkFrame()
    if marshaler == "json" or payload.lstrip().startswith(b"{"):
        json_format.Parse(payload.decode(), frame, ignore_unknown_fields=True)
    else:
        frame.ParseFromString(payload)
    return frame


def item_to_request(downlink_id: int, item: gw.DownlinkFrameItem) -> DownlinkRequest:
    """One ``DownlinkFrameItem`` as a DownlinkRequest; FrameError when it cannot be."""
    info = item.tx_info
    common: dict[str, Any] = dict(
        downlink_id=downlink_id,
        phy_payload=bytes(item.phy_payload),
        freq_hz=info.frequency,
        power_dbm=float(info.power),
        board=info.board,
        antenna=info.antenna,
    )
    mod = info.modulation.WhichOneof("parameters")
    if mod == "lora":
        lora = info.modulation.lora
        if lora.code_rate not in _CODE_RATES:
            raise FrameError(f"unsupported code rate {gw.CodeRate.Name(lora.code_rate)}")
        common.update(
            modulation=Modulation.LORA,
            bandwidth_hz=lora.bandwidth,
            sf=lora.spreading_factor,
            code_rate=_CODE_RATES[lora.code_rate],
            iq_inverted=lora.polarization_inversion,
            preamble=lora.preamble,
            no_crc=lora.no_crc,
        )
    elif mod == "fsk":
        fsk = info.modulation.fsk
        common.update(
            modulation=Modulation.FSK,
            sf=0,
            code_rate="",
            datarate_bps=fsk.datarate,
            freq_deviation_hz=fsk.frequency_deviation,
            no_crc=False,
        )
    else:
        raise FrameError(f"unsupported modulation {mod!r}")
    timing = info.timing.WhichOneof("parameters")
    if timing == "delay":
        delay = info.timing.delay.delay
        delay_us = delay.seconds * 1_000_000 + delay.nanos // 1000
        return DownlinkRequest(
            **common, timing=Timing.DELAY, context=bytes(info.context), delay_us=delay_us
        )
    if timing == "immediately":
        return DownlinkRequest(**common, timing=Timing.IMMEDIATELY)
    if timing == "gps_epoch":
        since = info.timing.gps_epoch.time_since_gps_epoch
        gps_us = since.seconds * 1_000_000 + since.nanos // 1000
        return DownlinkRequest(**common, timing=Timing.GPS_EPOCH, gps_epoch_us=gps_us)
    raise FrameError("no timing")


class DownlinkPipeline:
    """command/down in, event/ack out, TX through the concentrator."""

    def __init__(
        self,
        cfg: AgentConfig,
        gateway_id: Callable[[], str | None],
        publish_ack: Callable[[bytes], None],
        session_id: Callable[[], int],
    ) -> None:
        self.cfg = cfg
        self.scheduler = make_scheduler(cfg, session_id)
        self.inbox: queue.Queue[tuple[float, bytes]] = queue.Queue()
        self.latencies: deque[Latency] = deque(maxlen=LATENCY_SAMPLES)
        self.counters = {"frames": 0, "malformed": 0, "wrong_gateway": 0, "acks": 0}
        self._gateway_id = gateway_id
        self._publish_ack = publish_ack
        self._arrivals: dict[int, Latency] = {}
        self._lock = threading.Lock()
        #: called with (ScheduledTx, perf_counter seconds) right after a TX is programmed
        self.on_programmed: Callable[[ScheduledTx, float], None] | None = None

    # -- paho side: signal only --------------------------------------------------------------

    def submit(self, payload: bytes) -> None:
        """Queue one raw ``command/down`` payload (called from paho's on_message)."""
        self.inbox.put((time.perf_counter(), payload))

    # -- downlink thread -----------------------------------------------------------------------

    def handle_once(self, concentrator: Any, timeout: float = 0.1) -> int:
        """Handle every queued frame (waiting up to ``timeout`` for the first); how many."""
        handled = 0
        block = True
        while True:
            try:
                arrived, payload = self.inbox.get(block=block, timeout=timeout)
            except queue.Empty:
                return handled
            block = False
            try:
                self._handle(arrived, payload, concentrator)
            except Exception:  # a bad frame or a radio error must not stop the thread
                LOGGER.exception("downlink frame handling failed")
            handled += 1

    def _handle(self, arrived: float, payload: bytes, concentrator: Any) -> None:
        self.counters["frames"] += 1
        try:
            frame = decode_frame(payload, self.cfg.mqtt.marshaler)
        except (DecodeError, json_format.ParseError, UnicodeDecodeError, ValueError) as exc:
            self.counters["malformed"] += 1
            LOGGER.warning("malformed command/down payload (%d bytes) dropped: %s",
                           len(payload), exc)  # fmt: skip
            return
        ours = self._gateway_id()
        n_items = max(1, len(frame.items))
        if frame.gateway_id.lower() != (ours or "").lower():
            self.counters["wrong_gateway"] += 1
            LOGGER.warning("downlink %d for gateway %r, we are %r: refused", frame.downlink_id,
                           frame.gateway_id, ours)  # fmt: skip
            self._ack(frame.downlink_id, [TxStatus.INTERNAL_ERROR] * n_items, arrived)
            return
        if not frame.items:
            LOGGER.warning("downlink %d has no items: refused", frame.downlink_id)
            self._ack(frame.downlink_id, [TxStatus.INTERNAL_ERROR], arrived)
            return
        if concentrator is None or not getattr(concentrator, "started", True):
            LOGGER.warning("downlink %d: the radio is not up", frame.downlink_id)
            self._ack(frame.downlink_id, [TxStatus.INTERNAL_ERROR] * n_items, arrived)
            return
        self._ack(frame.downlink_id, self._schedule(frame, concentrator), arrived)

    def _schedule(self, frame: gw.DownlinkFrame, concentrator: Any) -> list[TxStatus]:
        statuses = [TxStatus.IGNORED] * len(frame.items)
        now_us = concentrator.counter_us()
        for i, item in enumerate(frame.items):
            try:
                request = item_to_request(frame.downlink_id, item)
            except FrameError as exc:
                LOGGER.warning("downlink %d item %d: %s", frame.downlink_id, i, exc)
                statuses[i] = TxStatus.INTERNAL_ERROR
                continue
            statuses[i] = self.scheduler.schedule(request, now_us)
            if statuses[i] is TxStatus.OK:
                break
        return statuses

    def _ack(self, downlink_id: int, statuses: list[TxStatus], arrived: float) -> None:
        ack = gw.DownlinkTxAck(gateway_id=self._gateway_id() or "", downlink_id=downlink_id)
        for status in statuses:
            ack.items.add(status=gw.TxAckStatus.Value(status.value))
        if self.cfg.mqtt.marshaler == "json":
            body = json_format.MessageToJson(
                ack, indent=None, always_print_fields_with_no_presence=True
            ).encode()
        else:
            body = ack.SerializeToString()
        sample = Latency(downlink_id, arrived, time.perf_counter())
        with self._lock:  # before the ack leaves: the packet may be dispatched at once
            if TxStatus.OK in statuses:
                self._arrivals[downlink_id] = sample
                if len(self._arrivals) > LATENCY_SAMPLES:  # queued packets that were dropped
                    self._arrivals.pop(next(iter(self._arrivals)))
            else:
                self.latencies.append(sample)
        self._publish_ack(body)
        self.counters["acks"] += 1

    # -- radio thread --------------------------------------------------------------------------

    def dispatch_once(self, concentrator: Any) -> ScheduledTx | None:
        """Program the next due TX, if any, under the concentrator lock."""
        if not any(len(q) for q in self.scheduler.queues.values()):
            return None  # nothing queued: no counter read
        with concentrator.lock:
            now_us = concentrator.counter_us()
            return downlink.dispatch_once(
                self.scheduler,
                now_us,
                concentrator.tx_status,
                lambda tx: self._send(concentrator, tx),
            )

    def _send(self, concentrator: Any, tx: ScheduledTx) -> None:
        lorawan_public = concentrator.plan.lorawan_public
        concentrator.send(program(tx.tx_request(lorawan_public)))
        done = time.perf_counter()
        with self._lock:
            sample = self._arrivals.pop(tx.request.downlink_id, None)
            if sample is not None:
                self.latencies.append(
                    Latency(sample.downlink_id, sample.arrived, sample.acked, done)
                )
        if self.on_programmed is not None:
            self.on_programmed(tx, done)

    def idle_timeout_s(self, concentrator: Any, longest_s: float = 0.1) -> float:
        """How long the downlink thread may wait for frames before the next JIT window opens.

        The downlink thread dispatches right after that wait, so a due packet is programmed
        ~1 ms into its window instead of up to one radio poll period (10 ms) later.
        """
        if concentrator is None or not any(len(q) for q in self.scheduler.queues.values()):
            return longest_s
        try:
            with concentrator.lock:
                now_us = concentrator.counter_us()
        except Exception as exc:  # a radio error must not end the downlink thread
            LOGGER.debug("counter read for the downlink wake-up failed: %s", exc)
            return longest_s
        aheads = [
            wrap_diff(e.count_us, now_us)
            for q in self.scheduler.queues.values()
            for e in q.entries(now_us)
        ]
        if not aheads:
            return longest_s
        wait_us = min(aheads) - (TX_JIT_DELAY_US - DISPATCH_MARGIN_US)
        return min(longest_s, max(0.0, wait_us / 1e6))

    def on_concentrator_start(self) -> None:
        """A (re)started concentrator: queued count_us values belong to the old counter."""
        self.scheduler.reset_queues()

    # -- stats ---------------------------------------------------------------------------------

    def add_stats(self, stats: GatewayStats) -> None:
        """Add the interval's TX counters into ``stats``."""
        self.scheduler.take_stats().add_to(stats)

    def fill_duty_cycle(self, msg: gw.GatewayStats) -> None:
        """Set ``msg.duty_cycle_stats`` from the tracker (EU868 only)."""
        stats = self.duty_cycle_stats()
        if stats is None:
            return
        dc = msg.duty_cycle_stats
        if "300_220" in stats.regulation:
            dc.regulation = common.Regulation.ETSI_EN_300_220
        dc.window.FromMicroseconds(stats.window_us)
        for band in stats.bands:
            out = dc.bands.add(name=band.name, frequency_min=band.frequency_min,
                               frequency_max=band.frequency_max)  # fmt: skip
            out.load_max.FromMicroseconds(band.load_max_us)
            out.load_tracked.FromMicroseconds(band.load_tracked_us)

    def duty_cycle_stats(self, now_s: float | None = None) -> Any:
        """The duty-cycle tracker's ``DutyCycleStats`` (None outside EU868)."""
        tracker = self.scheduler.duty_cycle
        if tracker is None:
            return None
        return tracker.stats(time.monotonic() if now_s is None else now_s)
