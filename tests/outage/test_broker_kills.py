"""The daemon in-process on the simulated radio while a real mosquitto is SIGKILLed and
restarted under it: nothing lost, order kept, duplicates only from the in-flight window."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest

from edge_agent.backends.chirpstack import MAX_INFLIGHT
from edge_agent.config import load_config
from edge_agent.service import AgentService
from tests.outage.helpers import (
    SubCollector,
    agent_config,
    ascending_runs,
    connections_of,
    session_keeping_broker,
    wait_until,
    write_scenario,
)

pytestmark = [pytest.mark.broker, pytest.mark.timeout(90)]

COUNT = 5000
SPAN_MS = 10_000  # 500 uplinks/s: the simulated radio keeps up on a loaded 2-core machine
KILLS_S = (2.5, 5.0, 7.5)  # seconds after the scenario started
DOWN_S = 0.7


def test_three_broker_kills_during_5000_uplinks_lose_nothing_and_keep_order(
    broker_factory, tmp_path: Path, running, collectors
) -> None:
    broker, collector = session_keeping_broker(broker_factory, tmp_path)
    collectors.append(collector)
    times = [100 + i * SPAN_MS // COUNT for i in range(COUNT)]
    scenario = write_scenario(tmp_path / "stream.jsonl", times)
    cfg = agent_config(
        tmp_path / "agent.toml", broker.url, spool=tmp_path / "spool.db", scenario=scenario
    )
    svc = AgentService(load_config(cfg))
    running.append(svc)
    svc.start()
    wait_until(svc.radio_ready.is_set, 30, "the radio")
    start = time.monotonic()  # the scenario clock starts at the first FIFO poll, right after
    for number, kill_at in enumerate(KILLS_S):
        time.sleep(max(0.0, start + kill_at - time.monotonic()))
        broker.stop(kill=True)
        time.sleep(DOWN_S)
        broker.start()
        # the collector is back before the next kill (its session queued what it missed)
        reconnected = lambda n=number: connections_of(broker, SubCollector.CLIENT_ID) >= n + 3  # noqa: E731
        wait_until(reconnected, 10, "the collector reconnecting")
    wait_until(lambda: svc.done, 40, "every uplink confirmed")
    # the simulated radio must keep up first (a FIFO overrun would lose packets before the spool)
    assert svc.counters.forwarded == COUNT, "the radio lost packets: machine too loaded?"
    wait_until(lambda: len(set(collector.seqs())) >= COUNT, 10, "every uplink at the collector")
    seqs = collector.seqs()

    assert set(seqs) == set(range(COUNT))  # none lost
    runs = ascending_runs(seqs)
    assert len(runs) <= 1 + len(KILLS_S)  # strictly in order within every connection
    first_seen = list(dict.fromkeys(seqs))
    assert first_seen == sorted(first_seen)  # and across them
    duplicates = len(seqs) - COUNT
    unconfirmed = svc.backend.counters.uplinks_unconfirmed
    assert duplicates <= unconfirmed <= len(KILLS_S) * MAX_INFLIGHT
    for earlier, later in itertools.pairwise(runs):
        resent = set(earlier) & set(later)
        # a duplicate is a tail of one connection published again at the head of the next
        assert resent == set(later[: len(resent)])
    assert svc.backend.counters.disconnects == len(KILLS_S)
    spool = svc.uplinks.stats()
    assert spool["delivered"] == COUNT and spool["dropped"] == 0 and spool["pending"] == 0
    arrivals = collector.arrivals()
    buffered = [a for a in arrivals if a.frame.rx_info.metadata.get("buffered") == "true"]
    assert buffered  # received while the broker was down
    assert all(a.frame.rx_info.gw_time.ToNanoseconds() / 1e9 < a.at for a in arrivals)
    print(f"buffered {len(buffered)}, duplicates {duplicates} <= unconfirmed {unconfirmed}")
