"""The daemon SIGKILLed while draining a backlog: what it would send again after a restart is at
most what was acked in the last ``commit_interval_ms`` plus what was in flight (docs/spool.md).

The backlog (3,000 ChirpStack uplinks) is written into the spool beforehand; the daemon drains
it at ``drain_max_per_s = 500`` to a real mosquitto and is killed mid-drain. What is left in
the file is what a restart would send; an uplink the subscriber received long enough before the
kill must not be in it.
"""

from __future__ import annotations

import signal
import sqlite3
import time
from pathlib import Path

import pytest
from chirpstack_api import gw

from edge_agent.spool_config import SpoolConfig
from edge_agent.store.spool import Spool
from tests.agent.mqtt_helpers import run_agent
from tests.outage.helpers import drain_setup, stored_uplink

pytestmark = [pytest.mark.broker, pytest.mark.timeout(120)]

BACKLOG = 3000
#: scheduling slack on a loaded test machine (PUBACK handling, committer tick, subscriber)
SLACK_S = 1.0


def left_in_spool(path: Path) -> list[int]:
    """Scenario sequence numbers of the rows a restart would send, in spool order."""
    conn = sqlite3.connect(str(path))
    try:
        rows = conn.execute("SELECT payload FROM uplinks ORDER BY seq").fetchall()
    finally:
        conn.close()
    return [int.from_bytes(gw.UplinkFrame.FromString(p).phy_payload[9:13], "big") for (p,) in rows]


@pytest.mark.parametrize(("interval_ms", "kill_after_s"), [(0, 2.5), (1000, 3.0)])
def test_sigkill_during_a_drain_resends_at_most_the_last_commit_interval(
    broker_factory, tmp_path: Path, collectors, interval_ms: int, kill_after_s: float
) -> None:
    spool_path = tmp_path / "spool.db"
    spool = Spool(SpoolConfig(path=str(spool_path)), autocommit=False)
    store = spool.store("chirpstack")  # the backend of a legacy [mqtt] table
    for seq in range(BACKLOG):
        store.append(stored_uplink(seq), received_at=time.time(), buffered=True)
    spool.close()

    collector, cfg = drain_setup(
        broker_factory,
        collectors,
        tmp_path,
        spool_path,
        spool_extra=f"commit_interval_ms = {interval_ms}\ndrain_max_per_s = 500",
    )
    proc = run_agent(cfg)
    try:
        collector.wait_for(lambda seqs: len(seqs) > 0, 30)
        time.sleep(kill_after_s)
        proc.send_signal(signal.SIGKILL)
        killed_at = time.time()
        proc.wait(10)
    finally:
        proc.kill()
        proc.wait(10)
    time.sleep(0.3)  # uplinks the broker forwarded before the kill reach the subscriber
    arrivals = {a.seq: a.at for a in reversed(collector.arrivals())}  # first arrival of each
    assert 20 < len(arrivals) < BACKLOG, "the kill happened during the drain"

    left = left_in_spool(spool_path)
    assert left == list(range(left[0], BACKLOG)), "what is left is the unconfirmed tail, in order"
    resent = [seq for seq in left if seq in arrivals]
    bound_s = interval_ms / 1000 + SLACK_S
    late = [seq for seq in resent if arrivals[seq] < killed_at - bound_s]
    assert late == [], (
        f"{len(late)} of {len(resent)} re-sendable uplinks were received more than "
        f"{bound_s} s before the kill (commit_interval_ms={interval_ms})"
    )
    recent = sum(1 for at in arrivals.values() if at >= killed_at - bound_s)
    assert len(resent) <= recent + 100  # + paho's in-flight window
    print(
        f"commit_interval_ms={interval_ms}: {len(arrivals)} delivered before the kill, "
        f"{len(resent)} would be sent again"
    )
