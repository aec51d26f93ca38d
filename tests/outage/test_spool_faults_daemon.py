"""Spool faults seen from the daemon: a full disk, a corrupt file, an unusable directory.
In each case the agent starts, keeps forwarding and says what happened."""

from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path

import pytest

from edge_agent.config import load_config
from edge_agent.service import AgentService
from edge_agent.store.memory import MemoryUplinkStore
from tests.outage.helpers import (
    Collector,
    SubCollector,
    agent_config,
    connections_of,
    session_keeping_broker,
    wait_until,
    write_scenario,
)

pytestmark = [pytest.mark.broker, pytest.mark.timeout(90)]


def fill(directory: Path) -> Path:
    """Write a file into ``directory`` until its filesystem is full."""
    filler = directory / "filler"
    with contextlib.suppress(OSError), filler.open("wb", buffering=0) as handle:
        while True:
            handle.write(bytes(4096))
    return filler


def test_full_disk_is_logged_counted_and_survived(
    broker_factory, tmp_path: Path, tiny_tmpfs: Path, running, collectors, caplog
) -> None:
    broker, collector = session_keeping_broker(broker_factory, tmp_path)
    collectors.append(collector)
    broker.stop()
    scenario = write_scenario(tmp_path / "s.jsonl", [100 + 10 * i for i in range(200)])
    cfg = agent_config(
        tmp_path / "a.toml", broker.url, spool=tiny_tmpfs / "spool.db", scenario=scenario
    )
    svc = AgentService(load_config(cfg))  # opens (creates) the spool
    running.append(svc)
    assert svc.uplinks.durable
    fill(tiny_tmpfs)  # no room left for a single WAL page
    with caplog.at_level(logging.ERROR, logger="edge_agent.store"):
        svc.start()
        wait_until(lambda: svc.counters.forwarded == 200, 30, "200 uplinks received")
        wait_until(lambda: svc.uplinks.stats()["memory"] == 200, 5, "a group commit tried")
    assert "disk full" in caplog.text
    broker.start()
    wait_until(lambda: connections_of(broker, SubCollector.CLIENT_ID) >= 3, 10, "collector")
    wait_until(lambda: svc.done, 30, "every uplink confirmed")
    wait_until(lambda: len(collector.seqs()) >= 200, 10, "200 uplinks at the collector")
    assert collector.seqs() == list(range(200))
    assert svc.uplinks.spool is not None
    stats = svc.uplinks.spool.stats()
    assert stats["enospc_errors"] >= 1
    assert stats["delivered"] == 200 and stats["dropped"] == 0


def five_uplinks_agent(broker, tmp_path: Path, spool: Path, running, collectors):  # type: ignore[no-untyped-def]
    """A collector, then an agent (constructed, not started) with a 5-uplink scenario."""
    collector = Collector(broker.port)
    collectors.append(collector)
    scenario = write_scenario(tmp_path / "s.jsonl", [100 + 50 * i for i in range(5)])
    cfg = agent_config(tmp_path / "a.toml", broker.url, spool=spool, scenario=scenario)
    svc = AgentService(load_config(cfg))
    running.append(svc)
    return svc, collector


def forwards_five(svc: AgentService, collector: Collector) -> None:
    """Start ``svc``; its 5 uplinks arrive once each, in order."""
    svc.start()
    wait_until(lambda: svc.done, 30, "5 uplinks confirmed")
    wait_until(lambda: len(collector.seqs()) >= 5, 10, "5 uplinks at the collector")
    time.sleep(0.2)
    assert collector.seqs() == list(range(5))


def test_corrupt_spool_is_set_aside_and_the_agent_forwards(
    broker, tmp_path: Path, running, collectors, caplog
) -> None:
    spool = tmp_path / "spool.db"
    spool.write_bytes(b"this was a spool before the SD card went bad\n" * 200)
    with caplog.at_level(logging.ERROR):
        svc, collector = five_uplinks_agent(broker, tmp_path, spool, running, collectors)
    assert svc.uplinks.durable
    moved = list(tmp_path.glob("spool.db.corrupt-*"))
    assert len(moved) == 1 and moved[0].read_bytes().startswith(b"this was a spool")
    assert any(r.levelno == logging.ERROR and "corrupt" in r.getMessage() for r in caplog.records)
    forwards_five(svc, collector)


def test_unusable_spool_directory_falls_back_to_memory_and_forwards(
    broker, tmp_path: Path, running, collectors, caplog
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the spool directory should be")
    spool = blocker / "spool.db"
    with caplog.at_level(logging.ERROR):
        svc, collector = five_uplinks_agent(broker, tmp_path, spool, running, collectors)
    assert not svc.uplinks.durable
    assert isinstance(svc.store, MemoryUplinkStore)
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any(str(spool) in e and "Fix:" in e for e in errors)
    forwards_five(svc, collector)


def test_full_spool_drops_the_oldest_and_keeps_accepting(
    broker_factory, tmp_path: Path, running, collectors
) -> None:
    broker, collector = session_keeping_broker(broker_factory, tmp_path)
    collectors.append(collector)
    broker.stop()
    scenario = write_scenario(tmp_path / "s.jsonl", [100 + 10 * i for i in range(120)])
    cfg = agent_config(
        tmp_path / "a.toml",
        broker.url,
        spool=tmp_path / "spool.db",
        scenario=scenario,
        spool_extra="max_bytes = 4096",  # room for about 40 uplinks
    )
    svc = AgentService(load_config(cfg))
    running.append(svc)
    svc.start()
    wait_until(lambda: svc.counters.forwarded == 120, 30, "120 uplinks received")
    stats = svc.uplinks.stats()
    kept = stats["pending"]
    assert 0 < kept < 120 and stats["dropped"] == 120 - kept  # every drop counted
    assert stats["bytes"] <= 4096
    broker.start()
    wait_until(lambda: svc.done, 30, "the kept uplinks confirmed")
    wait_until(lambda: len(collector.seqs()) >= kept, 10, "the kept uplinks at the collector")
    time.sleep(0.2)
    assert collector.seqs() == list(range(120 - kept, 120))  # the newest, in order
    assert svc.uplinks.stats()["delivered"] == kept
