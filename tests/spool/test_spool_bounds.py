"""Bounds: max_bytes and max_age_s drop the oldest records, counted and logged, never a crash."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from tests.spool.helpers import NOW, payload, rows_on_disk

RECORD = 70 + 32  # payload + counted overhead


def test_max_bytes_drops_the_oldest_in_memory_and_keeps_accepting(make_spool) -> None:
    store = make_spool(max_bytes=10 * RECORD).store("cs")
    seqs = [store.append(payload(i), received_at=NOW + i, buffered=False) for i in range(15)]
    assert store.pending() == 10
    assert [r.seq for r in store.take(100)] == seqs[5:]
    assert store.stats()["dropped"] == 5


def test_max_bytes_drops_committed_records_before_newer_memory_ones(
    make_spool, tmp_path: Path
) -> None:
    spool = make_spool(max_bytes=10 * RECORD)
    store = spool.store("cs")
    old = [store.append(payload(i), received_at=NOW + i, buffered=False) for i in range(8)]
    spool.flush()
    new = [store.append(payload(i), received_at=NOW + i, buffered=False) for i in range(8, 12)]
    spool.flush()
    assert [r.seq for r in store.take(100)] == old[2:] + new
    assert rows_on_disk(tmp_path / "spool.db") == old[2:] + new
    assert spool.stats()["bytes"] == 10 * RECORD


def test_drops_are_oldest_across_backends(make_spool) -> None:
    spool = make_spool(max_bytes=4 * RECORD)
    first, second = spool.store("a"), spool.store("b")
    first.append(payload(0), received_at=NOW, buffered=False)
    second.append(payload(1), received_at=NOW, buffered=False)
    first.append(payload(2), received_at=NOW, buffered=False)
    second.append(payload(3), received_at=NOW, buffered=False)
    second.append(payload(4), received_at=NOW, buffered=False)
    assert [r.payload for r in first.take(10)] == [payload(2)]
    assert [r.payload for r in second.take(10)] == [payload(1), payload(3), payload(4)]


def test_records_older_than_max_age_are_dropped_at_the_next_group(make_spool) -> None:
    spool = make_spool(max_age_s=60)
    store = spool.store("cs")
    store.append(payload(0), received_at=time.time() - 120, buffered=True)
    spool.flush()
    keep = store.append(payload(1), received_at=time.time(), buffered=False)
    spool.commit_once()
    assert [r.seq for r in store.take(10)] == [keep]
    assert spool.stats()["dropped"] == 1


def test_drops_are_logged_with_their_count(make_spool, caplog) -> None:
    store = make_spool(max_bytes=5 * RECORD).store("cs")
    with caplog.at_level(logging.WARNING, logger="edge_agent.store"):
        for i in range(8):
            store.append(payload(i), received_at=NOW, buffered=False)
    assert any("dropped the 1 oldest" in r.getMessage() for r in caplog.records)


def test_dropped_record_in_flight_acks_harmlessly(make_spool) -> None:
    store = make_spool(max_bytes=2 * RECORD).store("cs")
    first = store.append(payload(0), received_at=NOW, buffered=False)
    store.take(1)
    store.append(payload(1), received_at=NOW, buffered=False)
    store.append(payload(2), received_at=NOW, buffered=False)
    store.ack(first)
    stats = store.stats()
    assert (stats["pending"], stats["delivered"], stats["dropped"]) == (2, 0, 1)


def test_dropped_counter_survives_restart(make_spool) -> None:
    spool = make_spool(max_bytes=2 * RECORD)
    for i in range(5):
        spool.store("cs").append(payload(i), received_at=NOW, buffered=False)
    spool.close()
    assert make_spool(max_bytes=2 * RECORD).stats()["dropped"] == 3
