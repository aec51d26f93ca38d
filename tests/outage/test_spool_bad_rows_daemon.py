"""The daemon on a spool holding rows that cannot be uplinks (an INTEGER payload, a NULL one):
it sets them aside, sends the others in order, never publishes the bad ones, and exits cleanly."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from edge_agent.store.db import file_stats
from tests.agent.mqtt_helpers import run_to_completion
from tests.outage.helpers import drain_setup, stored_uplink

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
    collector, cfg = drain_setup(broker_factory, collectors, tmp_path, spool, exit_when_done=True)
    proc = run_to_completion(cfg)
    err = proc.stderr
    assert proc.returncode == 0, err[-3000:]  # drained (nothing stuck) and stopped cleanly
    assert "Traceback" not in err, err[-3000:]
    assert "set aside 2 rows that cannot be uplinks" in err, err[-3000:]
    seqs = collector.wait_for(lambda s: len(s) >= 8, 10)
    time.sleep(0.3)
    assert collector.seqs() == [0, 1, 2, 4, 5, 7, 8, 9]  # in order, the bad ones never sent
    numbers = file_stats(spool)  # what `spool stats --json` prints
    assert (numbers["pending"], numbers["quarantined"], numbers["bad_rows"]) == (0, 2, 0)
    assert len(seqs) >= 8
