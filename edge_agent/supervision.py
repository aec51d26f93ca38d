"""The daemon's supervision: systemd notify (READY, WATCHDOG, STATUS, STOPPING), the status
socket's document, and the SIGHUP reload.

READY semantics: ``READY=1`` is sent as soon as the radio thread, the stats thread and (when the
gateway id is known) the backend's sender thread run and the status socket listens, with
``STATUS=radio starting``. It does not wait for the concentrator: a dead radio is retried with
backoff forever while MQTT presence and stats stay up, and systemd's start timeout must not kill
that. The radio's state then shows in ``STATUS=`` lines and on the status socket.

Health (what the watchdog pings require): every daemon thread alive and the radio loop's
heartbeat younger than ``HEARTBEAT_MAX_AGE_S``; the radio loop beats every iteration, also
while it waits to retry the concentrator start.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

from edge_agent import __version__, logs, sdnotify
from edge_agent.errors import ConfigError
from edge_agent.models.spool import SpoolLiveStats
from edge_agent.models.status import BackendStatus, RadioStatus, StatusDocument
from edge_agent.router import UplinkFilter
from edge_agent.status import StatusClient, StatusServer
from packet_forwarder.model import TxStatus

if TYPE_CHECKING:
    from edge_agent.config import AgentConfig
    from edge_agent.service import AgentService

LOGGER = logging.getLogger(__name__)

#: the radio loop must have beaten within this many seconds for the daemon to count as healthy
#: (a concentrator bring-up, firmware load included, takes a few seconds; WatchdogSec is 30 s)
HEARTBEAT_MAX_AGE_S = 20.0
#: STATUS= lines whose only change is a count are sent at most this often
STATUS_INTERVAL_S = 10.0


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
            except OSError as exc:  # the daemon works without it; status/diag then say so
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
        if svc.gateway_id is not None and not svc.backend.running:
            return False
        return svc.heartbeat.age() < self.heartbeat_max_age_s

    # -- the status document ---------------------------------------------------------------

    def radio_state(self) -> str:
        """``starting``, ``running``, ``retrying`` or ``failed``."""
        svc = self.service
        if svc.radio_ready.is_set():
            return "running"
        radio_threads = [t for t in svc.threads() if t.name == "radio"]
        if radio_threads and not radio_threads[0].is_alive() and not svc.stopping:
            return "failed"
        return "retrying" if svc.radio_error is not None else "starting"

    def status_line(self) -> str:
        """The one-line summary for ``systemctl status``."""
        svc = self.service
        broker = "connected" if svc.backend.connected.is_set() else "disconnected"
        return (
            f"radio {self.radio_state()}, broker {broker}, {svc.counters.received} received, "
            f"{svc.store.pending()} pending"
        )

    def document(self) -> StatusDocument:
        """The status socket's JSON document (declared in edge_agent.models.status)."""
        svc = self.service
        return {
            "version": __version__,
            "gateway_id": svc.gateway_id,
            "uptime_s": round(time.monotonic() - self.started_at, 1),
            "radio": self._radio(),
            "spool": cast(SpoolLiveStats, dict(svc.store.stats())),
            "backends": {svc.backend.name: self._backend()},
            "downlinks": {status.value: 0 for status in TxStatus},
            "gps": {"enabled": False},
            "reloads": self.reloads,
        }

    def _radio(self) -> RadioStatus:
        svc = self.service
        radio: dict[str, Any] = {"state": self.radio_state(), "starts": svc.counters.radio_starts}
        if svc.radio_error is not None and not svc.radio_ready.is_set():
            radio["error"] = svc.radio_error
        conc = svc.concentrator
        stats = conc.stats() if conc is not None else {}
        if svc.radio_ready.is_set() and conc is not None:
            radio.update(
                model=getattr(conc, "model", None),
                version=getattr(conc, "version", None),
                eui=f"{conc.eui:016x}" if conc.eui is not None else None,
                session_id=f"{conc.session_id:08x}",
                radios={"a": "ok", "b": "ok"},  # the bring-up fails unless both answered
            )
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

    def _backend(self) -> BackendStatus:
        backend = self.service.backend
        counters = backend.stats()
        connected = backend.connected.is_set()
        document = {
            "state": "connected" if connected else "disconnected",
            "connected": connected,
            "server": backend.cfg.server,
            "reconnects": max(0, counters["connects"] - 1),
            **counters,
        }
        return cast(BackendStatus, document)

    # -- reload ----------------------------------------------------------------------------

    def reload(self, path: str | None) -> bool:
        """SIGHUP: re-read ``path``; apply it, or keep the running config when it is invalid."""
        if path is None:
            LOGGER.warning("reload requested but the daemon has no config file to re-read")
            return False
        from edge_agent.config import load_config

        sdnotify.reloading("reloading the configuration", environ=self.environ)
        try:
            new = load_config(path)
        except (ConfigError, OSError) as exc:
            LOGGER.error("reload: %s is invalid, keeping the running configuration: %s", path, exc)
            sdnotify.ready(self.status_line(), environ=self.environ)
            return False
        self.apply(new)
        self.reloads += 1
        sdnotify.ready(self.status_line(), environ=self.environ)
        return True

    def apply(self, new: AgentConfig) -> None:
        """Swap in ``new``; restart the backend or the radio only where their sections changed."""
        svc = self.service
        old = svc.cfg
        logs.add_secret(new.mqtt.password)
        if new.log != old.log:
            logs.configure(new.log.level)
        if new.status != old.status:
            LOGGER.warning("reload: [status] changes take effect after a restart")
            new = replace(new, status=old.status)
        radio_changed = new.concentrator != old.concentrator or new.gps != old.gps
        filters_changed = new.mqtt.filters != old.mqtt.filters
        backend_changed = (
            replace(new.mqtt, filters=old.mqtt.filters) != old.mqtt
            or new.gateway.id != old.gateway.id
        )
        svc.cfg = new  # the stats thread reads its interval and location from here
        if filters_changed:
            svc.filter = UplinkFilter.from_config(new.mqtt.filters)
        if backend_changed:
            svc.restart_backend()
        if radio_changed:
            svc.restart_radio()
        LOGGER.info(
            "reload: configuration applied (filters %s, backend %s, radio %s)",
            "replaced" if filters_changed else "unchanged",
            "restarted" if backend_changed else "unchanged",
            "restarted" if radio_changed else "unchanged",
        )
