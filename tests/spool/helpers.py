"""Helpers shared by the spool tests."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

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


@pytest.fixture
def tiny_tmpfs(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A 256 KiB tmpfs (needs root and mount); skipped where it cannot be mounted."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {result.stderr.decode().strip()}")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)
