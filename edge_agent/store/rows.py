"""Rows that cannot be uplinks: found in SQL, set aside in the ``quarantine`` table, counted.

A spool file may be damaged or tampered with: a payload that is not a BLOB (an INTEGER would
make ``bytes(value)`` allocate that many bytes), or far larger than any uplink a backend
encodes. Such a row is recognised with ``typeof()``/``length()`` in SQL, which read only the
record header (never a BLOB's content), and is moved out of ``uplinks`` into ``quarantine``:
never handed to a backend, never counted as pending, never loaded whole into memory.
"""

from __future__ import annotations

import sqlite3
import time

#: the largest payload a row may hold whatever ``max_bytes`` says: 8x the largest record a
#: backend encodes (a 255-byte PHYPayload with every metadata field is about 1-2 KiB)
MAX_RECORD_BYTES = 16 * 1024
#: a value set aside is kept in ``quarantine.payload`` only when it is one of these types
#: (small by nature); a BLOB or TEXT is recorded by type and size only, never read
_KEPT_TYPES = "('integer', 'real', 'null')"

QUARANTINE_SCHEMA = """
CREATE TABLE IF NOT EXISTS quarantine (
    seq INTEGER PRIMARY KEY,
    backend,
    received_at,
    buffered,
    payload,
    payload_type TEXT NOT NULL,
    payload_bytes INTEGER,
    reason TEXT NOT NULL,
    quarantined_at REAL NOT NULL
);
"""


def row_limit(max_bytes: int, record_overhead: int) -> int:
    """Largest payload a spool row may hold: ``min(MAX_RECORD_BYTES, max_bytes - overhead)``."""
    return max(1, min(MAX_RECORD_BYTES, int(max_bytes) - record_overhead))


def reason_sql(limit: int) -> str:
    """An SQL expression over an ``uplinks`` row: NULL when it can be an uplink, else why not.

    Only ``typeof()`` and ``length()`` of a BLOB are used on the payload: both read the record
    header, not the value.
    """
    limit = int(limit)
    return (
        "(CASE WHEN typeof(payload) != 'blob' THEN 'payload is ' || typeof(payload)"
        f" WHEN length(payload) > {limit} THEN 'payload of ' || length(payload)"
        f" || ' bytes, over the {limit}-byte row limit'"
        " WHEN typeof(received_at) NOT IN ('real', 'integer')"
        " THEN 'received_at is ' || typeof(received_at)"
        " WHEN typeof(backend) != 'text' THEN 'backend is ' || typeof(backend)"
        " WHEN typeof(buffered) != 'integer' THEN 'buffered is ' || typeof(buffered)"
        " END)"
    )


def guarded_payload_sql(limit: int) -> str:
    """The payload column when the row is sound, else NULL (so a bad value is never read)."""
    return f"(CASE WHEN {reason_sql(limit)} IS NULL THEN payload END)"


def _move(conn: sqlite3.Connection, where: str, params: tuple, limit: int) -> int:
    """Copy the rows matching ``where`` (as metadata) into quarantine, then delete them."""
    cursor = conn.execute(
        "INSERT OR REPLACE INTO quarantine(seq, backend, received_at, buffered, payload, "
        "payload_type, payload_bytes, reason, quarantined_at) "
        f"SELECT seq, backend, received_at, buffered, "
        f"CASE WHEN typeof(payload) IN {_KEPT_TYPES} THEN payload END, typeof(payload), "
        "CASE WHEN typeof(payload) = 'blob' THEN length(payload) END, "
        f"COALESCE({reason_sql(limit)}, 'set aside'), ? FROM uplinks WHERE {where}",
        (time.time(), *params),
    )
    moved = cursor.rowcount
    conn.execute(f"DELETE FROM uplinks WHERE {where}", params)
    return max(0, moved)


def quarantine_bad_rows(conn: sqlite3.Connection, limit: int) -> list[tuple[int, str, str]]:
    """Move every row that cannot be an uplink to quarantine (one transaction, at open).

    Returns ``(seq, backend, reason)`` of each one moved.
    """
    found = conn.execute(
        f"SELECT seq, backend, {reason_sql(limit)} AS why FROM uplinks "
        "WHERE why IS NOT NULL ORDER BY seq"
    ).fetchall()
    if not found:
        return []
    conn.execute("BEGIN IMMEDIATE")
    try:
        _move(conn, f"{reason_sql(limit)} IS NOT NULL", (), limit)
        conn.execute("COMMIT")
    except sqlite3.Error:
        conn.execute("ROLLBACK")
        raise
    return [(int(seq), str(backend), str(why)) for seq, backend, why in found]


def move_rows(conn: sqlite3.Connection, seqs: list[int], limit: int) -> int:
    """Inside the caller's transaction: move these rows (found bad at take) to quarantine."""
    moved = 0
    for start in range(0, len(seqs), 500):
        chunk = seqs[start : start + 500]
        marks = ",".join("?" * len(chunk))
        moved += _move(conn, f"seq IN ({marks})", tuple(chunk), limit)
    return moved


def quarantined_count(conn: sqlite3.Connection) -> int:
    """Rows in the quarantine table (0 when the file has none)."""
    try:
        return int(conn.execute("SELECT COUNT(*) FROM quarantine").fetchone()[0])
    except sqlite3.OperationalError:  # a file written before the table existed
        return 0


def bad_row_count(conn: sqlite3.Connection, limit: int) -> int:
    """Rows still in ``uplinks`` that cannot be uplinks (a file no daemon opened since)."""
    sql = f"SELECT COUNT(*) FROM uplinks WHERE {reason_sql(limit)} IS NOT NULL"
    return int(conn.execute(sql).fetchone()[0])
