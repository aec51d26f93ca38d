"""SX1303 fine timestamps: fine-mode correction against the HAL grid, ftime by hand."""

from __future__ import annotations

import pytest

from drivers.sx1302 import fine_timestamp as ft
from drivers.sx1302.counter import CounterTracker
from tests.vectors import rows


def _full_history(first_pps: int) -> ft.PpsHistory:
    history = ft.PpsHistory()
    for second in range(ft.PPS_HISTORY_SIZE):
        history.save(first_pps + second * ft.TICKS_PER_SECOND)
    return history


@pytest.mark.parametrize("row", rows("legacy_timestamp_correction"), ids=str)
def test_fine_mode_correction_matches_the_hal(row: dict) -> None:
    got = ft.fine_timestamp_correction_us(
        row["sf"], row["bandwidth_hz"], row["coding_rate"], bool(row["crc_en"]), row["payload_len"]
    )
    assert got == row["correction_us_fine_timestamp_mode"]


def test_fine_mode_correction_by_hand_sf7_20_bytes() -> None:
    # bits = 160 + 16 - 28 + 8 + 20 = 176 -> ceil(176 / 28) = 7 blocks x 5 = 35 symbols x 1024 us;
    # minus the filtering delay 18.53125 us, truncated: 35840 - 18.53 -> 35821
    assert ft.fine_timestamp_correction_us(7, 125_000, 1, True, 20) == 35_821


def test_preamble_end_shift_for_sf7() -> None:
    # 256 * 128 * 12 + 256 * (32 - 1) = 393216 + 7936, then + 2137
    assert ft.preamble_end_ticks(1_000_000, 7) == 1_000_000 - 401_152 + 2137


def test_preamble_end_shift_wraps_below_zero() -> None:
    assert ft.preamble_end_ticks(0, 7) == (2137 - 401_152) & 0xFFFFFFFF


def test_metrics_mean_is_the_mean_of_the_running_sum() -> None:
    # running sum of (2, -1, 3, 0) is (2, 1, 4, 4): mean 2.75
    assert ft.metrics_mean((2, -1, 3, 0)) == 2.75


def test_metrics_mean_refuses_no_metrics() -> None:
    with pytest.raises(ValueError):
        ft.metrics_mean(())


def test_history_keeps_only_distinct_values() -> None:
    history = ft.PpsHistory()
    assert history.save(100) is True
    assert history.save(100) is False
    assert history.entries == (100,)


def test_history_is_full_after_sixteen_edges() -> None:
    history = ft.PpsHistory()
    for second in range(15):
        history.save(second * ft.TICKS_PER_SECOND)
    assert not history.full
    history.save(15 * ft.TICKS_PER_SECOND)
    assert history.full


def test_history_overwrites_the_oldest_edge() -> None:
    history = _full_history(0)
    history.save(16 * ft.TICKS_PER_SECOND)
    assert 0 not in history.entries
    assert len(history.entries) == ft.PPS_HISTORY_SIZE


def test_no_fine_timestamp_before_the_history_is_full() -> None:
    history = ft.PpsHistory()
    history.save(5_000)
    assert ft.fine_timestamp_ns(history, 10_000_000, 7, (0, 0)) is None


def test_fine_timestamp_from_the_latest_pps() -> None:
    history = _full_history(1_000)
    latest = 1_000 + 15 * ft.TICKS_PER_SECOND
    ticks = latest + 3_200_000 + 401_152 - 2137  # end of preamble 100 ms after the PPS
    # metrics (4, 0): running sum (4, 4), mean 4 ticks = 125 ns
    assert ft.fine_timestamp_ns(history, ticks, 7, (4, 0)) == 100_000_000 + 125


def test_fine_timestamp_uses_the_pps_of_the_packets_second() -> None:
    history = _full_history(1_000)
    # a packet in second 13 read after the PPS of second 15 was latched
    pps13 = 1_000 + 13 * ft.TICKS_PER_SECOND
    ticks = pps13 + 16_000_000 + 401_152 - 2137
    assert ft.fine_timestamp_ns(history, ticks, 7, (0, 0)) == 500_000_000


def test_fine_timestamp_applies_the_crystal_correction() -> None:
    history = _full_history(0)
    latest = 15 * ft.TICKS_PER_SECOND
    ticks = latest + 32_000 + 401_152 - 2137
    assert ft.fine_timestamp_ns(history, ticks, 7, (0, 0), xtal_correction=1.000001) == 999_999


def test_fine_timestamp_without_a_pps_in_the_packets_second() -> None:
    history = _full_history(0)
    ticks = 100 * ft.TICKS_PER_SECOND
    assert ft.fine_timestamp_ns(history, ticks, 7, (0, 0)) is None


def test_counter_reads_fill_the_pps_history() -> None:
    tracker = CounterTracker()
    tracker.update(32_000_000, 40_000_000)
    tracker.update(32_000_000, 41_000_000)
    tracker.update(64_000_000, 70_000_000)
    assert tracker.pps_history.entries == (32_000_000, 64_000_000)
    assert tracker.pps_history.latest == 64_000_000
