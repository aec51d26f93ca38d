"""The daemon's uplink store: the durable spool, or the bounded memory queue when it cannot open.

``AgentService`` owns one ``DaemonSpool``. It opens ``Spool(cfg.spool)`` and hands the
ChirpStack backend its FIFO; when the file cannot be opened at all (an unwritable directory,
a permission problem) it logs an ERROR naming the path and the fix and falls back to
``MemoryUplinkStore``: the daemon keeps forwarding, without durability, instead of dying.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from typing import Any

from edge_agent.config import AgentConfig
from edge_agent.errors import SpoolError
from edge_agent.memory_queue import MemoryUplinkStore
from edge_agent.spool import Spool
from edge_agent.uplink_queue import UplinkStore

LOGGER = logging.getLogger(__name__)

#: the backend name of the ChirpStack FIFO inside the spool
BACKEND = "chirpstack"


class DaemonSpool:
    """Opens the spool (or the fallback queue), reports its counters, closes it at exit."""

    def __init__(self, cfg: AgentConfig, *, clock: Callable[[], float] = time.time) -> None:
        self.spool: Spool | None = None
        self.store: UplinkStore
        self._final: dict[str, Any] | None = None
        try:
            self.spool = Spool(cfg.spool, wallclock=clock)
        except (SpoolError, OSError, sqlite3.Error) as exc:
            LOGGER.error(
                "cannot open the uplink spool %s (%s): uplinks are kept in memory only (at most "
                "%d, lost on restart). Fix: make its directory writable by the agent's user, or "
                "set [spool] path to a writable file",
                cfg.spool.path,
                exc,
                cfg.mqtt.queue_max_uplinks,
            )
            self.store = MemoryUplinkStore(cfg.mqtt.queue_max_uplinks, clock=clock)
        else:
            self.store = self.spool.store(BACKEND)

    @property
    def durable(self) -> bool:
        """True when uplinks go to the on-disk spool (not the memory fallback)."""
        return self.spool is not None

    def stats(self) -> dict[str, Any]:
        """The store's counters (the last ones seen, once closed)."""
        if self._final is not None:
            return self._final
        return dict(self.store.stats())

    def metadata(self) -> dict[str, str]:
        """``spool_*`` counters for ``event/stats`` metadata (empty with the memory fallback)."""
        if self.spool is None or self._final is not None:
            return {}
        return self.spool.metadata()

    def log_summary(self) -> None:
        """One INFO line with the spool counters (with the stats interval and at exit)."""
        if self.spool is not None and self._final is None:
            self.spool.log_stats()

    def wait_empty(self, timeout: float) -> bool:
        """Block until every uplink is confirmed or ``timeout`` passed; True if none is left."""
        deadline = time.monotonic() + timeout
        while self.store.pending() > 0:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True

    def close(self) -> None:
        """Commit the memory tail, log the summary and close the file. Idempotent.

        Call it after the backend stopped: no ack can arrive any more, and what is still
        pending (including uplinks published but not confirmed) is on disk for the next start.
        """
        if self._final is not None:
            return
        self.store.close()
        if self.spool is not None:
            self.spool.flush()
            self.spool.log_stats()
        self._final = dict(self.store.stats())
        if self.spool is not None:
            self.spool.close()
