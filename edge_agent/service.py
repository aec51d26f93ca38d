"""The daemon: wiring, threads, start/stop.

Threads: one radio thread owns the concentrator (start with retry, ``poll_once`` at the
concentrator's adaptive period: 6 ms while packets arrive, 50 ms when the air is quiet);
each backend's sender thread owns its connection; the main thread waits for a signal or,
with ``[concentrator.sim] exit_when_done``, for the scenario to be played and confirmed. The
radio may fail and be restarted (``edge_agent.radio_health`` decides; tenacity backoff) while
MQTT presence stays up; stats are published only while the radio runs.

The service knows backends only through ``edge_agent.backends.base.Backend`` and the neutral
model: it routes each ``Uplink`` to every backend whose filter admits it (each encodes and
queues it in its own spool FIFO), builds one neutral ``StatsReport`` per backend and period, and
shares one downlink pipeline (one JIT queue per radio) between them.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs, urlsplit

import tenacity

from edge_agent.backends.base import Backend, StatsReport
from edge_agent.backends.registry import backend_class, open_backend
from edge_agent.config import AgentConfig, BackendConfig
from edge_agent.downlinks import DownlinkPipeline
from edge_agent.gateway_control import GatewayControl
from edge_agent.gateway_properties import gateway_properties
from edge_agent.intervals import IntervalStats
from edge_agent.radio_health import RadioHealth
from edge_agent.router import parse_header
from edge_agent.rxstats import RxTracker
from edge_agent.store.daemon import DaemonStores
from edge_agent.store.protocol import UplinkStore
from edge_agent.supervision import Heartbeat, Supervisor
from packet_forwarder.model import CrcStatus, Uplink

if TYPE_CHECKING:
    from drivers.sx1302.plan import ChipPlan

LOGGER = logging.getLogger(__name__)

POLL_INTERVAL_S = 0.010
#: a poll that read this many packets found a backlog: the radio loop polls again at once
#: (at the radio's 400/s peak a 6 ms poll reads 2-3; 16 SF7 records are ~600 of the FIFO's
#: 4,096 bytes)
BACKLOG_BATCH = 16
#: SIGTERM: how long pending uplinks may take to reach the broker (TimeoutStopSec is 30 s)
DRAIN_TIMEOUT_S = 10.0
#: the main thread's period when no scenario run waits for its end (reloads and stops are also
#: signalled; a state change reaches systemd's STATUS within this)
MAIN_TICK_S = 0.25
#: at most one logged poll error per this many seconds (they are all counted)
ERROR_LOG_INTERVAL_S = 10.0


class ConcentratorLike(Protocol):
    """What the service (and its downlinks and supervision) needs from
    ``packet_forwarder.concentrator.Concentrator`` (or ``edge_agent.radio_gps.GpsConcentrator``).
    Optional extras read with ``getattr``: ``started``, ``model``, ``version``, ``location``."""

    #: serialises chip accesses: the radio thread's polls and the downlink dispatcher
    lock: threading.RLock
    session_id: int
    eui: int | None
    exhausted: bool
    plan: ChipPlan

    def start(self) -> None: ...
    def poll_once(self) -> list[Uplink]: ...
    def counter_us(self) -> int: ...
    def tx_status(self, rf_chain: int) -> str: ...
    def send(self, program: Any) -> None: ...
    def stop(self) -> None: ...
    def close(self) -> None: ...
    def stats(self) -> dict[str, Any]: ...


def transport_options(cfg: AgentConfig) -> dict[str, Any]:
    """Options for ``drivers.open_transport``: for ``sim://``, the ``[concentrator.sim]`` keys
    (but ``exit_when_done``, which is ours) plus the RSSI calibration the simulator inverts."""
    conc = cfg.concentrator
    if urlsplit(conc.url).scheme.removeprefix("spy+") != "sim":
        return {}
    radio = conc.plan.radios[0]
    options: dict[str, Any] = dict(conc.sim.options)
    options.update(
        rssi_offset_db=radio.rssi_offset_db,
        rssi_tcomp=radio.rssi_tcomp,
        temperature_c=conc.temperature_c,
    )
    if conc.sim.scenario is not None:
        options["scenario"] = conc.sim.scenario
    if conc.sim.tx_log is not None:
        options["tx_log"] = conc.sim.tx_log
    options["plan"] = conc.plan  # the simulator decodes TX power through its TX gain tables
    return options


def scenario_error(cfg: AgentConfig) -> str | None:
    """Under ``exit_when_done``, why the ``sim://`` scenario cannot be played (file and line, one
    line), else None: such a run plays nothing, so the error is fatal at start (issue 14.3)."""
    conc = cfg.concentrator
    url = urlsplit(conc.url)
    if not conc.sim.exit_when_done or url.scheme.removeprefix("spy+") != "sim":
        return None
    path = conc.sim.scenario or next(iter(parse_qs(url.query).get("scenario", [])), None)
    if not path:
        return None
    from drivers.sim.scenario import ScenarioError, load_scenario

    try:
        load_scenario(path)
    except ScenarioError as exc:
        return str(exc).replace("\r", "\\r").replace("\n", "\\n")
    return None


def open_concentrator(cfg: AgentConfig, *, world: Any = None) -> ConcentratorLike:
    """Open the transport named by ``[concentrator] url`` and wrap it in a Concentrator.

    ``world`` (a ``drivers.sim.SimWorld``) keeps a simulated chip, its scenario clock and its
    faults across reopenings; real hardware ignores it."""
    from drivers import open_transport
    from edge_agent.radio_setup import radio_setup
    from packet_forwarder.concentrator import Concentrator

    conc = cfg.concentrator
    # the device first: a missing SPI/USB device is the more basic fault to report
    options = transport_options(cfg)
    if options and world is not None:
        options["world"] = world
    transport = open_transport(conc.url, trace=conc.trace, **options)
    try:
        setup = radio_setup(cfg)  # board reset, thermometer, firmware (docs/hardware.md)
    except BaseException:
        transport.close()
        raise
    concentrator = Concentrator(
        transport,
        conc.plan,
        temperature_c=setup.temperature_for(transport, conc.url),
        chip_factory=setup.new_chip,  # board reset, then the driver, at every start
        on_close=setup.close,  # the board thermometer's I2C bus
    )
    wrapped = setup.wrap(concentrator, cfg)  # GPS time and location when [gps] tty is set
    sim_chip = getattr(transport, "sim", None)
    if sim_chip is not None and hasattr(wrapped, "use_sim_gps"):
        wrapped.use_sim_gps(sim_chip)  # [gps] tty = "sim://gps": the simulator's GPS persona
    return wrapped


@dataclass(slots=True)
class ServiceCounters:
    """Totals since start, for the exit summary and the logs. Written by the radio thread
    only, but ``radio_errors`` (also counted by the downlink thread), which changes under
    ``AgentService._lock``; other threads only read them."""

    received: int = 0
    forwarded: int = 0
    filtered: int = 0
    radio_errors: int = 0
    radio_starts: int = 0


class AgentService:
    """The whole daemon for one concentrator and its backends (``[[backend]]``)."""

    def __init__(
        self,
        cfg: AgentConfig,
        *,
        concentrator_factory: Callable[[AgentConfig], ConcentratorLike] = open_concentrator,
        clock: Callable[[], float] = time.time,
        config_path: str | None = None,
    ) -> None:
        self.cfg = cfg
        self.config_path = config_path  # re-read on SIGHUP
        self.rx = RxTracker()
        self.heartbeat = Heartbeat()
        #: the radio's state from facts: failed polls, a lost configuration, restarts
        self.health = RadioHealth(cfg.concentrator.radio_fail_restart_after_s)
        self._reload = threading.Event()
        self._radio_restart = threading.Event()
        self.clock = clock
        self.counters = ServiceCounters()
        # the spool (one FIFO per backend), or the memory fallback
        self.uplinks = DaemonStores(cfg.spool, clock=clock)
        self.gateway_id: str | None = cfg.gateway.id
        self.radio_ready = threading.Event()
        #: a simulated source is fully played and every packet it gave was routed
        self.drained = threading.Event()
        #: the simulated world (chip, scenario clock, faults) kept across radio restarts
        self.sim_world: Any = None
        if concentrator_factory is open_concentrator:  # one simulated world per daemon
            from drivers.sim import SimWorld

            world = self.sim_world = SimWorld()
            concentrator_factory = lambda c: open_concentrator(c, world=world)  # noqa: E731
        self._factory = concentrator_factory
        self._concentrator: ConcentratorLike | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()  # guards counters.radio_errors (two writing threads)
        self._threads: list[threading.Thread] = []
        self._last_error_log = 0.0
        # one pipeline, one JIT queue per radio, shared by every backend; acks go back to the
        # backend a downlink came from
        self.downlinks = DownlinkPipeline(cfg, self._session_id, self._gps_to_count_us)
        self.intervals = IntervalStats(self.downlinks.add_stats)
        self._forwarded_seen: dict[str, int] = {}
        self._backends_lock = threading.Lock()
        self.control = GatewayControl(self)  # command/exec, command/config (issue 13)
        self.cfg = self.control.overlay(cfg)  # a channel plan the network server set
        self.backends: list[Backend] = [self._new_backend(b) for b in cfg.backends]
        self._parse_headers = self._needs_headers()

    # -- backends --------------------------------------------------------------------------

    def _new_backend(self, backend_cfg: BackendConfig) -> Backend:
        limit = backend_class(backend_cfg.type).memory_queue_records(backend_cfg)
        backend = open_backend(backend_cfg, self.uplinks.store(backend_cfg.name, limit))
        backend.downlink_sink = self.downlinks.submit
        backend.control = self.control
        backend.gateway_id = self.gateway_id  # known from the config, or at the radio's start
        return backend

    def _needs_headers(self) -> bool:
        """True when some backend filters on the LoRaWAN header (else it is never parsed)."""
        return any(b.filter.lorawan_only or b.filter.identifies for b in self.backends)

    @property
    def backend(self) -> Backend:
        """The first backend (the only one of a legacy ``[mqtt]`` configuration)."""
        return self.backends[0]

    @property
    def store(self) -> UplinkStore:
        """The first backend's FIFO."""
        return self.backends[0].store

    # -- life cycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Start the radio and stats threads; MQTT starts now when the gateway id is known."""
        if self.gateway_id is not None:
            for backend in self.backends:
                backend.start(self.gateway_id)
        threads = ((self._radio_main, "radio"), (self._stats_main, "stats"),
                   (self._downlink_main, "downlink"))  # fmt: skip
        for target, name in threads:
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def threads(self) -> list[threading.Thread]:
        """The daemon's own threads (radio, stats); each backend's sender is ``running``."""
        return list(self._threads)

    @property
    def concentrator(self) -> ConcentratorLike | None:
        """The current concentrator (None before the first open)."""
        return self._concentrator

    @property
    def stopping(self) -> bool:
        """True once a stop was requested."""
        return self._stop.is_set()

    def restart_backend(self) -> None:
        """Replace every backend with a new client from ``cfg`` (pending uplinks stay queued)."""
        self.apply_backends(restart_all=True)

    def apply_backends(self, *, restart_all: bool = False) -> dict[str, str]:
        """Match the running backends to ``cfg``: keep the unchanged ones, swap the filter of
        those whose only change is their filters, restart the changed ones on their own FIFO,
        stop the removed ones and start the new ones. Returns ``{name: what happened}``."""
        if self.cfg.gateway.id is not None:
            self.gateway_id = self.cfg.gateway.id
        old = {b.name: b for b in self.backends}
        actions: dict[str, str] = {}
        backends: list[Backend] = []
        for backend_cfg in self.cfg.backends:
            running = old.pop(backend_cfg.name, None)
            same = running is not None and running.cfg == backend_cfg and not restart_all
            if running is not None and same:
                backends.append(running)
                actions[running.name] = "unchanged"
                continue
            if (
                running is not None
                and not restart_all
                and _only_filters_differ(running.cfg, backend_cfg)
            ):
                running.cfg = backend_cfg
                running.filter = type(running.filter).from_config(backend_cfg.filters)
                backends.append(running)
                actions[running.name] = "filters replaced"
                continue
            if running is not None:
                running.stop()
                running.store.rewind()  # records the old client had in flight are sent again
            backend = self._new_backend(backend_cfg)
            backends.append(backend)
            actions[backend.name] = "restarted" if running is not None else "added"
            if self.gateway_id is not None:
                backend.start(self.gateway_id)
        for name, removed in old.items():
            removed.stop()
            actions[name] = "removed (its pending uplinks stay in the spool)"
        with self._backends_lock:
            self.backends = backends
            self._parse_headers = self._needs_headers()
        return actions

    def restart_radio(self) -> None:
        """Ask the radio thread to stop the concentrator and start a new one from ``cfg``."""
        self._radio_restart.set()

    def stop(self, drain_timeout_s: float = 0.0) -> None:
        """Stop the radio, optionally wait for pending uplinks, publish OFFLINE. Idempotent."""
        self._stop.set()
        self.downlinks.wake()
        for thread in self._threads:
            thread.join(5.0)
        self._threads.clear()
        connected = [b.name for b in self.backends if b.connected.is_set()]
        if drain_timeout_s > 0 and connected:
            self.uplinks.wait_empty(drain_timeout_s, connected)
        for backend in self.backends:
            backend.stop()
        self.uplinks.close()  # after the backends: commits the memory tail, logs the summary

    @property
    def done(self) -> bool:
        """The simulated scenario is played, polled and every forwarded uplink confirmed."""
        return self.radio_ready.is_set() and self.drained.is_set() and self.uplinks.pending() == 0

    def run(self) -> int:
        """Run until SIGTERM/SIGINT or, with ``exit_when_done``, until the scenario is done
        (exit 2 at once when that scenario cannot be loaded)."""
        error = scenario_error(self.cfg)
        if error is not None:
            print(f"edge-agent: scenario error: {error}", file=sys.stderr, flush=True)
            return 2
        handler = lambda signum, _frame: self._on_signal(signum)  # noqa: E731
        signals = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
        old = {s: signal.signal(s, handler) for s in signals}
        supervisor = Supervisor(self)
        try:
            self.start()
            supervisor.start()
            exit_when_done = self.cfg.concentrator.sim.exit_when_done
            # the main thread only reloads, reports state changes and ends scenario runs: a
            # signal wakes it (``_on_signal`` sets these events), so it ticks at 4 Hz, 20 Hz only
            # while a scenario run waits for its end
            tick_s = 0.05 if exit_when_done else MAIN_TICK_S
            while not self._stop.wait(tick_s):
                if self._reload.is_set():
                    self._reload.clear()
                    supervisor.reload(self.config_path)
                supervisor.poll_once()
                if exit_when_done and self.done:
                    break
            finished = exit_when_done and self.done
            supervisor.stopping()
            self.stop(drain_timeout_s=2.0 if exit_when_done else DRAIN_TIMEOUT_S)
            if exit_when_done:
                print(self.summary(finished=finished), flush=True)
            return 0 if finished or not exit_when_done else 1
        finally:
            supervisor.close()
            for sig, prev in old.items():
                signal.signal(sig, prev)

    def _on_signal(self, signum: int) -> None:
        if signum == signal.SIGHUP:
            LOGGER.info("received SIGHUP: reloading %s", self.config_path)
            self._reload.set()
            return
        LOGGER.info("received %s: stopping", signal.Signals(signum).name)
        self._stop.set()

    def summary(self, *, finished: bool = True) -> str:
        """The one-line exit summary (``done:``, or ``stopped early:`` when not finished)."""
        c = self.counters
        dropped = self.uplinks.stats()["dropped"]
        state = "done" if finished else "stopped early"
        return (
            f"edge-agent: {state}: {c.received} packets played, {c.forwarded} uplinks forwarded, "
            f"{c.filtered} filtered, {dropped} dropped"
        )

    # -- radio -----------------------------------------------------------------------------

    @property
    def radio_error(self) -> str | None:
        """Why the radio is not running (None while it runs)."""
        return None if self.health.running else self.health.snapshot()["last_error"]

    def _radio_main(self) -> None:
        while not self._stop.is_set():
            self._radio_restart.clear()
            try:
                self._start_concentrator()
            except tenacity.RetryError:
                self._close_concentrator()  # its device is released either way
                if self._stop.is_set():
                    return  # stopping before the radio ever came up
                self._concentrator = None  # reloaded while retrying: start over from the new cfg
                continue
            delay = getattr(self._concentrator, "next_poll_delay_s", None)  # adaptive
            while not self._stop.is_set() and not self._radio_restart.is_set():
                count = self.radio_once()  # beats the heartbeat when the poll succeeded
                self._dispatch_downlinks()
                if self.health.restart_due():  # failing too long, or the chip lost its setup
                    self._radio_restart.set()
                    break
                if count == 0 and self._concentrator is not None and self._concentrator.exhausted:
                    # after an empty poll: everything read before was routed by this thread
                    self.drained.set()
                if count >= BACKLOG_BATCH:
                    continue  # a backlog (a burst, a full FIFO): read again at once
                # a plain sleep, also after a small batch (what arrives meanwhile waits in the
                # FIFO, read in one batch): time.sleep wakes for a fraction of Event.wait's CPU,
                # and stop is noticed within one period (issue 15, docs/performance.md)
                time.sleep(delay() if delay is not None else POLL_INTERVAL_S)
            self._stop_concentrator()

    def _stop_concentrator(self) -> None:
        # stopping, reloading or restarting after a fault: this concentrator is done, so its
        # device is closed (a vanished USB device is reopened by the next start)
        self.radio_ready.clear()
        self.downlinks.wake()  # its wait began with this radio: the next one waits without it
        self._close_concentrator()
        if self._radio_restart.is_set():  # the next start opens a new one from cfg
            self._concentrator = None

    def _close_concentrator(self) -> None:
        """Stop the chip and close its transport (and GPS reader); the object keeps its stats."""
        conc = self._concentrator
        if conc is not None:
            try:
                conc.close()
            except Exception as exc:  # a faulty chip fails its stop: the device is closed anyway
                LOGGER.warning("concentrator close: %s", exc)

    def _retry_sleep(self, seconds: float) -> None:
        """Wait before the next start attempt, beating the heartbeat (a restart is active)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0 and not self._radio_interrupted():
            self.heartbeat.beat()
            self._stop.wait(min(left, 1.0))

    def _radio_interrupted(self) -> bool:
        return self._stop.is_set() or self._radio_restart.is_set()

    def _on_radio_retry(self, state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        delay = state.next_action.sleep if state.next_action else 0
        self.health.start_failed(exc or RuntimeError("unknown error"), delay)
        # a failed start leaves a half-open device: close it, the next attempt reopens it
        self._close_concentrator()
        self._concentrator = None

    def _start_concentrator(self) -> None:
        # a reload may have changed the threshold: it takes effect with the radio's restart
        self.health.fail_restart_after_s = self.cfg.concentrator.radio_fail_restart_after_s
        retrying = tenacity.Retrying(
            wait=tenacity.wait_exponential(multiplier=1, min=1, max=60),
            stop=lambda _state: self._radio_interrupted(),
            sleep=self._retry_sleep,
            before_sleep=self._on_radio_retry,
        )
        for attempt in retrying:
            with attempt:
                self.heartbeat.beat()
                self.counters.radio_starts += 1
                self.health.start_attempt()
                if self._concentrator is None:
                    self._concentrator = self._factory(self.cfg)
                self._concentrator.start()
        self.downlinks.on_concentrator_start()
        conc = self._concentrator
        assert conc is not None
        if self.gateway_id is None:
            self.gateway_id = f"{conc.eui:016x}"
            for backend in self.backends:
                backend.start(self.gateway_id)
        LOGGER.info("concentrator up: gateway %s, session %08x", self.gateway_id, conc.session_id)
        self.heartbeat.beat()
        self.health.started()
        self.radio_ready.set()
        self.downlinks.wake()  # its wait began without a radio: take frames with this one

    def radio_once(self) -> int:
        """Poll the concentrator once and route what it received; returns how many packets.

        A successful poll beats the heartbeat; a failed one is counted (``RadioHealth``), and
        about once a second a running chip is checked for a lost configuration."""
        conc = self._concentrator
        if conc is None:
            return 0
        try:
            uplinks = conc.poll_once()
            lost = self._configuration_lost(conc) if self.health.config_check_due() else None
        except Exception as exc:
            with self._lock:
                self.counters.radio_errors += 1
            self.health.poll_failed(exc)
            now = time.monotonic()
            if now - self._last_error_log >= ERROR_LOG_INTERVAL_S:
                self._last_error_log = now
                errors = self.counters.radio_errors
                LOGGER.error("radio poll failed (%d errors so far): %s", errors, exc)
            return 0
        self.heartbeat.beat()
        self.health.poll_ok()
        if lost is not None:
            self.health.reset_detected(lost)
        taken = [False] * len(self.backends)  # one wake-up per backend for the whole batch
        try:
            for uplink in uplinks:
                self.route(uplink, taken=taken)
        finally:
            for backend, took in zip(self.backends, taken, strict=True):
                if took:
                    backend.wake()
        return len(uplinks)

    @staticmethod
    def _configuration_lost(conc: ConcentratorLike) -> str | None:
        check = getattr(conc, "configuration_lost", None)
        return check() if callable(check) else None

    def route(self, uplink: Uplink, *, taken: list[bool] | None = None) -> bool:
        """Count one received packet and hand it to every backend whose filter admits it;
        True when at least one did. With ``taken`` the senders are not woken: the index of each
        backend that took it is marked there, and the caller wakes those once per batch."""
        self.counters.received += 1
        self.rx.add(uplink)
        self.intervals.count_rx(uplink, uplink.crc_status is CrcStatus.OK)
        assert self.gateway_id is not None
        backends = self.backends
        header = parse_header(uplink.phy_payload) if self._parse_headers else None
        any_taken = False
        for index, backend in enumerate(backends):
            if backend.offer(uplink, header, wake=taken is None):
                any_taken = True
                if taken is not None:
                    taken[index] = True
        if not any_taken:
            self.counters.filtered += 1
            return False
        self.counters.forwarded += 1
        return True

    # -- downlinks (edge_agent/downlinks.py) ---------------------------------------------------

    def _session_id(self) -> int:
        conc = self._concentrator
        return conc.session_id if conc is not None else 0

    def _gps_to_count_us(self, gps_epoch_us: int) -> int | None:
        """The running concentrator's counter at a GPS-epoch time (None without a GPS lock)."""
        convert = getattr(self._concentrator, "gps_to_count_us", None)
        return convert(gps_epoch_us) if callable(convert) else None

    def _downlink_main(self) -> None:
        while not self._stop.is_set():
            conc = self._concentrator if self.radio_ready.is_set() else None
            self.downlinks.handle_once(conc, timeout=self.downlinks.idle_timeout_s(conc))
            self._dispatch_downlinks()

    def _dispatch_downlinks(self) -> None:
        conc = self._concentrator
        if conc is None or not self.radio_ready.is_set():
            return
        try:
            self.downlinks.dispatch_once(conc)
        except Exception as exc:
            with self._lock:  # the radio and downlink threads both dispatch
                self.counters.radio_errors += 1
            LOGGER.error("downlink dispatch failed: %s", exc)

    # -- stats -----------------------------------------------------------------------------

    def _stats_main(self) -> None:
        due: dict[int, float] = {}
        log_due = time.monotonic() + self.cfg.gateway.stats_interval_s
        while not self._stop.is_set():
            now = time.monotonic()
            backends = list(self.backends)
            for gone in due.keys() - {id(b) for b in backends}:  # replaced by a reload
                del due[gone]
            for backend in backends:
                interval_s = backend.stats_interval_s or self.cfg.gateway.stats_interval_s
                next_at = due.setdefault(id(backend), now + interval_s)
                if now >= next_at and self.gateway_id is not None:
                    due[id(backend)] = now + interval_s
                    # no stats while the radio is not running: a network server that decides
                    # "online" from stats (ChirpStack) then shows the gateway offline; the
                    # interval's counts carry over to the next report
                    if self.health.running:
                        self._report_stats(backend)
            if now >= log_due:
                log_due = now + self.cfg.gateway.stats_interval_s
                self.uplinks.log_summary()
            nearest = min([log_due, *due.values()])
            self._stop.wait(max(0.05, nearest - time.monotonic()))

    def stats_report(self, backend: Backend) -> StatsReport:
        """Close ``backend``'s stats interval and describe it in neutral terms."""
        interval = self.intervals.take(backend.name)
        queue_stats = backend.store.stats()
        metadata = {
            "queue_pending": str(queue_stats["pending"]),
            "queue_dropped": str(queue_stats["dropped"]),
            "radio_errors": str(self.counters.radio_errors),
            "radio_up": str(self.health.running).lower(),
            **self.uplinks.metadata(),
            **gateway_properties(
                self.cfg, self._concentrator if self.radio_ready.is_set() else None
            ),
        }
        gw = self.cfg.gateway
        location = getattr(self._concentrator, "location", None)  # a GPS fix wins
        if location is not None:
            interval.location_source = "GPS"
        elif gw.latitude is not None and gw.longitude is not None:
            location = (gw.latitude, gw.longitude, gw.altitude or 0.0)
        forwarded = backend.filter.forwarded
        rx_forwarded = forwarded - self._forwarded_seen.get(backend.name, 0)
        self._forwarded_seen[backend.name] = forwarded
        return StatsReport(
            stats=interval,
            time_s=self.clock(),
            location=location,
            metadata=metadata,
            duty_cycle=self.downlinks.duty_cycle_stats(),
            rx_forwarded=rx_forwarded,
            temperature_c=self.cfg.concentrator.temperature_c,
        )

    def _report_stats(self, backend: Backend) -> bytes:
        try:
            return backend.publish_stats(self.stats_report(backend))
        except Exception:  # one backend's stats must not stop the others'
            LOGGER.exception("%s: stats report failed", backend.name)
            return b""

    def stats_once(self) -> bytes:
        """Report a stats interval to every backend now; returns what the first one sent."""
        assert self.gateway_id is not None
        sent = [self._report_stats(backend) for backend in list(self.backends)]
        return sent[0]


def _only_filters_differ(old: Any, new: Any) -> bool:
    """True when two BackendConfigs differ in their filters only (``[mqtt]`` carries a copy)."""
    mqtt = new.mqtt
    if mqtt is not None and old.mqtt is not None:
        mqtt = replace(mqtt, filters=old.mqtt.filters)
    return bool(replace(new, filters=old.filters, mqtt=mqtt) == old)
