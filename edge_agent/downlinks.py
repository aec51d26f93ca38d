"""Downlinks in the daemon, for every backend: decoded command -> one JIT queue -> TX -> ack.

- A backend's receiving thread (paho's ``on_message``, the UDP reader) only calls
  ``DownlinkPipeline.submit(backend, payload)``: the raw bytes, their backend and arrival time go
  on one queue shared by every backend.
- ``handle_once()`` (the ``downlink`` thread) asks that backend to decode the message into a
  ``DownlinkCommand`` (its wire format stays in the backend), tries the items in order against
  the one ``DownlinkScheduler`` of the radio at the concentrator's counter now, and hands the
  ``TxAck`` (one status per item, IGNORED for those not tried) back to the same backend only. A
  packet of one network that collides with a packet another network queued earlier is refused
  COLLISION_PACKET by the shared JIT queue.
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

from drivers.sx1302.tx import program
from edge_agent.backends.base import Backend, DownlinkCommand, DownlinkDecodeError, LogThrottle
from edge_agent.config import AgentConfig
from edge_agent.errors import ConfigError
from packet_forwarder import downlink
from packet_forwarder.downlink import DownlinkScheduler, ScheduledTx, TxChain
from packet_forwarder.dutycycle import DutyCycleTracker
from packet_forwarder.jit import TX_JIT_DELAY_US, wrap_diff
from packet_forwarder.model import GatewayStats, TxAck, TxStatus
from packet_forwarder.regions import power_gaps

LOGGER = logging.getLogger(__name__)

#: the downlink thread wakes this far (µs) inside a JIT window to program its packet
DISPATCH_MARGIN_US = 300
#: most recent latency samples kept (seconds), for the bench and the logs
LATENCY_SAMPLES = 10_000
#: raw downlink messages waiting for the downlink thread; past it they are dropped and counted
#: (a network server sends a few a second; a flood must not grow the process or delay uplinks)
INBOX_MAX = 256
#: the downlink thread's wait with nothing queued: frames and ``wake()`` end it at once
IDLE_WAIT_S = 1.0
#: at most one log line per this many seconds about a full inbox (every drop is counted)
INBOX_LOG_INTERVAL_S = 10.0
#: downlink messages decoded and scheduled per second at most (a token bucket of one second's
#: worth): one radio emits a few dozen packets a second at best, and each message costs a
#: counter read under the concentrator lock the radio thread needs for uplinks
HANDLE_RATE_PER_S = 200.0


@dataclass(frozen=True, slots=True)
class Latency:
    """One downlink's timeline, on ``time.perf_counter`` seconds."""

    downlink_id: int
    arrived: float
    acked: float
    programmed: float | None = None


def make_scheduler(
    cfg: AgentConfig,
    session_id: Callable[[], int],
    gps_to_count_us: Callable[[int], int | None] | None = None,
) -> DownlinkScheduler:
    """The scheduler for this configuration: TX chains of the plan, region limits, duty cycle;
    ``gps_to_count_us`` resolves GPS-epoch downlinks (None while unlocked: GPS_UNLOCKED)."""
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
        gps_to_count_us=gps_to_count_us,
    )


class DownlinkPipeline:
    """Downlinks of every backend in, acks back to their own backend, TX through the radio."""

    def __init__(
        self,
        cfg: AgentConfig,
        session_id: Callable[[], int],
        gps_to_count_us: Callable[[int], int | None] | None = None,
    ) -> None:
        self.cfg = cfg
        self._session_id = session_id
        self._gps_to_count_us = gps_to_count_us
        self.scheduler = make_scheduler(cfg, session_id, gps_to_count_us)
        self.inbox: queue.Queue[tuple[float, Backend, bytes] | None] = queue.Queue(INBOX_MAX)
        self.latencies: deque[Latency] = deque(maxlen=LATENCY_SAMPLES)
        self.counters = {"frames": 0, "malformed": 0, "refused": 0, "acks": 0, "inbox_dropped": 0}
        self._full_log = LogThrottle(INBOX_LOG_INTERVAL_S)
        self._tokens = HANDLE_RATE_PER_S
        self._refill_at = time.monotonic()
        #: acknowledged items by TxStatus since start (the status document's ``downlinks``)
        self.by_status: dict[str, int] = {status.value: 0 for status in TxStatus}
        self._arrivals: dict[tuple[str, int], Latency] = {}
        self._lock = threading.Lock()
        #: called with (ScheduledTx, perf_counter seconds) right after a TX is programmed
        self.on_programmed: Callable[[ScheduledTx, float], None] | None = None

    # -- a backend's receiving thread: signal only --------------------------------------------

    def submit(self, backend: Backend, payload: bytes) -> None:
        """Queue one raw downlink message of ``backend`` (called from its receiving thread).

        A full inbox drops the message (counted ``inbox_dropped``, logged once per interval) and,
        when the backend's ack budget has room, answers it QUEUE_FULL.
        """
        try:
            self.inbox.put_nowait((time.perf_counter(), backend, payload))
        except queue.Full:
            self._inbox_full(backend, payload)

    def _inbox_full(self, backend: Backend, payload: bytes) -> None:
        self.counters["inbox_dropped"] += 1
        if self._full_log.due():
            LOGGER.warning(
                "%s: downlink inbox full (%d messages): downlink dropped, answered QUEUE_FULL "
                "while the ack budget allows (%d dropped so far)",
                backend.name,
                INBOX_MAX,
                self.counters["inbox_dropped"],
            )
        if not backend.ack_room():
            return  # the ack would be dropped anyway: spare the decode
        try:
            command = backend.decode_downlink(payload)
        except DownlinkDecodeError:
            return
        statuses = (TxStatus.QUEUE_FULL,) * len(command.items)
        with self._lock:
            self.by_status[TxStatus.QUEUE_FULL.value] += len(statuses)
        backend.publish_ack(TxAck(command.downlink_id, statuses))

    # -- downlink thread -----------------------------------------------------------------------

    def handle_once(self, concentrator: Any, timeout: float = 0.1) -> int:
        """Handle every queued message (waiting up to ``timeout`` for the first) within the rate
        budget (``HANDLE_RATE_PER_S``; past it the inbox fills and drops); how many."""
        handled = 0
        block = True
        while True:
            if not self._take_token():
                if block:  # nothing handled yet: wait for the next token, within ``timeout``
                    time.sleep(min(timeout, 1.0 / HANDLE_RATE_PER_S))
                return handled
            try:
                item = self.inbox.get(block=block, timeout=timeout)
            except queue.Empty:
                item = None
            if item is None:  # nothing came, or ``wake()``
                self._tokens += 1.0  # not spent
                return handled
            arrived, backend, payload = item
            block = False
            try:
                self._handle(arrived, backend, payload, concentrator)
            except Exception:  # a bad frame or a radio error must not stop the thread
                LOGGER.exception("%s: downlink handling failed", backend.name)
            handled += 1

    def wake(self) -> None:
        """End the downlink thread's wait now (stop, a restarted radio)."""
        try:
            self.inbox.put_nowait(None)
        except queue.Full:  # a full inbox wakes it anyway
            pass

    def _take_token(self) -> bool:
        now = time.monotonic()
        self._tokens = min(
            HANDLE_RATE_PER_S, self._tokens + (now - self._refill_at) * HANDLE_RATE_PER_S
        )
        self._refill_at = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True

    def _handle(self, arrived: float, backend: Backend, payload: bytes, concentrator: Any) -> None:
        self.counters["frames"] += 1
        try:
            command = backend.decode_downlink(payload)
        except DownlinkDecodeError as exc:
            self.counters["malformed"] += 1
            LOGGER.warning("%s: downlink (%d bytes) dropped: %s", backend.name, len(payload), exc)
            return
        n_items = len(command.items)
        if command.refused is not None:
            self.counters["refused"] += 1
            LOGGER.warning("%s: downlink %d refused: %s", backend.name, command.downlink_id,
                           command.refused)  # fmt: skip
            self._ack(backend, command.downlink_id, [TxStatus.INTERNAL_ERROR] * n_items, arrived)
            return
        if concentrator is None or not getattr(concentrator, "started", True):
            LOGGER.warning("%s: downlink %d: the radio is not up", backend.name,
                           command.downlink_id)  # fmt: skip
            self._ack(backend, command.downlink_id, [TxStatus.INTERNAL_ERROR] * n_items, arrived)
            return
        statuses = self._schedule(backend, command, concentrator)
        self._ack(backend, command.downlink_id, statuses, arrived)

    def _schedule(
        self, backend: Backend, command: DownlinkCommand, concentrator: Any
    ) -> list[TxStatus]:
        statuses = [TxStatus.IGNORED] * len(command.items)
        now_us = concentrator.counter_us()
        for i, request in enumerate(command.items):
            if isinstance(request, str):
                LOGGER.warning("%s: downlink %d item %d: %s", backend.name,
                               command.downlink_id, i, request)  # fmt: skip
                statuses[i] = TxStatus.INTERNAL_ERROR
                continue
            statuses[i] = self.scheduler.schedule(request, now_us)
            if statuses[i] is TxStatus.OK:
                break
        return statuses

    def _ack(
        self, backend: Backend, downlink_id: int, statuses: list[TxStatus], arrived: float
    ) -> None:
        sample = Latency(downlink_id, arrived, time.perf_counter())
        with self._lock:  # before the ack leaves: the packet may be dispatched at once
            for status in statuses:
                self.by_status[status.value] += 1
            if TxStatus.OK in statuses:
                self._arrivals[(backend.name, downlink_id)] = sample
                if len(self._arrivals) > LATENCY_SAMPLES:  # queued packets that were dropped
                    self._arrivals.pop(next(iter(self._arrivals)))
            else:
                self.latencies.append(sample)
        backend.publish_ack(TxAck(downlink_id, tuple(statuses)))
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
            sample = self._pop_arrival(tx.request.downlink_id)
            if sample is not None:
                self.latencies.append(
                    Latency(sample.downlink_id, sample.arrived, sample.acked, done)
                )
        if self.on_programmed is not None:
            self.on_programmed(tx, done)

    def _pop_arrival(self, downlink_id: int) -> Latency | None:
        """The pending sample of a programmed packet (ids are per backend: oldest match)."""
        for key in self._arrivals:
            if key[1] == downlink_id:
                return self._arrivals.pop(key)
        return None

    def idle_timeout_s(self, concentrator: Any, longest_s: float = 0.1) -> float:
        """How long the downlink thread may wait for frames before the next JIT window opens.

        The downlink thread dispatches right after that wait, so a due packet is programmed
        ~1 ms into its window instead of up to one radio poll period (10 ms) later. With nothing
        queued (or no radio) it waits ``IDLE_WAIT_S``: a frame or ``wake()`` ends the wait at once.
        """
        if concentrator is None or not any(len(q) for q in self.scheduler.queues.values()):
            return IDLE_WAIT_S
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

    def build_scheduler(self, cfg: AgentConfig) -> DownlinkScheduler:
        """A scheduler for ``cfg`` (ConfigError when ``[regulation]`` is invalid)."""
        return make_scheduler(cfg, self._session_id, self._gps_to_count_us)

    def reconfigure(self, cfg: AgentConfig, scheduler: DownlinkScheduler | None = None) -> None:
        """A reload: the scheduler rebuilt from ``cfg`` (region limits, TX chains and their gain
        tables, duty cycle) and the marshaler. Queued packets stay when the TX chains did not
        change (a new region or plan restarts the radio, which drops them anyway)."""
        new = scheduler or self.build_scheduler(cfg)
        old = self.scheduler
        if new.chains == old.chains:
            new.queues = old.queues
        else:
            dropped = sum(len(q) for q in old.queues.values())
            if dropped:
                LOGGER.warning("reload: %d queued downlink(s) dropped: the TX chains changed",
                               dropped)  # fmt: skip
        new.stats = old.take_stats()  # the interval's counters carry over to the next stats
        self.cfg = cfg
        self.scheduler = new

    def snapshot(self) -> dict[str, Any]:
        """Acks by status since start, frame counters, and the JIT queues (depth, next TX)."""
        with self._lock:
            by_status = dict(self.by_status)
        queued = [
            (rf_chain, entry)
            for rf_chain, q in self.scheduler.queues.items()
            for entry in q.entries(0)
        ]
        next_tx = None
        if queued:  # the earliest start, relative to the first queued one (the counter wraps)
            ref = queued[0][1].count_us
            rf_chain, entry = min(queued, key=lambda item: wrap_diff(item[1].count_us, ref))
            next_tx = {
                "rf_chain": rf_chain,
                "count_us": entry.count_us,
                "timing": entry.timing.value,
                "airtime_us": entry.airtime_us,
            }
        return {
            "by_status": by_status,
            **self.counters,
            "queue_depth": len(queued),
            "next_tx": next_tx,
        }

    def on_concentrator_start(self) -> None:
        """A (re)started concentrator: queued count_us values belong to the old counter."""
        self.scheduler.reset_queues()

    # -- stats ---------------------------------------------------------------------------------

    def add_stats(self, stats: GatewayStats) -> None:
        """Add the interval's TX counters into ``stats``."""
        self.scheduler.take_stats().add_to(stats)

    def duty_cycle_stats(self, now_s: float | None = None) -> Any:
        """The duty-cycle tracker's ``DutyCycleStats`` (None outside EU868)."""
        tracker = self.scheduler.duty_cycle
        if tracker is None:
            return None
        return tracker.stats(time.monotonic() if now_s is None else now_s)
