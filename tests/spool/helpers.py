"""Helpers shared by the spool tests."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

#: a reception time near now (records older than max_age_s would be dropped)
NOW = time.time()


def payload(index: int, size: int = 70) -> bytes:
    """A recognisable payload of ``size`` bytes carrying ``index``."""
    head = f"uplink-{index:08d}".encode()
    return head + b"\x00" * (size - len(head))


def rows_on_disk(path: Path) -> list[int]:
    """Seqs committed in the spool file, read with a separate plain connection."""
    conn = sqlite3.connect(str(path))
    try:
        return [seq for (seq,) in conn.execute("SELECT seq FROM uplinks ORDER BY seq")]
    finally:
        conn.close()
