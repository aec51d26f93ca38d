"""JIT queue rules: timing windows, collisions, capacity, Class C slots, GPS time, wrap."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from packet_forwarder.jit import (
    JIT_QUEUE_MAX,
    TX_MAX_ADVANCE_US,
    TX_TOO_LATE_US,
    JitEntry,
    JitQueue,
    wrap_diff,
)
from packet_forwarder.model import Timing, TxStatus

AIRTIME_US = 62_000  # a 62 ms reservation (the HAL rounds time on air to whole ms)
NOW = 10_000_000


def at(count_us: int, airtime_us: int = AIRTIME_US, item: object = None) -> JitEntry:
    return JitEntry(Timing.DELAY, count_us=count_us & 0xFFFF_FFFF, airtime_us=airtime_us, item=item)


def test_packet_exactly_42_5_ms_ahead_is_too_late() -> None:
    assert TX_TOO_LATE_US == 42_500
    assert JitQueue().enqueue(NOW, at(NOW + 42_500)) is TxStatus.TOO_LATE


def test_packet_one_us_beyond_42_5_ms_is_accepted() -> None:
    assert JitQueue().enqueue(NOW, at(NOW + 42_501)) is TxStatus.OK


def test_packet_in_the_past_is_too_late() -> None:
    assert JitQueue().enqueue(NOW, at(NOW - 5_000_000)) is TxStatus.TOO_LATE


def test_packet_512_s_ahead_is_accepted_and_one_us_more_is_too_early() -> None:
    queue = JitQueue()
    assert queue.enqueue(NOW, at(NOW + TX_MAX_ADVANCE_US)) is TxStatus.OK
    assert queue.enqueue(NOW, at(NOW + TX_MAX_ADVANCE_US + 1)) is TxStatus.TOO_EARLY


def test_overlapping_packets_collide() -> None:
    queue = JitQueue()
    assert queue.enqueue(NOW, at(NOW + 1_000_000)) is TxStatus.OK
    assert queue.enqueue(NOW, at(NOW + 1_050_000)) is TxStatus.COLLISION_PACKET


def test_collision_window_includes_pre_delay_and_margin() -> None:
    queue = JitQueue()
    first = NOW + 1_000_000
    assert queue.enqueue(NOW, at(first)) is TxStatus.OK
    # next start must be beyond first + airtime + 41.5 ms pre-delay + 1 ms margin
    boundary = first + AIRTIME_US + 41_500 + 1_000
    assert queue.enqueue(NOW, at(boundary)) is TxStatus.COLLISION_PACKET
    assert queue.enqueue(NOW, at(boundary + 1)) is TxStatus.OK


def test_packet_before_a_queued_one_collides_with_its_pre_delay() -> None:
    queue = JitQueue()
    second = NOW + 2_000_000
    assert queue.enqueue(NOW, at(second)) is TxStatus.OK
    boundary = second - AIRTIME_US - 41_500 - 1_000
    assert queue.enqueue(NOW, at(boundary)) is TxStatus.COLLISION_PACKET
    assert queue.enqueue(NOW, at(boundary - 1)) is TxStatus.OK


def test_thirty_third_packet_gets_queue_full() -> None:
    queue = JitQueue()
    for i in range(JIT_QUEUE_MAX):
        assert queue.enqueue(NOW, at(NOW + 1_000_000 + i * 200_000)) is TxStatus.OK
    assert queue.enqueue(NOW, at(NOW + 100_000_000)) is TxStatus.QUEUE_FULL
    assert len(queue) == JIT_QUEUE_MAX


def test_full_queue_still_reports_a_collision_as_collision() -> None:
    queue = JitQueue(max_entries=1)
    assert queue.enqueue(NOW, at(NOW + 1_000_000)) is TxStatus.OK
    assert queue.enqueue(NOW, at(NOW + 1_010_000)) is TxStatus.COLLISION_PACKET


def test_immediate_on_empty_queue_goes_80_ms_after_now() -> None:
    queue = JitQueue()
    assert queue.enqueue(NOW, JitEntry(Timing.IMMEDIATELY, airtime_us=AIRTIME_US)) is TxStatus.OK
    assert [e.count_us for e in queue.entries(NOW)] == [NOW + 80_000]


def test_immediate_takes_the_first_gap_after_queued_packets() -> None:
    queue = JitQueue()
    busy = NOW + 100_000
    assert queue.enqueue(NOW, at(busy)) is TxStatus.OK
    assert queue.enqueue(NOW, JitEntry(Timing.IMMEDIATELY, airtime_us=AIRTIME_US)) is TxStatus.OK
    starts = [e.count_us for e in queue.entries(NOW)]
    assert starts == [busy, busy + AIRTIME_US + 41_500 + 1_000 + 1]


def test_immediate_uses_a_gap_between_queued_packets_when_it_fits() -> None:
    queue = JitQueue()
    first, third = NOW + 100_000, NOW + 2_000_000
    queue.enqueue(NOW, at(first))
    queue.enqueue(NOW, at(third))
    queue.enqueue(NOW, JitEntry(Timing.IMMEDIATELY, airtime_us=AIRTIME_US))
    starts = [e.count_us for e in queue.entries(NOW)]
    assert starts[1] == first + AIRTIME_US + 42_500 + 1
    assert starts[2] == third


def test_gps_epoch_is_converted_through_the_time_reference() -> None:
    queue = JitQueue(gps_to_count_us=lambda gps_us: gps_us - 1_000_000_000)
    entry = JitEntry(Timing.GPS_EPOCH, gps_epoch_us=1_000_000_000 + NOW + 500_000, airtime_us=1)
    assert queue.enqueue(NOW, entry) is TxStatus.OK
    assert [e.count_us for e in queue.entries(NOW)] == [NOW + 500_000]


def test_gps_epoch_without_time_reference_is_gps_unlocked() -> None:
    entry = JitEntry(Timing.GPS_EPOCH, gps_epoch_us=123, airtime_us=1)
    assert JitQueue().enqueue(NOW, entry) is TxStatus.GPS_UNLOCKED
    assert JitQueue(gps_to_count_us=lambda _: None).enqueue(NOW, entry) is TxStatus.GPS_UNLOCKED


def test_dequeue_waits_for_the_jit_window() -> None:
    queue = JitQueue()
    queue.enqueue(NOW, at(NOW + 1_000_000, item="dl"))
    assert queue.dequeue(NOW + 959_999) is None
    due = queue.dequeue(NOW + 960_001)
    assert due is not None and due.item == "dl"
    assert len(queue) == 0


def test_peek_does_not_remove() -> None:
    queue = JitQueue()
    queue.enqueue(NOW, at(NOW + 100_000))
    assert queue.peek(NOW + 70_000) is not None
    assert len(queue) == 1


def test_dequeue_returns_the_earliest_due_packet_first() -> None:
    queue = JitQueue()
    queue.enqueue(NOW, at(NOW + 300_000, airtime_us=1_000, item="b"))
    queue.enqueue(NOW, at(NOW + 200_000, airtime_us=1_000, item="a"))
    assert queue.dequeue(NOW + 170_000).item == "a"
    assert queue.dequeue(NOW + 170_000) is None
    assert queue.dequeue(NOW + 270_000).item == "b"


def test_missed_packet_is_expired_not_dequeued() -> None:
    queue = JitQueue()
    queue.enqueue(NOW, at(NOW + 100_000, item="late"))
    assert queue.dequeue(NOW + 95_000) is None  # 5 ms left: less than the 10 ms minimum lead
    assert [e.item for e in queue.expire(NOW + 95_000)] == ["late"]
    assert len(queue) == 0


def test_schedule_across_the_counter_wrap_on_virtual_time() -> None:
    queue = JitQueue()
    now = 0xFFFF_FFFF - 900_000  # 0.9 s before the 2^32 µs wrap
    uplink_count_us = now - 90_000
    start = (uplink_count_us + 1_000_000) & 0xFFFF_FFFF  # RX1: 1 s after the uplink
    assert start == 9_999  # the target wrapped: a naive comparison would call it the past
    assert queue.enqueue(now, at(start, item="rx1")) is TxStatus.OK
    # a packet just before the wrap, within the first one's window, collides across the wrap
    assert queue.enqueue(now, at(0xFFFF_FFFF - 20_000)) is TxStatus.COLLISION_PACKET
    emitted = None
    virtual_now = now
    while emitted is None:
        virtual_now = (virtual_now + 10_000) & 0xFFFF_FFFF  # the radio thread's 10 ms tick
        emitted = queue.dequeue(virtual_now)
    assert emitted.item == "rx1" and emitted.count_us == start
    assert 0 < wrap_diff(start, virtual_now) < 40_000
    assert virtual_now > start  # handed out before the wrap, for a start after it


def test_immediate_slot_across_the_wrap() -> None:
    queue = JitQueue()
    now = 0xFFFF_FFFF - 10_000
    assert queue.enqueue(now, JitEntry(Timing.IMMEDIATELY, airtime_us=AIRTIME_US)) is TxStatus.OK
    assert [e.count_us for e in queue.entries(now)] == [(now + 80_000) & 0xFFFF_FFFF]


def test_clear_drops_everything() -> None:
    queue = JitQueue()
    queue.enqueue(NOW, at(NOW + 100_000))
    assert len(queue.clear()) == 1
    assert len(queue) == 0


def test_wrap_diff_is_signed() -> None:
    assert wrap_diff(5, 0xFFFF_FFFF) == 6
    assert wrap_diff(0xFFFF_FFFF, 5) == -6


@given(
    now=st.integers(0, 0xFFFF_FFFF),
    offsets=st.lists(st.integers(0, 3_000_000), min_size=1, max_size=40),
    airtimes=st.lists(st.integers(1_000, 400_000), min_size=40, max_size=40),
)
@settings(max_examples=60, deadline=None)
def test_accepted_packets_never_overlap_even_across_the_wrap(
    now: int, offsets: list[int], airtimes: list[int]
) -> None:
    queue = JitQueue()
    for offset, airtime in zip(offsets, airtimes, strict=False):
        queue.enqueue(now, at(now + offset, airtime_us=airtime))
    queued = queue.entries(now)
    for before, after in itertools.pairwise(queued):
        gap = wrap_diff(after.count_us, before.count_us)
        assert gap > before.airtime_us + 41_500 + 1_000
    assert len(queued) <= JIT_QUEUE_MAX


def test_packet_exactly_10_ms_ahead_is_still_handed_out() -> None:
    queue = JitQueue()
    queue.enqueue(NOW, at(NOW + 100_000, item="edge"))
    assert queue.expire(NOW + 90_000) == []
    assert queue.dequeue(NOW + 90_000).item == "edge"


def test_a_dispatched_packet_keeps_its_reservation_until_it_left_the_air() -> None:
    queue = JitQueue()
    start = 1_000_000
    assert queue.enqueue(0, JitEntry(Timing.DELAY, start, airtime_us=2_000_000)) is TxStatus.OK
    assert queue.dequeue(start - 20_000) is not None
    assert len(queue) == 0
    assert queue.busy_until(start) == start + 2_000_000
    overlapping = JitEntry(Timing.DELAY, start + 1_500_000, airtime_us=100_000)
    assert queue.enqueue(start, overlapping) is TxStatus.COLLISION_PACKET
    after = JitEntry(Timing.DELAY, start + 2_100_000, airtime_us=100_000)
    assert queue.enqueue(start, after) is TxStatus.OK
    assert queue.busy_until(start + 2_002_000) is None
