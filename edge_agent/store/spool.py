"""The durable store-and-forward spool: one FIFO per backend, in memory first, on SQLite in groups.

Records are appended to a memory tail. A committer writes tail records older than half the
``commit_interval`` in one transaction every half interval, so a record is on disk at most one
``commit_interval`` after it was appended, and a record acked within half an interval (any
healthy link) is never written at all. Acks of records already on disk are batched as deletes
into the same group transaction. ``commit_interval_ms = 0`` commits inside ``append``.

Bounded by ``max_bytes`` and ``max_age_s``: the oldest records go first (memory or disk),
counted and logged. A full disk is logged, counted and survived: records stay in memory (still
bounded by ``max_bytes``) and the next group retries.

Lock order: ``_write_lock`` (one writer transaction at a time) before ``_lock`` (state). The
write itself runs without ``_lock``, so the radio thread never waits for an fsync.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

from edge_agent.errors import SpoolError
from edge_agent.spool_config import SpoolConfig
from edge_agent.store import db as spool_db
from edge_agent.store import rows as spool_rows
from edge_agent.store.fifo import SpoolStore
from edge_agent.store.protocol import QueuedUplink
from edge_agent.store.state import BackendState, DrainLimiter, MemoryRecord

LOGGER = logging.getLogger(__name__)

__all__ = ["Spool", "SpoolConfig", "SpoolStore"]

#: counters persisted in the file (so ``spool stats`` from another process can show them)
PERSISTED = ("spooled", "delivered", "dropped", "committed_writes", "disk_bytes_written")
#: persist the counters every this many group commits (and at drops and close)
PERSIST_EVERY_COMMITS = 60
DROP_LOG_INTERVAL_S = 10.0
ERROR_LOG_INTERVAL_S = 10.0
#: rows read from disk per query when looking for the oldest records to drop
_DROP_PAGE = 64


class Spool:
    """The SQLite spool of every backend; ``store(name)`` gives one backend's FIFO.

    The per-backend operations (``append``, ``take``, ``ack``...) take the backend's name;
    ``SpoolStore`` binds a name to them and is what a backend holds.
    """

    def __init__(
        self,
        config: SpoolConfig,
        *,
        autocommit: bool = True,
        clock: Callable[[], float] = time.monotonic,
        wallclock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self._clock = clock
        self._wallclock = wallclock
        self._half_interval_s = config.commit_interval_ms / 2000.0
        self._lock = threading.RLock()
        self._write_lock = threading.Lock()
        self._backends: dict[str, BackendState] = {}
        self._pending_delete: set[int] = set()
        #: rows found bad at take, moved to quarantine by the next group (also in _pending_delete)
        self._pending_quarantine: set[int] = set()
        self._row_limit = spool_rows.row_limit(config.max_bytes, spool_db.RECORD_OVERHEAD)
        self._counters: dict[str, int] = dict.fromkeys(PERSISTED, 0)
        self._counters["enospc_errors"] = 0
        self._counters["write_errors"] = 0
        self._counters["read_errors"] = 0
        self._counters["quarantined"] = 0
        self._counters_dirty = False
        self._commits_since_persist = 0
        self._drops_unlogged = 0
        self._last_drop_log = -DROP_LOG_INTERVAL_S
        self._last_error_log = -ERROR_LOG_INTERVAL_S
        self._closed = False
        self._writer = spool_db.open_spool_file(config.path)
        try:
            self._set_aside_bad_rows()
            self._reader = spool_db.connect(config.path)
        except BaseException:
            self._writer.close()
            raise
        self._data_version = self._writer.execute("PRAGMA data_version").fetchone()[0]
        self._load()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if autocommit and config.commit_interval_ms > 0:
            self._thread = threading.Thread(target=self._run, name="spool-commit", daemon=True)
            self._thread.start()

    # -- opening ---------------------------------------------------------------------------

    def _set_aside_bad_rows(self) -> None:
        """At open: rows that cannot be uplinks go to the quarantine table (checked in SQL)."""
        try:
            moved = spool_rows.quarantine_bad_rows(self._writer, self._row_limit)
        except sqlite3.Error as exc:
            raise SpoolError(f"spool {self.config.path}: cannot set bad rows aside: {exc}") from exc
        self._counters["quarantined"] = spool_rows.quarantined_count(self._writer)
        if moved:
            seq, backend, reason = moved[0]
            LOGGER.warning(
                "spool %s: set aside %d rows that cannot be uplinks (first: seq %d of %s, %s) "
                "in its quarantine table; they are never sent (%d set aside in total). "
                "See 'Hostile or damaged spool files' in docs/spool.md",
                self.config.path,
                len(moved),
                seq,
                backend,
                reason,
                self._counters["quarantined"],
            )

    def _load(self) -> None:
        """Counters and per-backend disk totals from the file."""
        stored = spool_db.read_counters(self._reader)
        for name in PERSISTED:
            self._counters[name] = stored.get(name, 0)
        for name, value in stored.items():  # per-backend drops: "dropped:<backend>"
            if name.startswith(spool_db.BACKEND_DROPPED):
                self._state(name.removeprefix(spool_db.BACKEND_DROPPED)).dropped = value
        max_seq = self._reader.execute(  # a seq set aside is never reused
            "SELECT MAX((SELECT COALESCE(MAX(seq), 0) FROM uplinks), "
            "(SELECT COALESCE(MAX(seq), 0) FROM quarantine))"
        ).fetchone()[0]
        self._next_seq = int(max_seq) + 1
        self._resync_disk()
        for state in self._backends.values():
            state.restored_max_seq = state.disk_max_seq
        restored = sum(state.disk_count for state in self._backends.values())
        if restored:
            LOGGER.info("spool %s: %d uplinks waiting from before", self.config.path, restored)

    def _resync_disk(self) -> None:
        """Recount what is on disk (at open, and after another process changed the file)."""
        rows = self._reader.execute(
            f"SELECT backend, COUNT(*), COALESCE(SUM({spool_db.SIZE_SQL}), 0), MAX(seq) "
            "FROM uplinks GROUP BY backend"
        ).fetchall()
        for state in self._backends.values():
            state.disk_count = state.disk_bytes = 0
        for backend, count, payload_bytes, max_seq in rows:
            state = self._state(backend)
            state.disk_count = int(count)
            state.disk_bytes = int(payload_bytes) + spool_db.RECORD_OVERHEAD * int(count)
            state.disk_max_seq = max(state.disk_max_seq, int(max_seq))
        present = spool_db.present_rows(self._reader, self._pending_delete)
        for seq in present:  # rows still on disk but already acked/dropped: not pending
            backend, size = present[seq]
            self._state(backend).disk_count -= 1
            self._state(backend).disk_bytes -= size
        for state in self._backends.values():
            on_disk = [s for s in state.inflight if s not in state.tail]
            alive = spool_db.present_rows(self._reader, on_disk)
            for seq in on_disk:
                if seq not in alive:  # purged by another process while handed out
                    del state.inflight[seq]

    def _state(self, backend: str) -> BackendState:
        state = self._backends.get(backend)
        if state is None:
            limiter = None
            if self.config.drain_max_per_s:
                limiter = DrainLimiter(self.config.drain_max_per_s, self._clock)
            state = BackendState(backend, threading.Condition(self._lock), limiter)
            self._backends[backend] = state
        return state

    def store(self, backend: str) -> SpoolStore:
        """The FIFO of one backend (created on first use)."""
        with self._lock:
            self._state(backend)
        return SpoolStore(self, backend)

    # -- the radio side ----------------------------------------------------------------------

    def append(self, backend: str, payload: bytes, received_at: float, buffered: bool) -> int:
        """Append one record to ``backend``'s memory tail; returns its sequence number."""
        with self._lock:
            if self._closed:
                raise SpoolError(f"spool {self.config.path} is closed")
            state = self._state(backend)
            seq = self._next_seq
            self._next_seq += 1
            size = len(payload) + spool_db.RECORD_OVERHEAD
            state.tail[seq] = MemoryRecord(
                seq, backend, bytes(payload), received_at, buffered, self._clock(), size
            )
            state.untaken.append(seq)
            state.tail_bytes += size
            state.spooled += 1
            self._counters["spooled"] += 1
            if self._total_bytes() > self.config.max_bytes:
                self._enforce_bounds()
            state.cond.notify_all()
        if self.config.commit_interval_ms == 0:
            self.commit_once(force=True)
        return seq

    # -- the sender side ---------------------------------------------------------------------

    def take(self, backend: str, limit: int) -> list[QueuedUplink]:
        """Up to ``limit`` of ``backend``'s records not handed out since its last rewind."""
        out: list[QueuedUplink] = []
        with self._lock:
            state = self._state(backend)
            if state.limiter is not None:
                limit = min(limit, state.limiter.available())
            while len(out) < limit and state.cursor < state.disk_max_seq:
                rows = self._read(
                    f"SELECT seq, {spool_rows.guarded_payload_sql(self._row_limit)}, "
                    f"received_at, buffered, {spool_rows.reason_sql(self._row_limit)}, "
                    f"{spool_db.SIZE_SQL} FROM uplinks "
                    "WHERE backend = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
                    (backend, state.cursor, state.disk_max_seq, limit - len(out)),
                )
                if rows is None:  # read error (logged): keep the cursor, retry next take
                    break
                if not rows:
                    state.cursor = state.disk_max_seq
                    break
                for seq, payload, received_at, buffered, reason, size in rows:
                    state.cursor = seq
                    if seq in self._pending_delete or seq in state.tail:
                        continue  # acked/dropped, delete not committed yet; or not applied yet
                    if reason is not None:  # changed on disk since the open: set it aside
                        self._quarantine_at_take(state, seq, int(size), reason)
                        continue
                    payload = bytes(payload)
                    state.inflight[seq] = len(payload) + spool_db.RECORD_OVERHEAD
                    restored = seq <= state.restored_max_seq
                    out.append(QueuedUplink(seq, payload, received_at, bool(buffered) or restored))
            while len(out) < limit and (record := state.next_untaken()) is not None:
                state.untaken.popleft()
                state.cursor = max(state.cursor, record.seq)
                state.inflight[record.seq] = record.size
                out.append(
                    QueuedUplink(record.seq, record.payload, record.received_at, record.buffered)
                )
            if state.limiter is not None:
                state.limiter.consume(len(out))
        return out

    def _quarantine_at_take(self, state: BackendState, seq: int, size: int, reason: str) -> None:
        """A row found bad by ``take`` (under _lock): never handed out, moved by the next group."""
        state.disk_count -= 1
        state.disk_bytes -= size + spool_db.RECORD_OVERHEAD
        self._pending_delete.add(seq)
        self._pending_quarantine.add(seq)
        self._counters["quarantined"] += 1
        LOGGER.warning(
            "spool %s: row seq %d of %s cannot be an uplink (%s): set aside, not sent "
            "(%d set aside in total)",
            self.config.path,
            seq,
            state.name,
            reason,
            self._counters["quarantined"],
        )

    def ack(self, backend: str, seq: int) -> None:
        """``backend`` confirmed ``seq``: it leaves the spool (unwritten, if still in memory).

        The delete of a row already on disk is committed by the next group (at most half a
        ``commit_interval_ms`` later), or before returning when ``commit_interval_ms = 0``."""
        on_disk = False
        with self._lock:
            state = self._state(backend)
            size = state.inflight.pop(seq, None)
            record = state.tail.pop(seq, None)
            if record is not None:
                state.tail_bytes -= record.size
            elif size is not None:
                state.disk_count -= 1
                state.disk_bytes -= size
                self._pending_delete.add(seq)
                on_disk = True
            else:
                LOGGER.debug("spool %s: ack of unknown seq %d ignored", backend, seq)
                return
            state.delivered += 1
            self._counters["delivered"] += 1
        if on_disk and self.config.commit_interval_ms == 0 and not self._closed:
            self.commit_once(force=True)

    def rewind(self, backend: str) -> None:
        """Every record of ``backend`` taken but not acked becomes takeable again."""
        with self._lock:
            state = self._state(backend)
            state.cursor = 0
            state.untaken.clear()
            state.untaken.extend(state.tail)
            state.cond.notify_all()

    def wait(self, backend: str, timeout: float) -> bool:
        """Block until ``backend`` has a takeable record (within its drain rate) or timeout."""
        deadline = time.monotonic() + timeout  # real time: the injected clock may be a test's
        with self._lock:
            state = self._state(backend)
            while True:
                remaining = deadline - time.monotonic()
                if state.takeable():
                    if state.limiter is None or state.limiter.available() >= 1:
                        return True
                    if remaining <= 0:
                        return False
                    state.cond.wait(min(remaining, state.limiter.seconds_to_next()))
                    continue
                if remaining <= 0 or self._closed:
                    return False
                state.cond.wait(remaining)

    def _read(self, sql: str, params: tuple) -> list[tuple] | None:
        """Rows of a query on the reader connection, or None after a logged read error."""
        try:
            return self._reader.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            self._counters["read_errors"] += 1
            if self._clock() - self._last_error_log >= ERROR_LOG_INTERVAL_S:
                self._last_error_log = self._clock()
                LOGGER.error("spool %s: read failed: %s", self.config.path, exc)
            return None

    # -- bounds ------------------------------------------------------------------------------

    def _total_bytes(self) -> int:
        return sum(state.bytes() for state in self._backends.values())

    def _enforce_bounds(self) -> int:
        """Drop the oldest records while over max_bytes or older than max_age_s (under _lock)."""
        max_bytes = self.config.max_bytes
        too_old = self._wallclock() - self.config.max_age_s
        total = self._total_bytes()
        dropped = 0
        disk_page: list[tuple[int, str, int, float]] = []
        after = 0
        disk_done = not any(state.disk_count for state in self._backends.values())
        while True:
            while not disk_page and not disk_done:
                rows = self._read(
                    f"SELECT seq, backend, {spool_db.SIZE_SQL}, received_at FROM uplinks "
                    "WHERE seq > ? ORDER BY seq LIMIT ?",
                    (after, _DROP_PAGE),
                )
                rows = rows or []
                disk_done = len(rows) < _DROP_PAGE
                after = rows[-1][0] if rows else after
                for seq, backend, length, received_at in rows:
                    state = self._backends.get(backend)
                    if state is None or seq in self._pending_delete or seq in state.tail:
                        continue
                    if seq > state.disk_max_seq:
                        continue
                    size = int(length) + spool_db.RECORD_OVERHEAD
                    disk_page.append((seq, backend, size, received_at))
            tails = [next(iter(s.tail.values())) for s in self._backends.values() if s.tail]
            oldest_tail = min(tails, key=lambda record: record.seq, default=None)
            if disk_page and (oldest_tail is None or disk_page[0][0] < oldest_tail.seq):
                seq, backend, size, received_at = disk_page[0]
                if total <= max_bytes and received_at >= too_old:
                    break
                disk_page.pop(0)
                state = self._backends[backend]
                state.disk_count -= 1
                state.disk_bytes -= size
                self._pending_delete.add(seq)
            elif oldest_tail is not None:
                seq, size = oldest_tail.seq, oldest_tail.size
                if total <= max_bytes and oldest_tail.received_at >= too_old:
                    break
                state = self._backends[oldest_tail.backend]
                del state.tail[seq]
                state.tail_bytes -= size
            else:
                break
            state.inflight.pop(seq, None)
            state.dropped += 1
            total -= size
            dropped += 1
        if dropped:
            self._counters["dropped"] += dropped
            self._counters_dirty = True
            self._drops_unlogged += dropped
        if self._drops_unlogged and self._clock() - self._last_drop_log >= DROP_LOG_INTERVAL_S:
            LOGGER.warning(
                "spool full or records too old (max_bytes=%d, max_age_s=%g): dropped the %d "
                "oldest uplinks (%d dropped in total)",
                max_bytes,
                self.config.max_age_s,
                self._drops_unlogged,
                self._counters["dropped"],
            )
            self._drops_unlogged = 0
            self._last_drop_log = self._clock()
        return dropped

    # -- committing --------------------------------------------------------------------------

    def commit_once(self, *, force: bool = False) -> int:
        """Write one group: tail records older than half the interval (all with ``force``), and
        the deletes of acked/dropped disk records. Returns how many records were written."""
        with self._write_lock:
            with self._lock:
                if self._writer is None:
                    return 0
                cutoff = self._clock() - (0.0 if force else self._half_interval_s)
                batch: list[MemoryRecord] = []
                for state in self._backends.values():
                    for record in state.tail.values():
                        if record.appended_mono > cutoff:
                            break
                        batch.append(record)
                deletes = list(self._pending_delete)
                quarantine = [seq for seq in deletes if seq in self._pending_quarantine]
                persist = self._counters_dirty or (
                    (batch or deletes) and self._commits_since_persist >= PERSIST_EVERY_COMMITS
                )
                counters = {name: self._counters[name] for name in PERSISTED} if persist else {}
                if persist:
                    for state in self._backends.values():
                        if state.dropped:
                            counters[spool_db.BACKEND_DROPPED + state.name] = state.dropped
            if not batch and not deletes and not counters:
                return 0
            ok = self._write(batch, deletes, counters, quarantine)
            with self._lock:
                if ok:
                    self._apply(batch, deletes, bool(counters))
                    if quarantine:  # their sizes on disk may have changed: recount
                        self._resync_disk()
                self._enforce_bounds()
            return len(batch) if ok else 0

    def _write(
        self, batch: list[MemoryRecord], deletes: list[int], counters: dict, quarantine: list[int]
    ) -> bool:
        conn = self._writer
        assert conn is not None
        before = spool_db.thread_write_bytes()
        try:
            spool_db.write_group(conn, batch, deletes, counters, quarantine, self._row_limit)
        except sqlite3.Error as exc:
            self._write_failed(exc, len(batch))
            return False
        finally:
            written = spool_db.thread_write_bytes() - before
            with self._lock:
                self._counters["disk_bytes_written"] += max(0, written)
        return True

    def _write_failed(self, exc: sqlite3.Error, records: int) -> None:
        full = getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "full" in str(exc)
        with self._lock:
            self._counters["enospc_errors" if full else "write_errors"] += 1
            if self._clock() - self._last_error_log < ERROR_LOG_INTERVAL_S:
                return
            self._last_error_log = self._clock()
            LOGGER.error(
                "spool %s: cannot commit %d uplinks (%s: %s); keeping them in memory and "
                "retrying (%d disk-full errors, %d other write errors so far)",
                self.config.path,
                records,
                "disk full" if full else "write error",
                exc,
                self._counters["enospc_errors"],
                self._counters["write_errors"],
            )

    def _apply(self, batch: list[MemoryRecord], deletes: list[int], persisted: bool) -> None:
        """After a successful group: written tail records now live on disk (under _lock)."""
        self._pending_delete.difference_update(deletes)
        self._pending_quarantine.difference_update(deletes)
        self._counters["committed_writes"] += 1
        self._commits_since_persist = 0 if persisted else self._commits_since_persist + 1
        self._counters_dirty = self._counters_dirty and not persisted
        for record in batch:
            state = self._backends[record.backend]
            state.disk_max_seq = max(state.disk_max_seq, record.seq)
            if state.tail.pop(record.seq, None) is None:
                self._pending_delete.add(record.seq)  # acked or dropped while being written
                continue
            state.tail_bytes -= record.size
            state.disk_count += 1
            state.disk_bytes += record.size
            while state.untaken and state.untaken[0] <= record.seq:
                state.untaken.popleft()
        version = self._writer.execute("PRAGMA data_version").fetchone()[0]
        if version != self._data_version:  # another process (spool purge) changed the file
            self._data_version = version
            LOGGER.info("spool %s changed by another process; recounting", self.config.path)
            self._resync_disk()

    def flush(self) -> int:
        """Commit the whole memory tail now; returns how many records were written."""
        return self.commit_once(force=True)

    def _run(self) -> None:
        while not self._stop.wait(self._half_interval_s):
            try:
                self.commit_once()
            except Exception:  # the committer must outlive any surprise; the next tick retries
                LOGGER.exception("spool %s: commit failed", self.config.path)

    # -- observing and closing ---------------------------------------------------------------

    def _oldest_received_at(self, state: BackendState) -> float | None:
        after = 0
        while state.disk_count:
            rows = self._read(
                "SELECT seq, received_at FROM uplinks WHERE backend = ? AND seq > ? "
                "AND typeof(received_at) IN ('real', 'integer') ORDER BY seq LIMIT 256",
                (state.name, after),
            )
            for seq, received_at in rows or []:
                if seq not in self._pending_delete and seq not in state.tail:
                    return float(received_at)
            if not rows or len(rows) < 256:
                break
            after = rows[-1][0]
        first = next(iter(state.tail.values()), None)
        return first.received_at if first else None

    def pending(self, backend: str) -> int:
        """``backend``'s records not yet acked (taken or not)."""
        with self._lock:
            return self._state(backend).pending()

    def backend_stats(self, backend: str) -> dict[str, float | int]:
        """``backend``'s pending, bytes, oldest_age_s, memory, spooled, delivered, dropped."""
        with self._lock:
            return self._backend_stats(self._state(backend))

    @property
    def closed(self) -> bool:
        """True once ``close()`` ran."""
        return self._closed

    def _backend_stats(self, state: BackendState) -> dict[str, float | int]:
        oldest = self._oldest_received_at(state)
        age = max(0.0, self._wallclock() - oldest) if oldest is not None else 0.0
        return {
            "pending": state.pending(),
            "bytes": state.bytes(),
            "oldest_age_s": round(age, 3),
            "memory": len(state.tail),
            "spooled": state.spooled,
            "delivered": state.delivered,
            "dropped": state.dropped,
        }

    def stats(self) -> dict[str, Any]:
        """Totals over every backend (pending, bytes, oldest_age_s, ...) and the counters."""
        with self._lock:
            backends = {name: self._backend_stats(s) for name, s in self._backends.items()}
            return {
                "pending": sum(int(b["pending"]) for b in backends.values()),
                "bytes": sum(int(b["bytes"]) for b in backends.values()),
                "oldest_age_s": max(
                    (float(b["oldest_age_s"]) for b in backends.values()), default=0.0
                ),
                "memory": sum(int(b["memory"]) for b in backends.values()),
                **self._counters,
                "backends": backends,
            }

    def metadata(self) -> dict[str, str]:
        """Counters for ``event/stats`` metadata (string values, ``spool_`` prefix)."""
        stats = self.stats()
        keys: tuple[str, ...] = ("pending", "bytes", "oldest_age_s", "spooled", "delivered")
        keys += ("dropped", "committed_writes", "disk_bytes_written", "enospc_errors")
        keys += ("quarantined",)
        return {f"spool_{key}": f"{stats[key]:g}" for key in keys}

    def log_stats(self) -> None:
        """One INFO line with the counters (the daemon calls it with its stats interval)."""
        stats = self.stats()
        LOGGER.info(
            "spool: %d pending (%d bytes, oldest %.1f s, %d in memory), %d spooled, "
            "%d delivered, %d dropped, %d group commits, %d disk bytes written, "
            "%d disk-full errors",
            stats["pending"],
            stats["bytes"],
            stats["oldest_age_s"],
            stats["memory"],
            stats["spooled"],
            stats["delivered"],
            stats["dropped"],
            stats["committed_writes"],
            stats["disk_bytes_written"],
            stats["enospc_errors"],
        )

    def close(self) -> None:
        """Commit the memory tail, persist the counters and close the file. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for state in self._backends.values():
                state.cond.notify_all()
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            self._counters_dirty = True
        self.commit_once(force=True)
        with self._write_lock, self._lock:
            for conn in (self._reader, self._writer):
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._writer = None  # type: ignore[assignment]

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
