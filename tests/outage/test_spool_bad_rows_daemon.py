"""The daemon on a spool holding rows that cannot be uplinks (an INTEGER payload, a NULL one):
it sets them aside, sends the others in order, never publishes the bad ones, and exits cleanly."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.agent.mqtt_helpers import run_agent
from tests.outage.helpers import Collector, agent_config, stored_uplink, write_scenario

pytestmark = [pytest.mark.broker, pytest.mark.timeout(90)]

#: scenario packet numbers 0..9 in seqs 1..10; seq 4 (packet 3) and seq 7 (packet 6) are bad
BAD = {4: 200_000_000, 7: None}


def damaged_spool(path: Path) -> None:
    """A spool file whose payload column allows NULL (the columns match, the constraint not)."""
    conn = sqlite3.connect(str(path))
    conn.executescript(
        "CREATE TABLE uplinks (seq INTEGER PRIMARY KEY, backend TEXT NOT NULL, "
        "received_at REAL NOT NULL, buffered INTEGER NOT NULL, payload BLOB);"
    )
    rows = [
        (seq, time.time(), BAD[seq] if seq in BAD else stored_uplink(seq - 1))
        for seq in range(1, 11)
    ]
    conn.executemany("INSERT INTO uplinks VALUES (?, 'chirpstack', ?, 1, ?)", rows)
    conn.commit()
    conn.close()


def test_bad_rows_are_set_aside_and_the_rest_drains_in_order(
    broker_factory, tmp_path: Path, collectors
) -> None:
    spool = tmp_path / "spool.db"
    damaged_spool(spool)
    broker = broker_factory()
    broker.start()
    collector = Collector(broker.port)
    collectors.append(collector)
    cfg = agent_config(
        tmp_path / "agent.toml",
        broker.url,
        spool=spool,
        scenario=write_scenario(tmp_path / "empty.jsonl", []),
        exit_when_done=True,
    )
    proc = run_agent(cfg)
    try:
        _out, err = proc.communicate(timeout=40)
    finally:
        proc.kill()
    assert proc.returncode == 0, err[-3000:]  # drained (nothing stuck) and stopped cleanly
    assert "Traceback" not in err, err[-3000:]
    assert "set aside 2 rows that cannot be uplinks" in err, err[-3000:]
    seqs = collector.wait_for(lambda s: len(s) >= 8, 10)
    time.sleep(0.3)
    assert collector.seqs() == [0, 1, 2, 4, 5, 7, 8, 9]  # in order, the bad ones never sent
    stats = subprocess.run(
        [sys.executable, "-m", "edge_agent.cli", "spool", "stats", "-c", str(cfg), "--json"],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ.copy(),
    )
    numbers = json.loads(stats.stdout)
    assert (numbers["pending"], numbers["quarantined"], numbers["bad_rows"]) == (0, 2, 0)
    assert len(seqs) >= 8
