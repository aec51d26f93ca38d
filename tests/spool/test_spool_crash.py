"""SIGKILL during an outage: commit_interval_ms = 0 loses nothing; the default at most the
records appended within the last commit_interval before the kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.spool.helpers import rows_on_disk

# The child appends uplinks forever (the broker is "down": nothing is ever acked) and prints
# "<index> <monotonic time>" after each append returned.
CHILD = """
import sys, time
from edge_agent.store.spool import Spool, SpoolConfig
spool = Spool(SpoolConfig(path=sys.argv[1], commit_interval_ms=int(sys.argv[2])))
store = spool.store("cs")
index = 0
while True:
    store.append(b"uplink-%08d" % index, received_at=time.time(), buffered=True)
    print(index, time.monotonic(), flush=True)
    index += 1
    time.sleep(0.005)
"""

#: scheduling slack on a loaded 2-core machine for the committer thread to run its tick
SLACK_S = 1.0


def run_and_kill(path: Path, interval_ms: int, until: float) -> tuple[list[float], float]:
    """Start the child, read its appends for ``until`` seconds, SIGKILL it mid-stream."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(interval_ms)],
        stdout=subprocess.PIPE,
        env=os.environ.copy(),
        text=True,
    )
    assert child.stdout is not None
    times: list[float] = []
    start = time.monotonic()
    try:
        for line in child.stdout:
            times.append(float(line.split()[1]))
            if time.monotonic() - start > until and len(times) > 20:
                break
        killed_at = time.monotonic()
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    return times, killed_at


def payload_indexes(path: Path) -> list[int]:
    import sqlite3

    conn = sqlite3.connect(str(path))
    try:
        rows = conn.execute("SELECT payload FROM uplinks ORDER BY seq").fetchall()
    finally:
        conn.close()
    return [int(bytes(p)[7:]) for (p,) in rows]


def test_sigkill_with_commit_interval_zero_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    times, _ = run_and_kill(path, 0, until=0.5)
    on_disk = payload_indexes(path)
    # every append that returned is on disk, in order (one more may have committed unprinted)
    assert on_disk[: len(times)] == list(range(len(times)))
    assert len(on_disk) in (len(times), len(times) + 1)


def test_sigkill_with_default_interval_loses_at_most_the_last_interval(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    times, killed_at = run_and_kill(path, 1000, until=3.0)
    on_disk = payload_indexes(path)
    assert on_disk == list(range(len(on_disk))), "committed records are a gap-free prefix"
    must_survive = [i for i, t in enumerate(times) if t <= killed_at - 1.0 - SLACK_S]
    assert must_survive, "the child ran long enough to have committed groups"
    assert len(on_disk) > must_survive[-1]


def test_sigkill_leaves_a_file_that_opens_without_being_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    run_and_kill(path, 0, until=0.3)
    from edge_agent.store.spool import Spool, SpoolConfig

    spool = Spool(SpoolConfig(path=str(path)), autocommit=False)
    try:
        assert spool.stats()["pending"] == len(rows_on_disk(path)) > 0
    finally:
        spool.close()
    assert list(tmp_path.glob("*.corrupt-*")) == []
