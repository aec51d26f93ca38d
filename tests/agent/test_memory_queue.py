"""The bounded in-memory UplinkStore."""

from __future__ import annotations

import threading

import pytest

from edge_agent.store.memory import MemoryUplinkStore


def filled(n: int, max_records: int = 100) -> MemoryUplinkStore:
    store = MemoryUplinkStore(max_records, clock=lambda: 110.0)
    for i in range(n):
        store.append(bytes([i]), received_at=100.0 + i, buffered=False)
    return store


def test_take_returns_oldest_first() -> None:
    store = filled(5)
    assert [r.payload for r in store.take(3)] == [b"\x00", b"\x01", b"\x02"]


def test_taken_records_are_not_taken_again_before_rewind() -> None:
    store = filled(3)
    store.take(2)
    assert [r.payload for r in store.take(10)] == [b"\x02"]


def test_rewind_makes_unacked_records_takeable_in_order() -> None:
    store = filled(3)
    first = store.take(3)
    store.ack(first[1].seq)
    store.rewind()
    assert [r.payload for r in store.take(10)] == [b"\x00", b"\x02"]


def test_ack_removes_record_and_counts_delivery() -> None:
    store = filled(2)
    store.ack(store.take(1)[0].seq)
    assert store.pending() == 1
    assert store.stats()["delivered"] == 1


def test_full_store_drops_oldest_and_counts() -> None:
    store = filled(5, max_records=3)
    assert [r.payload for r in store.take(10)] == [b"\x02", b"\x03", b"\x04"]
    assert store.stats()["dropped"] == 2


def test_ack_of_dropped_record_is_ignored() -> None:
    store = filled(1, max_records=1)
    seq = store.take(1)[0].seq
    store.append(b"new", received_at=0, buffered=True)
    store.ack(seq)
    assert store.pending() == 1
    assert store.stats()["delivered"] == 0


def test_stats_report_bytes_and_oldest_age() -> None:
    stats = filled(3).stats()
    assert (stats["pending"], stats["bytes"], stats["oldest_age_s"]) == (3, 3, 10.0)
    assert stats["spooled"] == 0


def test_buffered_flag_is_kept() -> None:
    store = MemoryUplinkStore(10)
    store.append(b"x", received_at=1.0, buffered=True)
    assert store.take(1)[0].buffered is True


def test_wait_returns_when_a_record_arrives() -> None:
    store = MemoryUplinkStore(10)
    timer = threading.Timer(0.05, lambda: store.append(b"x", received_at=0, buffered=False))
    timer.start()
    assert store.wait(5.0) is True
    timer.join()


def test_wait_times_out_when_everything_is_taken() -> None:
    store = filled(1)
    store.take(1)
    assert store.wait(0.01) is False


def test_wait_empty_after_all_acked() -> None:
    store = filled(2)
    for record in store.take(2):
        store.ack(record.seq)
    assert store.wait_empty(0.01) is True


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_records"):
        MemoryUplinkStore(0)
