"""The spool check: the SQLite file opens read-only, passes its integrity check, what it holds.

An edge-agent spool (it has the ``uplinks`` table) is summarised by ``spool_db.file_stats``;
any other SQLite file generically: every table's row count and the oldest time-like column.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from edge_agent.diag.core import (
    CheckResult,
    DiagContext,
    check,
    failed,
    needs_config,
    passed,
    warned,
)
from edge_agent.diag.system import spool_path

TIME_COLUMNS = ("created_at", "received_at", "enqueued_at", "gw_time", "ts", "time")


def _oldest_age_s(db: sqlite3.Connection, table: str) -> float | None:
    columns = [row[1] for row in db.execute(f'PRAGMA table_info("{table}")')]
    for name in TIME_COLUMNS:
        if name in columns:
            (oldest,) = db.execute(f'SELECT MIN("{name}") FROM "{table}"').fetchone()
            if isinstance(oldest, (int, float)) and oldest > 0:
                # seconds, or milliseconds / microseconds since the epoch
                while oldest > 1e11:
                    oldest /= 1000.0
                return max(0.0, time.time() - oldest)
    return None


def _spool_facts(path: Path, max_bytes: int | None = None) -> CheckResult:
    """PASS/WARN from ``edge_agent.store.db.file_stats`` (pending, oldest, delivered, dropped,
    rows set aside)."""
    from edge_agent.errors import SpoolError
    from edge_agent.store.db import file_stats

    try:
        stats = file_stats(path) if max_bytes is None else file_stats(path, max_bytes=max_bytes)
    except SpoolError as exc:
        return failed(
            "spool",
            str(exc),
            "stop the daemon, move the file aside (records in it are lost) and restart",
        )
    oldest = float(stats["oldest_age_s"])
    detail = (
        f"{path} ({stats['file_bytes'] / 1024:.0f} KiB) ok; {stats['pending']} pending"
        f" ({stats['bytes']} bytes), oldest {oldest / 60:.0f} min; "
        f"delivered {stats['delivered']}, dropped {stats['dropped']}"
    )
    if stats["bad_rows"]:
        return warned(
            "spool",
            f"{detail}; {stats['bad_rows']} rows that cannot be uplinks (payload not a BLOB, or "
            "over the row limit): the daemon sets them aside at its next start",
            _BAD_ROWS_HINT,
        )
    if stats["quarantined"]:
        return warned(
            "spool",
            f"{detail}; {stats['quarantined']} rows set aside in its quarantine table (they "
            "cannot be uplinks and are never sent)",
            _BAD_ROWS_HINT,
        )
    if oldest > 3600:
        return warned(
            "spool", detail, "records wait for more than an hour: check the broker checks"
        )
    return passed("spool", detail)


_BAD_ROWS_HINT = (
    "the file was damaged or written by something else: find out what (the spool directory "
    "should be the agent's alone), look at them with sqlite3 (SELECT seq, backend, reason FROM "
    "quarantine), then 'edge-agent spool purge --yes' empties the spool and the quarantine "
    "(see 'Hostile or damaged spool files' in docs/spool.md)"
)


def _max_bytes(ctx: DiagContext) -> int | None:
    """``[spool] max_bytes`` when the config holds a valid one (it sets the row limit)."""
    table = getattr(ctx.config, "spool", None)
    value = table.get("max_bytes") if isinstance(table, dict) else getattr(table, "max_bytes", None)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@check("spool", "the on-disk spool: integrity, pending records, oldest")
def check_spool(ctx: DiagContext) -> CheckResult:
    """Open the spool read-only: ``PRAGMA quick_check``, rows per table, age of the oldest."""
    if skip := needs_config("spool", ctx):
        return skip
    path = spool_path(ctx)
    from edge_agent.errors import SpoolError
    from edge_agent.store.files import refuse_symlinks

    try:
        refuse_symlinks(path)
    except SpoolError as exc:
        return failed("spool", str(exc), "the daemon refuses it and keeps uplinks in memory only")
    if not path.exists():
        return passed("spool", f"{path} not created yet (the daemon creates it on first start)")
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=2.0)
    except sqlite3.Error as exc:
        return failed(
            "spool", f"{path} cannot be opened: {exc}", "check its owner (edge-agent) and mode"
        )
    try:
        (verdict,) = db.execute("PRAGMA quick_check").fetchone()
        if verdict != "ok":
            return failed(
                "spool",
                f"{path} is damaged: {verdict}",
                "stop the daemon, move the file aside (records in it are lost) and restart",
            )
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        if "uplinks" in tables:  # an edge-agent spool: its own reader gives the facts
            db.close()
            return _spool_facts(path, _max_bytes(ctx))
        parts, oldest = [], None
        for table in tables:
            if table.startswith("sqlite_"):
                continue
            (count,) = db.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()
            parts.append(f"{table}: {count}")
            age = _oldest_age_s(db, table) if count else None
            if age is not None:
                oldest = age if oldest is None else max(oldest, age)
    except sqlite3.DatabaseError as exc:
        return failed(
            "spool",
            f"{path} is not a readable SQLite database: {exc}",
            "stop the daemon, move the file aside (records in it are lost) and restart",
        )
    finally:
        db.close()
    size_kb = path.stat().st_size / 1024
    detail = f"{path} ({size_kb:.0f} KiB) ok; rows {', '.join(parts) or 'none'}"
    if oldest is not None:
        detail += f"; oldest {oldest / 60:.0f} min"
        if oldest > 3600:
            return warned(
                "spool", detail, "records wait for more than an hour: check the broker checks"
            )
    return passed("spool", detail)
