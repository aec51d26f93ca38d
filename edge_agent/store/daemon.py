"""The daemon's uplink stores: one FIFO per backend in the durable spool, or memory fallbacks.

``AgentService`` owns one ``DaemonStores``. It opens ``Spool(cfg.spool)`` and hands each backend
the FIFO named after it; when the file cannot be opened at all (an unwritable directory, a
permission problem) it logs an ERROR naming the path and the fix and gives each backend a
``MemoryUplinkStore``: the daemon keeps forwarding, without durability, instead of dying.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from typing import Any

from edge_agent.errors import SpoolError
from edge_agent.spool_config import SpoolConfig
from edge_agent.store.memory import MemoryUplinkStore
from edge_agent.store.protocol import UplinkStore
from edge_agent.store.spool import Spool

LOGGER = logging.getLogger(__name__)

#: totals summed over the memory fallbacks in ``stats()``
_SUMMED = ("pending", "bytes", "dropped", "delivered", "spooled")


class DaemonStores:
    """Opens the spool (or the fallback), gives out one store per backend, closes it at exit."""

    def __init__(
        self,
        cfg: SpoolConfig,
        *,
        memory_max_uplinks: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.spool: Spool | None = None
        self._memory_max = memory_max_uplinks
        self._clock = clock
        self._stores: dict[str, UplinkStore] = {}
        self._final: dict[str, Any] | None = None
        try:
            self.spool = Spool(cfg, wallclock=clock)
        except (SpoolError, OSError, sqlite3.Error) as exc:
            LOGGER.error(
                "cannot open the uplink spool %s (%s): uplinks are kept in memory only (a "
                "bounded queue per backend, lost on restart). Fix: make its directory writable "
                "by the agent's user, replace a symbolic link with the real file, or set "
                "[spool] path to a writable file",
                cfg.path,
                exc,
            )

    @property
    def durable(self) -> bool:
        """True when uplinks go to the on-disk spool (not the memory fallback)."""
        return self.spool is not None

    def store(self, backend: str, memory_max_uplinks: int | None = None) -> UplinkStore:
        """The FIFO of the backend named ``backend`` (the same object for the same name);
        ``memory_max_uplinks`` bounds its memory fallback (default: the constructor's)."""
        store = self._stores.get(backend)
        if store is None:
            if self.spool is not None:
                store = self.spool.store(backend)
            else:
                limit = memory_max_uplinks or self._memory_max
                store = MemoryUplinkStore(limit, clock=self._clock)
            self._stores[backend] = store
        return store

    def stats(self) -> dict[str, Any]:
        """Totals over the backends' FIFOs (and the spool's counters), ``backends: {name: stats}``;
        the last ones seen once closed."""
        if self._final is not None:
            return self._final
        if self.spool is not None:  # its totals, its counters, every FIFO in the file
            return self.spool.stats()
        backends = {name: dict(store.stats()) for name, store in self._stores.items()}
        totals: dict[str, Any] = {
            key: sum(int(b.get(key, 0)) for b in backends.values()) for key in _SUMMED
        }
        ages = (float(b.get("oldest_age_s", 0.0)) for b in backends.values())
        totals["oldest_age_s"] = max(ages, default=0.0)
        totals["backends"] = backends
        return totals

    def pending(self) -> int:
        """Uplinks not yet confirmed, over every backend."""
        return sum(store.pending() for store in self._stores.values())

    def metadata(self) -> dict[str, str]:
        """``spool_*`` counters for stats metadata (empty with the memory fallback)."""
        if self.spool is None or self._final is not None:
            return {}
        return self.spool.metadata()

    def log_summary(self) -> None:
        """One INFO line with the spool counters (with the stats interval and at exit)."""
        if self.spool is not None and self._final is None:
            self.spool.log_stats()

    def wait_empty(self, timeout: float, backends: list[str] | None = None) -> bool:
        """Block until the named backends' (default: all) uplinks are confirmed or ``timeout``."""
        names = list(self._stores) if backends is None else backends
        deadline = time.monotonic() + timeout
        while any(self._stores[name].pending() > 0 for name in names if name in self._stores):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True

    def close(self) -> None:
        """Commit the memory tail, log the summary and close the file. Idempotent.

        Call it after the backends stopped: no ack can arrive any more, and what is still
        pending (including uplinks sent but not confirmed) is on disk for the next start.
        """
        if self._final is not None:
            return
        for store in self._stores.values():
            store.close()
        if self.spool is not None:
            self.spool.flush()
            self.spool.log_stats()
        self._final = self.stats()
        if self.spool is not None:
            self.spool.close()
