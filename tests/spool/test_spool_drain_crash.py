"""Acked deletes are durable within the commit interval: SIGKILL during a drain re-sends at most
the records acked in the last ``commit_interval_ms`` (plus those in flight), none with ``0``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edge_agent.store.spool import Spool, SpoolConfig
from tests.spool.helpers import NOW, payload, rows_on_disk

BACKLOG = 3000

# The child drains a committed backlog (take 100, ack each, ~1,500 acks a second) and prints
# "<seq> <monotonic time>" after each ack returned.
CHILD = """
import sys, time
from edge_agent.store.spool import Spool, SpoolConfig
spool = Spool(SpoolConfig(path=sys.argv[1], commit_interval_ms=int(sys.argv[2])))
print("open", time.monotonic(), flush=True)
while batch := spool.take("cs", 100):
    for record in batch:
        spool.ack("cs", record.seq)
        print(record.seq, time.monotonic(), flush=True)
        time.sleep(0.0005)
print("done", time.monotonic(), flush=True)
time.sleep(60)
"""

#: scheduling slack on a loaded 2-core machine for the committer thread to run its tick
SLACK_S = 1.0


def backlog(path: Path) -> None:
    spool = Spool(SpoolConfig(path=str(path)), autocommit=False)
    store = spool.store("cs")
    for index in range(BACKLOG):
        store.append(payload(index), received_at=NOW, buffered=True)
    spool.close()


def drain_and_kill(path: Path, interval_ms: int, kill_after_s: float) -> tuple[dict, float]:
    """Run the child, SIGKILL it ``kill_after_s`` after it opened; ``{seq: acked at}``, kill."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(interval_ms)],
        stdout=subprocess.PIPE,
        env=os.environ.copy(),
        text=True,
    )
    assert child.stdout is not None
    acked: dict[int, float] = {}
    try:
        opened = float(child.stdout.readline().split()[1])
        for line in child.stdout:
            word, at = line.split()
            if word == "done":
                break
            acked[int(word)] = float(at)
            if time.monotonic() - opened > kill_after_s:
                break
        child.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
    finally:
        child.kill()
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    return acked, killed_at


def test_an_ack_with_commit_interval_zero_is_durable_when_it_returns(make_spool, tmp_path):
    spool = make_spool(commit_interval_ms=0)
    store = spool.store("cs")
    for index in range(3):
        store.append(payload(index), received_at=NOW, buffered=False)
    assert rows_on_disk(tmp_path / "spool.db") == [1, 2, 3]
    for record in store.take(2):
        store.ack(record.seq)
    assert rows_on_disk(tmp_path / "spool.db") == [3]


def test_an_ack_is_durable_at_the_next_tick(make_spool, tmp_path, clock) -> None:
    spool = make_spool(commit_interval_ms=1000)
    store = spool.store("cs")
    for index in range(3):
        store.append(payload(index), received_at=NOW, buffered=False)
    spool.commit_once(force=True)
    [first] = store.take(1)
    store.ack(first.seq)
    assert rows_on_disk(tmp_path / "spool.db") == [1, 2, 3]  # not yet: batched
    clock.advance(0.5)
    spool.commit_once()  # the committer's next tick, half an interval later
    assert rows_on_disk(tmp_path / "spool.db") == [2, 3]


@pytest.mark.parametrize(("interval_ms", "kill_after_s"), [(0, 0.4), (0, 1.5), (200, 1.5)])
def test_sigkill_during_a_drain_resends_at_most_the_last_interval(
    tmp_path: Path, interval_ms: int, kill_after_s: float
) -> None:
    path = tmp_path / "spool.db"
    backlog(path)
    acked, killed_at = drain_and_kill(path, interval_ms, kill_after_s)
    assert 50 < len(acked) < BACKLOG, "the kill happened during the drain"
    left = rows_on_disk(path)
    assert left == list(range(left[0], BACKLOG + 1)), "what is left is the unacked tail"
    resent = [seq for seq in left if seq in acked]
    if interval_ms == 0:
        # every ack that returned was committed; at most the one being acked at the kill is not
        assert resent == [], f"{len(resent)} acked records would be sent again"
    else:
        bound_s = interval_ms / 1000 + SLACK_S
        late = [seq for seq in resent if acked[seq] < killed_at - bound_s]
        assert late == [], f"{len(late)} records acked more than {bound_s} s before the kill"
    print(f"commit_interval_ms={interval_ms}: {len(acked)} acked, {len(resent)} would be resent")
