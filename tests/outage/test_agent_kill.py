"""The agent SIGKILLed during an outage and started again: what the spool promised survives.

The first agent runs as a subprocess against a broker that is down, receives a stream and is
killed; the second agent (an empty scenario, so it replays nothing) finds the broker up and
drains the spool of the first one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.agent.mqtt_helpers import run_agent
from tests.outage.helpers import (
    SubCollector,
    agent_config,
    connections_of,
    session_keeping_broker,
    write_scenario,
)

pytestmark = [pytest.mark.broker, pytest.mark.timeout(90)]

SPACING_MS = 10
COUNT = 400  # 4 s of traffic; the agent is killed 2.5 s into it
KILL_AFTER_S = 2.5
#: scheduling slack on a loaded test machine: radio poll, log pipe, thread switches
SLACK_S = 0.3


def wait_for_line(proc: subprocess.Popen[str], text: str, timeout: float) -> list[str]:
    """Read stderr until a line contains ``text``; the rest is drained in the background."""
    lines: list[str] = []
    found = threading.Event()

    def reader() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if text in line:
                found.set()

    threading.Thread(target=reader, daemon=True).start()
    assert found.wait(timeout), f"no {text!r} from the agent: {''.join(lines)[-2000:]}"
    return lines


@pytest.mark.parametrize(("interval_ms", "may_lose_s"), [(0, 0.0), (1000, 1.0)])
def test_agent_killed_during_outage_loses_at_most_one_commit_interval(
    broker_factory, tmp_path: Path, collectors, interval_ms: int, may_lose_s: float
) -> None:
    broker, collector = session_keeping_broker(broker_factory, tmp_path)
    collectors.append(collector)
    broker.stop()  # down for the whole life of the first agent
    spool = tmp_path / "spool.db"
    times = [100 + SPACING_MS * i for i in range(COUNT)]
    first = agent_config(
        tmp_path / "first.toml",
        broker.url,
        spool=spool,
        scenario=write_scenario(tmp_path / "stream.jsonl", times),
        spool_extra=f"commit_interval_ms = {interval_ms}",
    )
    proc = run_agent(first)
    try:
        wait_for_line(proc, "scenario clock starts", 30)
        clock_started = time.monotonic()  # at or after the real start: errs towards fewer
        time.sleep(KILL_AFTER_S)
        proc.send_signal(signal.SIGKILL)
        elapsed_ms = (time.monotonic() - clock_started) * 1000
    finally:
        proc.kill()
        proc.wait(10)
    received_before_kill = sum(1 for t in times if t <= elapsed_ms - SLACK_S * 1000)
    promised = sum(1 for t in times if t <= elapsed_ms - (SLACK_S + may_lose_s) * 1000)

    broker.start()
    second = agent_config(
        tmp_path / "second.toml",
        broker.url,
        spool=spool,
        scenario=write_scenario(tmp_path / "empty.jsonl", []),
        exit_when_done=True,
    )
    proc = run_agent(second)
    try:
        _out, err = proc.communicate(timeout=40)
    finally:
        proc.kill()
    assert proc.returncode == 0, err[-3000:]
    assert connections_of(broker, SubCollector.CLIENT_ID) >= 2
    deadline = time.monotonic() + 5
    while len(collector.seqs()) < promised and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)

    arrivals = collector.arrivals()
    seqs = [a.seq for a in arrivals]
    assert seqs == list(range(len(seqs)))  # a gap-free prefix, in order, no duplicate
    assert len(seqs) >= promised  # lost at most the last commit interval (+ slack)
    assert all(a.frame.rx_info.metadata["buffered"] == "true" for a in arrivals)
    lost = max(0, received_before_kill - len(seqs))
    print(f"commit_interval_ms={interval_ms}: {len(seqs)} drained, ~{lost} lost at the kill")


def test_sigterm_commits_the_memory_tail_before_exit(broker_factory, tmp_path: Path) -> None:
    broker = broker_factory()  # never started: every uplink waits in the spool
    spool = tmp_path / "spool.db"
    cfg = agent_config(
        tmp_path / "agent.toml",
        broker.url,
        spool=spool,
        scenario=write_scenario(tmp_path / "s.jsonl", [100 + 5 * i for i in range(50)]),
        spool_extra="commit_interval_ms = 60000",  # nothing would reach the disk on its own
    )
    proc = run_agent(cfg)
    try:
        lines = wait_for_line(proc, "scenario clock starts", 30)
        time.sleep(1.0)  # the 50 uplinks are received in 0.35 s
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    finally:
        proc.kill()
    stats = subprocess.run(
        [sys.executable, "-m", "edge_agent.cli", "spool", "stats", "-c", str(cfg), "--json"],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ.copy(),
    )
    numbers = json.loads(stats.stdout)
    assert numbers["pending"] == 50
    assert numbers["spooled"] == 50 and numbers["dropped"] == 0
    deadline = time.monotonic() + 5  # the reader thread may still be reading the last lines
    while not any("spool: 50 pending" in line for line in lines):  # the summary at exit
        assert time.monotonic() < deadline, "no spool summary at exit"
        time.sleep(0.05)
