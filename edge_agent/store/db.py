"""The spool's SQLite file: schema, opening with an integrity check, and the read-side helpers
the ``edge-agent spool`` commands use from another process while the daemon runs.

WAL mode lets a reader (``spool stats``/``export``) work while the daemon writes; ``purge`` takes
the write lock for one short transaction. Another process only ever sees *committed* records: the
daemon's memory tail (at most one ``commit_interval``) is invisible to it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

from edge_agent.errors import SpoolError
from edge_agent.models.spool import SpoolFileStats
from edge_agent.store import files as spool_files
from edge_agent.store import rows as spool_rows

LOGGER = logging.getLogger(__name__)

SCHEMA_VERSION = 1
#: counters-table name prefix of one backend's drop count (``dropped:<backend>``)
BACKEND_DROPPED = "dropped:"
#: bytes counted per record on top of its payload (row header, seq, backend, time), so that
#: ``max_bytes`` approximates the file's size
RECORD_OVERHEAD = 32
#: how long a statement waits for another connection's write lock before failing
BUSY_TIMEOUT_S = 5.0
#: errors that mean "this file is damaged", as opposed to "cannot open it at all"
_CORRUPT_CODES = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}
#: the counted size of a row's payload in SQL: a BLOB's length (read from the record header);
#: 0 for any other type (such a row is set aside, and ``length()`` of a TEXT would read it)
SIZE_SQL = "(CASE WHEN typeof(payload) = 'blob' THEN length(payload) ELSE 0 END)"

_SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS uplinks (
    seq INTEGER PRIMARY KEY,
    backend TEXT NOT NULL,
    received_at REAL NOT NULL,
    buffered INTEGER NOT NULL,
    payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""
    + spool_rows.QUARANTINE_SCHEMA
)


_UPLINK_COLUMNS = ("seq", "backend", "received_at", "buffered", "payload")


def connect(path: str | Path) -> sqlite3.Connection:
    """One connection in WAL mode, autocommit (transactions are explicit), FULL sync.

    ``SpoolError`` when the path or its -wal/-shm is a symbolic link (never followed)."""
    spool_files.refuse_symlinks(path)
    conn = sqlite3.connect(
        str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
    )
    mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        conn.close()
        raise SpoolError(f"spool {path}: cannot switch to WAL mode (got {mode!r})")
    # FULL in WAL mode fsyncs the WAL at every commit: a committed group survives a power cut,
    # not only a process crash. Online the spool commits almost nothing, so this costs little.
    conn.execute("PRAGMA synchronous=FULL")
    try:  # the -wal/-shm now exist: check them again (SQLite may have created them)
        spool_files.refuse_symlinks(path)
    except SpoolError:
        conn.close()
        raise
    return conn


def open_spool_file(path: str | Path) -> sqlite3.Connection:
    """Open (creating directories and schema) and check the file; a corrupt one is set aside."""
    path = Path(path)
    spool_files.prepare(path)
    try:
        return _open_checked(path)
    except sqlite3.DatabaseError as exc:
        code = getattr(exc, "sqlite_errorcode", None)
        if (
            code not in _CORRUPT_CODES
            and "malformed" not in str(exc)
            and "quick_check" not in str(exc)
            and "foreign schema" not in str(exc)
        ):
            raise SpoolError(f"spool {path}: cannot open: {exc}") from exc
        moved = move_aside(path)
        LOGGER.error(
            "spool %s is corrupt (%s); moved it to %s and started an empty spool", path, exc, moved
        )
    spool_files.prepare(path)
    try:
        return _open_checked(path)
    except sqlite3.DatabaseError as exc:
        raise SpoolError(f"spool {path}: cannot open a fresh spool: {exc}") from exc


def _open_checked(path: Path) -> sqlite3.Connection:
    conn = connect(path)
    try:
        result = [row[0] for row in conn.execute("PRAGMA quick_check")]
        if result != ["ok"]:
            raise sqlite3.DatabaseError(f"quick_check: {'; '.join(map(str, result[:3]))}")
        conn.executescript(_SCHEMA)
        # a file of something else (another program's, or a future incompatible layout) is set
        # aside like a corrupt one rather than failing the start
        columns = tuple(row[1] for row in conn.execute("PRAGMA table_info(uplinks)"))
        if columns != _UPLINK_COLUMNS:
            raise sqlite3.DatabaseError(f"foreign schema: table uplinks has columns {columns}")
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    except BaseException:
        conn.close()
        raise
    spool_files.narrow_modes(path)  # -wal/-shm left by an older release
    return conn


def move_aside(path: Path) -> Path:
    """Rename ``path`` (and its -wal/-shm files) to ``<path>.corrupt-<UTC timestamp>``."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    counter = 1
    while target.exists():
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{counter}")
        counter += 1
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{path}{suffix}")
        if source.exists():
            os.replace(source, f"{target}{suffix}")
    return target


def thread_write_bytes() -> int:
    """Bytes this thread caused to be written to the block layer (Linux /proc thread io)."""
    try:
        with open("/proc/thread-self/io", "rb") as io:
            for line in io:
                if line.startswith(b"write_bytes:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def write_group(
    conn: sqlite3.Connection,
    batch: Sequence[Any],
    deletes: list[int],
    counters: dict[str, int],
    quarantine: Sequence[int] = (),
    row_limit: int = spool_rows.MAX_RECORD_BYTES,
) -> None:
    """One group transaction: move bad rows to quarantine, delete acked rows, insert records,
    store counters. Rolls back and re-raises on any error (SQLITE_FULL included)."""
    try:
        conn.execute("BEGIN IMMEDIATE")
        if quarantine:
            spool_rows.move_rows(conn, list(quarantine), row_limit)
        if deletes:
            conn.executemany("DELETE FROM uplinks WHERE seq = ?", ((s,) for s in deletes))
        if batch:
            conn.executemany(
                "INSERT OR REPLACE INTO uplinks(seq, backend, received_at, buffered, payload) "
                "VALUES (?, ?, ?, ?, ?)",
                ((r.seq, r.backend, r.received_at, int(r.buffered), r.payload) for r in batch),
            )
        if counters:
            conn.executemany(
                "INSERT INTO counters(name, value) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                counters.items(),
            )
        conn.execute("COMMIT")
    except sqlite3.Error:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise


def present_rows(conn: sqlite3.Connection, seqs: Iterable[int]) -> dict[int, tuple[str, int]]:
    """Which of ``seqs`` are rows in the file: seq -> (backend, counted size)."""
    found: dict[int, tuple[str, int]] = {}
    seqs = list(seqs)
    for start in range(0, len(seqs), 500):
        chunk = seqs[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for seq, backend, length in conn.execute(
            f"SELECT seq, backend, {SIZE_SQL} FROM uplinks WHERE seq IN ({marks})", chunk
        ):
            found[int(seq)] = (backend, int(length) + RECORD_OVERHEAD)
    return found


def read_counters(conn: sqlite3.Connection) -> dict[str, int]:
    """The counters the daemon persisted (dropped, delivered, ...)."""
    return {name: int(value) for name, value in conn.execute("SELECT name, value FROM counters")}


@contextlib.contextmanager
def existing_spool(path: str | Path) -> Iterator[sqlite3.Connection]:
    """A connection to an existing spool file, for the CLI; never creates or moves the file."""
    spool_files.refuse_symlinks(path)
    if not Path(path).is_file():
        raise SpoolError(f"no spool file at {path}")
    try:
        conn = connect(path)
        conn.executescript(_SCHEMA)
    except sqlite3.DatabaseError as exc:
        raise SpoolError(f"spool {path}: cannot read: {exc}") from exc
    try:
        yield conn
    finally:
        conn.close()


def file_stats(
    path: str | Path, *, now: float | None = None, max_bytes: int = 64 * 1024 * 1024
) -> SpoolFileStats:
    """The committed view of a spool file (``spool stats --json``; edge_agent.models.spool):
    pending, bytes, oldest_age_s, dropped, per backend; ``quarantined`` (rows set aside) and
    ``bad_rows`` (not yet set aside: no daemon opened it)."""
    now = time.time() if now is None else now
    limit = spool_rows.row_limit(max_bytes, RECORD_OVERHEAD)
    with existing_spool(path) as conn:
        backends: dict[str, dict[str, float | int]] = {}
        rows = conn.execute(
            f"SELECT backend, COUNT(*), COALESCE(SUM({SIZE_SQL}), 0), MIN(received_at) "
            f"FROM uplinks WHERE {spool_rows.reason_sql(limit)} IS NULL "
            "GROUP BY backend ORDER BY backend"
        ).fetchall()
        counters = read_counters(conn)
        quarantined = spool_rows.quarantined_count(conn)
        bad_rows = spool_rows.bad_row_count(conn, limit)
    for backend, count, payload_bytes, oldest in rows:
        backends[backend] = {
            "pending": int(count),
            "bytes": int(payload_bytes) + RECORD_OVERHEAD * int(count),
            "oldest_age_s": round(max(0.0, now - oldest), 3) if oldest is not None else 0.0,
            "dropped": counters.get(BACKEND_DROPPED + backend, 0),
        }
    for name, value in counters.items():  # a backend with drops and nothing pending
        if name.startswith(BACKEND_DROPPED):
            empty = {"pending": 0, "bytes": 0, "oldest_age_s": 0.0, "dropped": value}
            backends.setdefault(name.removeprefix(BACKEND_DROPPED), empty)
    backends = dict(sorted(backends.items()))
    stats: dict[str, Any] = {
        "path": str(path),
        "pending": sum(int(b["pending"]) for b in backends.values()),
        "bytes": sum(int(b["bytes"]) for b in backends.values()),
        "oldest_age_s": max((float(b["oldest_age_s"]) for b in backends.values()), default=0.0),
        "file_bytes": sum(
            os.path.getsize(f"{path}{s}") for s in ("", "-wal") if os.path.exists(f"{path}{s}")
        ),
    }
    for name in ("dropped", "delivered", "spooled", "committed_writes", "disk_bytes_written"):
        stats[name] = counters.get(name, 0)
    stats["enospc_errors"] = counters.get("enospc_errors", 0)
    stats["purged"] = counters.get("purged", 0)
    stats["quarantined"] = quarantined
    stats["bad_rows"] = bad_rows
    stats["backends"] = backends
    return cast(SpoolFileStats, stats)


#: decodes one stored payload to a JSON-ready dict, or None when it cannot
RecordDecoder = Callable[[bytes], "dict[str, Any] | None"]


def export_records(
    path: str | Path,
    decoders: Mapping[str, RecordDecoder] | None = None,
    *,
    max_bytes: int = 64 * 1024 * 1024,
) -> Iterator[dict[str, Any]]:
    """Every committed record, oldest first, as a JSON-ready dict: hex payload, and ``uplink``
    decoded by ``decoders[backend]`` (each backend decodes its own rows) when it can. Rows that
    cannot be uplinks (``spool_rows.reason_sql``) are skipped, never read."""
    decoders = decoders or {}
    limit = spool_rows.row_limit(max_bytes, RECORD_OVERHEAD)
    with existing_spool(path) as conn:
        cursor = conn.execute(
            "SELECT seq, backend, received_at, buffered, payload FROM uplinks "
            f"WHERE {spool_rows.reason_sql(limit)} IS NULL ORDER BY seq"
        )
        for seq, backend, received_at, buffered, payload in cursor:
            record: dict[str, Any] = {
                "seq": seq,
                "backend": backend,
                "received_at": received_at,
                "buffered": bool(buffered),
                "payload_hex": bytes(payload).hex(),
            }
            decode = decoders.get(backend)
            if decode is not None and (decoded := decode(bytes(payload))) is not None:
                record["uplink"] = decoded
            yield record


def purge(path: str | Path) -> int:
    """Delete every committed record (and every row set aside in quarantine) in one
    transaction; returns how many records. Counted as purged."""
    with existing_spool(path) as conn:
        try:
            conn.execute("BEGIN IMMEDIATE")
            count = conn.execute("SELECT COUNT(*) FROM uplinks").fetchone()[0]
            conn.execute("DELETE FROM uplinks")
            conn.execute("DELETE FROM quarantine")
            conn.execute(
                "INSERT INTO counters(name, value) VALUES('purged', ?) "
                "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
                (count,),
            )
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise SpoolError(f"spool {path}: purge failed: {exc}") from exc
    return int(count)
