"""Spool semantics: FIFO per backend, at-least-once acks, rewind, restart, and what gets written."""

from __future__ import annotations

import time
from pathlib import Path

from tests.spool.helpers import NOW, payload, rows_on_disk


def test_take_hands_out_records_oldest_first(make_spool) -> None:
    store = make_spool().store("cs")
    seqs = [store.append(payload(i), received_at=NOW + 100.0 + i, buffered=False) for i in range(5)]
    taken = store.take(3) + store.take(10)
    assert [r.seq for r in taken] == seqs
    assert [r.payload for r in taken] == [payload(i) for i in range(5)]
    assert [r.received_at for r in taken] == [NOW + 100.0 + i for i in range(5)]


def test_each_backend_has_its_own_fifo(make_spool) -> None:
    spool = make_spool()
    first, second = spool.store("a"), spool.store("b")
    first.append(payload(1), received_at=NOW + 1.0, buffered=False)
    second.append(payload(2), received_at=NOW + 2.0, buffered=False)
    first.append(payload(3), received_at=NOW + 3.0, buffered=False)
    assert [r.payload for r in first.take(10)] == [payload(1), payload(3)]
    assert [r.payload for r in second.take(10)] == [payload(2)]


def test_acked_record_leaves_and_unacked_stays_pending(make_spool) -> None:
    store = make_spool().store("cs")
    one = store.append(payload(1), received_at=NOW + 1.0, buffered=False)
    store.append(payload(2), received_at=NOW + 2.0, buffered=False)
    store.take(2)
    store.ack(one)
    assert store.pending() == 1
    assert store.stats()["delivered"] == 1


def test_rewind_hands_out_unacked_records_again_in_order(make_spool) -> None:
    spool = make_spool()
    store = spool.store("cs")
    seqs = [store.append(payload(i), received_at=NOW + i, buffered=False) for i in range(4)]
    store.take(2)
    spool.flush()  # the first two are now on disk, the rest too
    store.append(payload(9), received_at=NOW + 9.0, buffered=False)
    store.take(10)
    store.ack(seqs[1])
    store.rewind()
    assert [r.seq for r in store.take(10)] == [seqs[0], seqs[2], seqs[3], seqs[3] + 1]


def test_take_returns_nothing_until_rewind_after_everything_was_taken(make_spool) -> None:
    store = make_spool().store("cs")
    store.append(payload(1), received_at=NOW + 1.0, buffered=False)
    store.take(5)
    assert store.take(5) == []
    assert store.wait(0) is False
    store.rewind()
    assert store.wait(0) is True


def test_record_acked_before_its_group_is_never_written(make_spool, tmp_path: Path) -> None:
    spool = make_spool()
    store = spool.store("cs")
    for i in range(50):
        seq = store.append(payload(i), received_at=NOW + i, buffered=False)
        store.take(1)
        store.ack(seq)
    assert spool.flush() == 0
    assert spool.stats()["committed_writes"] == 0
    assert rows_on_disk(tmp_path / "spool.db") == []


def test_group_commit_writes_only_records_older_than_half_the_interval(
    make_spool, clock, tmp_path: Path
) -> None:
    spool = make_spool(commit_interval_ms=1000)
    store = spool.store("cs")
    old = store.append(payload(1), received_at=NOW + 1.0, buffered=False)
    clock.advance(0.6)
    store.append(payload(2), received_at=NOW + 2.0, buffered=False)
    assert spool.commit_once() == 1
    assert rows_on_disk(tmp_path / "spool.db") == [old]
    assert spool.stats()["committed_writes"] == 1


def test_ack_of_a_committed_record_deletes_it_in_the_next_group(make_spool, tmp_path: Path) -> None:
    spool = make_spool()
    store = spool.store("cs")
    seq = store.append(payload(1), received_at=NOW + 1.0, buffered=False)
    spool.flush()
    store.take(1)
    store.ack(seq)
    assert rows_on_disk(tmp_path / "spool.db") == [seq]
    spool.commit_once()
    assert rows_on_disk(tmp_path / "spool.db") == []
    assert store.pending() == 0


def test_records_survive_reopen_in_order_and_marked_buffered(make_spool) -> None:
    spool = make_spool()
    store = spool.store("cs")
    seqs = [store.append(payload(i), received_at=NOW + 10.0 + i, buffered=False) for i in range(3)]
    spool.close()  # commits the memory tail
    again = make_spool().store("cs")
    taken = again.take(10)
    assert [r.seq for r in taken] == seqs
    assert [r.received_at for r in taken] == [NOW + 10.0, NOW + 11.0, NOW + 12.0]
    assert all(r.buffered for r in taken)


def test_close_is_idempotent(make_spool) -> None:
    spool = make_spool()
    spool.store("cs").append(payload(1), received_at=NOW + 1.0, buffered=False)
    spool.close()
    spool.close()
    assert make_spool().store("cs").pending() == 1


def test_commit_interval_zero_commits_inside_append(make_spool, tmp_path: Path) -> None:
    spool = make_spool(commit_interval_ms=0)
    seq = spool.store("cs").append(payload(1), received_at=NOW + 1.0, buffered=False)
    assert rows_on_disk(tmp_path / "spool.db") == [seq]


def test_wait_wakes_when_another_thread_appends(make_spool) -> None:
    import threading

    store = make_spool().store("cs")
    timer = threading.Timer(
        0.05, lambda: store.append(payload(1), received_at=NOW + 1.0, buffered=False)
    )
    timer.start()
    try:
        assert store.wait(10.0) is True
    finally:
        timer.join()
    assert len(store.take(1)) == 1


def test_drain_rate_cap_limits_records_per_take(make_spool, clock) -> None:
    store = make_spool(drain_max_per_s=5.0).store("cs")
    for i in range(20):
        store.append(payload(i), received_at=NOW + i, buffered=True)
    assert len(store.take(100)) == 5
    assert store.take(100) == []
    clock.advance(0.5)
    assert len(store.take(100)) == 2


def test_stats_report_pending_bytes_and_oldest_age(make_spool) -> None:
    store = make_spool().store("cs")
    store.append(payload(1, size=70), received_at=time.time() - 30, buffered=False)
    store.append(payload(2, size=50), received_at=time.time(), buffered=False)
    stats = store.stats()
    assert stats["pending"] == 2
    assert stats["bytes"] == 70 + 50 + 2 * 32
    assert 29 <= stats["oldest_age_s"] < 40
    assert stats["spooled"] == 2


def test_mark_buffered_adds_metadata_and_keeps_reception_time() -> None:
    from chirpstack_api import gw

    from edge_agent.backends.chirpstack.codec import mark_buffered

    frame = gw.UplinkFrame(phy_payload=b"\x40\x01\x02")
    frame.rx_info.metadata["region_config_id"] = "eu868"
    frame.rx_info.gw_time.FromSeconds(1_700_000_000)
    marked = gw.UplinkFrame()
    marked.ParseFromString(mark_buffered(frame.SerializeToString()))
    assert dict(marked.rx_info.metadata) == {"region_config_id": "eu868", "buffered": "true"}
    assert marked.rx_info.gw_time.seconds == 1_700_000_000
    assert marked.phy_payload == b"\x40\x01\x02"


def test_metadata_carries_the_counters_as_strings(make_spool) -> None:
    spool = make_spool(max_bytes=2 * 102)
    store = spool.store("cs")
    seqs = [store.append(payload(i), received_at=NOW, buffered=False) for i in range(3)]
    store.take(5)
    store.ack(seqs[2])
    metadata = spool.metadata()
    assert metadata["spool_spooled"] == "3"
    assert metadata["spool_delivered"] == "1"
    assert metadata["spool_dropped"] == "1"
    assert metadata["spool_pending"] == "1"
    assert metadata["spool_disk_bytes_written"] == "0"


def test_log_stats_writes_one_line_with_the_counts(make_spool, caplog) -> None:
    import logging

    spool = make_spool()
    spool.store("cs").append(payload(1), received_at=NOW, buffered=False)
    with caplog.at_level(logging.INFO, logger="edge_agent.store"):
        spool.log_stats()
    assert [r.getMessage() for r in caplog.records][-1].startswith("spool: 1 pending (102 bytes")
