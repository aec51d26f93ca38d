"""The daemon's supervision: systemd notify (READY, WATCHDOG, STATUS, STOPPING), the status
socket's document, and the SIGHUP reload.

READY semantics: ``READY=1`` is sent as soon as the radio thread, the stats thread and (when the
gateway id is known) the backend's sender thread run and the status socket listens, with
``STATUS=radio starting``. It does not wait for the concentrator: a dead radio is retried with
backoff forever while MQTT presence and stats stay up, and systemd's start timeout must not kill
that. The radio's state then shows in ``STATUS=`` lines and on the status socket.

Health (what the watchdog pings require): every daemon thread alive and the radio loop's
heartbeat younger than ``HEARTBEAT_MAX_AGE_S``; the radio loop beats only after a successful
poll or during an active restart attempt (the start and its backoff wait), so a poll stuck in
the kernel starves the watchdog and systemd restarts the service. The radio's state comes from
``edge_agent.radio_health``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

from edge_agent import __version__, logs, sdnotify
from edge_agent.errors import ConfigError, StatusError
from edge_agent.models.spool import SpoolLiveStats
from edge_agent.models.status import (
    BackendStatus,
    DownlinkStatus,
    GpsStatus,
    RadioStatus,
    StatusDocument,
)
from edge_agent.status import StatusClient, StatusServer

if TYPE_CHECKING:
    from edge_agent.config import AgentConfig
    from edge_agent.service import AgentService

LOGGER = logging.getLogger(__name__)

#: the radio loop must have beaten within this many seconds for the daemon to count as healthy
#: (a concentrator bring-up, firmware load included, takes a few seconds; WatchdogSec is 30 s)
HEARTBEAT_MAX_AGE_S = 20.0
#: STATUS= lines whose only change is a count are sent at most this often
STATUS_INTERVAL_S = 10.0
#: config sections a reload cannot apply to a running daemon (the spool file, the socket)
RESTART_ONLY = ("spool", "status")


class Heartbeat:
    """A timestamp a loop refreshes each iteration; ``age()`` says how long ago that was."""

    def __init__(self) -> None:
        self._last = time.monotonic()

    def beat(self) -> None:
        """The loop is alive now."""
        self._last = time.monotonic()

    def age(self) -> float:
        """Seconds since the last beat."""
        return time.monotonic() - self._last


def radio_chains(plan: Any, *, running: bool, last_error: str | None) -> dict[str, Any]:
    """Radio A and B: mode, centre frequency, TX, and the last error while not running.

    Mode ``rx`` means the bring-up tuned the radio and handed it to the AGC firmware (after
    that the host cannot address it); ``off`` while the concentrator does not run; ``disabled``
    when the plan does not use it."""
    chains: dict[str, Any] = {}
    for label, radio in zip("ab", plan.radios, strict=True):
        mode = "disabled" if not radio.enable else ("rx" if running else "off")
        chains[label] = {
            "mode": mode,
            "freq_hz": radio.freq_hz if radio.enable else None,
            "tx": bool(radio.enable and radio.tx_enable),
            "last_error": None if running or not radio.enable else last_error,
        }
    return chains


def configured_gps_source(cfg: AgentConfig) -> str | None:
    """``[gps] tty``, else the board preset's GNSS tty, else None."""
    from edge_agent.radio_gps import gps_source

    board = None
    conc = cfg.concentrator
    if conc.board is not None:
        from drivers.boards import apply_overrides, board_preset

        board = board_preset(conc.board)
        if conc.board_overrides:
            board = apply_overrides(board, conc.board_overrides)
    return gps_source(cfg.gps, board)


class Supervisor:
    """Notify protocol, watchdog, status socket and reload around one ``AgentService``."""

    def __init__(
        self,
        service: AgentService,
        *,
        environ: Mapping[str, str] | None = None,
        heartbeat_max_age_s: float = HEARTBEAT_MAX_AGE_S,
    ) -> None:
        self.service = service
        self.environ = environ
        self.heartbeat_max_age_s = heartbeat_max_age_s
        self.watchdog = sdnotify.Watchdog(self.healthy, environ=environ)
        self.status_server: StatusServer | None = None
        self.started_at = time.monotonic()
        self.reloads = 0
        #: sections a reload changed that only a restart applies: section -> what is pending
        self.pending_restart: dict[str, str] = {}
        self._status_line = ""
        self._status_sent = 0.0

    # -- life cycle ------------------------------------------------------------------------

    def start(self) -> None:
        """After ``service.start()``: open the status socket, send READY, start the watchdog."""
        self.started_at = time.monotonic()
        path = self.service.cfg.status.socket
        if StatusClient(path).available(timeout=0.5):  # never steal a live daemon's socket
            LOGGER.error(
                "another daemon answers on %s: this one runs without a status socket", path
            )
        else:
            server = StatusServer(path, lambda: dict(self.document()))
            try:
                server.start()
                self.status_server = server
            except (OSError, StatusError) as exc:  # the daemon works without it; status says so
                LOGGER.error("status socket %s unavailable: %s", path, exc)
        self._status_line = self.status_line()
        sdnotify.ready(self._status_line, environ=self.environ)
        self.watchdog.start()

    def poll_once(self) -> None:
        """One step of the main loop: a STATUS line at once when the radio or broker state
        changed, else at most every ``STATUS_INTERVAL_S`` when only the counts moved."""
        line = self.status_line()
        if line == self._status_line:
            return
        state_changed = line.split(",")[:2] != self._status_line.split(",")[:2]
        now = time.monotonic()
        if state_changed or now - self._status_sent >= STATUS_INTERVAL_S:
            self._status_line, self._status_sent = line, now
            sdnotify.status(line, environ=self.environ)

    def stopping(self) -> None:
        """Tell systemd the daemon drains now (sent before the radio and backend stop)."""
        sdnotify.stopping("stopping: draining uplinks", environ=self.environ)

    def close(self) -> None:
        """Stop the watchdog and remove the status socket. Idempotent."""
        self.watchdog.stop()
        if self.status_server is not None:
            self.status_server.stop()
            self.status_server = None

    # -- health ----------------------------------------------------------------------------

    def healthy(self) -> bool:
        """Every daemon thread alive and the radio loop's heartbeat fresh."""
        svc = self.service
        threads = svc.threads()
        if not threads or not all(t.is_alive() for t in threads):
            return False
        if svc.gateway_id is not None and not all(b.running for b in svc.backends):
            return False
        return svc.heartbeat.age() < self.heartbeat_max_age_s

    # -- the status document ---------------------------------------------------------------

    def radio_state(self) -> str:
        """``starting``, ``running``, ``restarting`` or ``down`` (edge_agent.radio_health)."""
        svc = self.service
        if not self._radio_thread_alive():
            return "down"
        return svc.health.state

    def _radio_thread_alive(self) -> bool:
        svc = self.service
        radio_threads = [t for t in svc.threads() if t.name == "radio"]
        return not radio_threads or radio_threads[0].is_alive() or svc.stopping

    def status_line(self) -> str:
        """The one-line summary for ``systemctl status``."""
        svc = self.service
        backends = svc.backends
        up = sum(b.connected.is_set() for b in backends)
        if len(backends) == 1:
            link = "broker " + ("connected" if up else "disconnected")
        else:
            link = f"backends {up}/{len(backends)} connected"
        return (
            f"radio {self.radio_state()}, {link}, {svc.counters.received} received, "
            f"{svc.uplinks.pending()} pending"
        )

    def document(self) -> StatusDocument:
        """The status socket's JSON document (declared in edge_agent.models.status)."""
        svc = self.service
        return {
            "version": __version__,
            "gateway_id": svc.gateway_id,
            "uptime_s": round(time.monotonic() - self.started_at, 1),
            "radio": self._radio(),
            "spool": cast(SpoolLiveStats, svc.uplinks.stats()),
            "backends": {b.name: cast(BackendStatus, b.status()) for b in svc.backends},
            "downlinks": cast(DownlinkStatus, svc.downlinks.snapshot()),
            "gps": cast(GpsStatus, self._gps()),
            "reloads": self.reloads,
            "pending_restart": dict(self.pending_restart),
        }

    def _gps(self) -> dict[str, Any]:
        """The running GPS reader's facts; configured-but-absent says so (never a placeholder)."""
        svc = self.service
        status = getattr(svc.concentrator, "gps_status", None)
        if callable(status) and svc.health.running:
            return dict(status())
        source = configured_gps_source(svc.cfg)
        if source is None:
            return {"enabled": False, "reason": "no [gps] tty and no GNSS on the board preset"}
        return {
            "enabled": True,
            "source": source,
            "reader": "down",
            "error": f"the radio is {svc.health.state}: the GPS reader runs with it",
            "fix": False,
            "pps": False,
            "time_valid": False,
        }

    def _radio(self) -> RadioStatus:
        svc = self.service
        radio: dict[str, Any] = svc.health.snapshot()
        radio["state"] = self.radio_state()
        if not self._radio_thread_alive():
            radio["last_error"] = "the radio thread died (see the journal)"
        conc = svc.concentrator
        stats = conc.stats() if conc is not None else {}
        running = radio["state"] == "running" and conc is not None
        if running:
            assert conc is not None
            radio.update(
                model=getattr(conc, "model", None),
                version=getattr(conc, "version", None),
                eui=f"{conc.eui:016x}" if conc.eui is not None else None,
                session_id=f"{conc.session_id:08x}",
            )
        plan = getattr(conc, "plan", None) or svc.cfg.concentrator.plan
        radio["radios"] = radio_chains(plan, running=running, last_error=radio["last_error"])
        temperature = stats.get("temperature_c")
        radio["temperature_c"] = (
            temperature if temperature is not None else svc.cfg.concentrator.temperature_c
        )
        radio["errors"] = svc.counters.radio_errors
        # malformed RX FIFO data, by kind (garbage, checksum, truncated, ...): counted, skipped
        radio["bad_records"] = dict(stats.get("bad_records", {}))
        radio["rx"] = svc.rx.snapshot()
        radio["last_uplink"] = radio["rx"]["last_uplink"]
        return cast(RadioStatus, radio)

    # -- reload ----------------------------------------------------------------------------

    def reload(self, path: str | None) -> bool:
        """SIGHUP: re-read ``path``; apply it, or keep the running config when it is invalid."""
        if path is None:
            LOGGER.warning("reload requested but the daemon has no config file to re-read")
            return False
        from edge_agent.config import load_config
        from edge_agent.file_modes import check_config_files

        sdnotify.reloading("reloading the configuration", environ=self.environ)
        try:
            new = load_config(path)
            check_config_files(path, new, when="reload")  # a refused file is like an invalid one
            self.apply(new)
        except (ConfigError, OSError) as exc:
            LOGGER.error("reload: %s is invalid, keeping the running configuration: %s", path, exc)
            sdnotify.ready(self.status_line(), environ=self.environ)
            return False
        self.reloads += 1
        sdnotify.ready(self.status_line(), environ=self.environ)
        return True

    def apply(self, new: AgentConfig) -> None:
        """Swap in ``new``: every section applied, or loudly left for a restart (see the reload
        table in docs/operator-guide.md). ConfigError (nothing changed) when ``[regulation]``
        does not build a downlink scheduler."""
        svc = self.service
        old = svc.cfg
        new = svc.control.overlay(new)  # a managed channel plan stays across reloads
        scheduler = svc.downlinks.build_scheduler(new)  # validates [regulation] before any change
        if new.log != old.log:
            logs.configure(new.log.level)
        new = self._keep_restart_only(old, new)
        radio_changed = new.concentrator != old.concentrator or new.gps != old.gps
        downlinks_changed = radio_changed or new.regulation != old.regulation
        gateway_changed = new.gateway.id != old.gateway.id
        svc.cfg = new  # the stats thread reads its interval and location from here
        if downlinks_changed:  # region, TX chains, gain tables, duty cycle
            svc.downlinks.reconfigure(new, scheduler)
        actions = svc.apply_backends(restart_all=gateway_changed)
        if radio_changed:
            svc.restart_radio()
        LOGGER.info(
            "reload: configuration applied (backends: %s; radio %s; downlinks %s%s)",
            ", ".join(f"{name} {what}" for name, what in actions.items()),
            "restarted" if radio_changed else "unchanged",
            "rebuilt" if downlinks_changed else "unchanged",
            f"; waiting for a restart: {', '.join(self.pending_restart)}"
            if self.pending_restart
            else "",
        )

    def _keep_restart_only(self, old: AgentConfig, new: AgentConfig) -> AgentConfig:
        """Sections only a restart applies (``[spool]``, ``[status]``): keep the running values,
        log a WARNING and list them in ``pending_restart`` until a reload brings them back."""
        for section in RESTART_ONLY:
            old_value, new_value = getattr(old, section), getattr(new, section)
            if new_value == old_value:
                self.pending_restart.pop(f"[{section}]", None)
                continue
            message = "needs a restart; still running with the old value"
            self.pending_restart[f"[{section}]"] = message
            LOGGER.warning("reload: [%s] %s", section, message)
            new = replace(new, **{section: old_value})
        return new
