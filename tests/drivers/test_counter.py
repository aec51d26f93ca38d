"""CounterTracker against every step of the HAL's count_us_wrap_extension vectors."""

from __future__ import annotations

import pytest

from drivers.sx1302.counter import CounterTracker
from tests.vectors import conversions

STEPS = conversions()["count_us_wrap_extension"]["steps"]


def _replay() -> list[tuple[dict, CounterTracker, int | None]]:
    """Apply every step, in order, to ONE tracker (as the HAL did); snapshot after each."""
    tracker = CounterTracker()
    out = []
    for step in STEPS:
        if step["step"] == "reset":
            tracker.reset()
            out.append((step, tracker, None))
            continue
        if step["step"] == "read":
            # the HAL uses the last read it issued (the 3rd one when the MSBs changed)
            pps_ticks, inst_ticks = step["reads"][step["spi_reads_used"] - 1]
            tracker.update(pps_ticks, inst_ticks)
            value = None
        else:
            value = tracker.expand(step["pkt_ticks"])
        snapshot = CounterTracker()
        snapshot.__dict__.update(tracker.__dict__)
        out.append((step, snapshot, value))
    return out


REPLAYED = _replay()
READS = [(s, t) for s, t, _ in REPLAYED if s["step"] == "read"]
PACKETS = [(s, t, v) for s, t, v in REPLAYED if s["step"] == "pkt"]


def test_the_vectors_hold_reads_and_packets() -> None:
    assert len(READS) > 10 and len(PACKETS) > 10


@pytest.mark.parametrize(("step", "tracker"), READS, ids=[f"read{i}" for i in range(len(READS))])
def test_counter_read_step_matches_the_hal(step: dict, tracker: CounterTracker) -> None:
    assert (tracker.inst_us, tracker.pps_us) == (step["inst_us"], step["pps_us"])
    assert (tracker.inst_wrap, tracker.inst_ref) == (step["inst_wrap"], step["inst_ref"])
    assert (tracker.pps_wrap, tracker.pps_ref) == (step["pps_wrap"], step["pps_ref"])


@pytest.mark.parametrize(
    ("step", "tracker", "count_us"), PACKETS, ids=[f"pkt{i}" for i in range(len(PACKETS))]
)
def test_packet_expansion_step_matches_the_hal(
    step: dict, tracker: CounterTracker, count_us: int
) -> None:
    assert count_us == step["count_us"]
    assert (tracker.inst_wrap, tracker.inst_ref) == (step["inst_wrap"], step["inst_ref"])


def test_a_read_lower_than_the_last_one_counts_a_wrap() -> None:
    tracker = CounterTracker()
    tracker.update(0, 4_000_000_000)
    tracker.update(0, 32)
    assert tracker.inst_us == (1 << 27) | 1


def test_wrap_count_rolls_over_after_32_wraps() -> None:
    tracker = CounterTracker()
    for _ in range(32):
        tracker.update(0, 4_000_000_000)
        tracker.update(0, 0)
    assert tracker.inst_wrap == 0


def test_packet_stored_before_the_last_wrap_takes_the_previous_wrap_count() -> None:
    tracker = CounterTracker()
    tracker.update(0, 4_000_000_000)
    tracker.update(0, 3200)  # wrapped: inst = 2^27 + 100 µs
    assert tracker.expand(4_294_967_264) == (1 << 27) - 1
    assert tracker.expand(1600) == (1 << 27) | 50


def test_packet_before_a_wrap_at_wrap_count_zero_goes_to_the_top_of_the_32_bit_range() -> None:
    tracker = CounterTracker()
    tracker.update(0, 0)
    assert tracker.expand(4_294_967_264) == 0xFFFFFFFF


def test_pps_counter_is_tracked_separately() -> None:
    tracker = CounterTracker()
    tracker.update(3_200_000_000, 3_300_000_000)
    tracker.update(64, 3_400_000_000)
    assert (tracker.pps_us, tracker.inst_us) == ((1 << 27) | 2, 106_250_000)


def test_reset_forgets_the_wraps() -> None:
    tracker = CounterTracker()
    tracker.update(0, 4_000_000_000)
    tracker.update(0, 0)
    tracker.reset()
    assert (tracker.inst_wrap, tracker.inst_ref, tracker.inst_us) == (0, 0, 0)
