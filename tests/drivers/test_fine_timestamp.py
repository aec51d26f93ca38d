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
    # 256 * 128 * 12 + 256 * (32 - 1) = 393216 + 7936, then + 2138 (sx1302_hal 2.1.0)
    assert ft.preamble_end_ticks(1_000_000, 7) == 1_000_000 - 401_152 + 2138


def test_preamble_end_shift_wraps_below_zero() -> None:
    assert ft.preamble_end_ticks(0, 7) == (2138 - 401_152) & 0xFFFFFFFF


def test_header_shift_scales_with_the_frequency_error() -> None:
    # SF12 base 12844800 ticks; + 12844800 * 1e-6 + 0.5 = 12844813.34, truncated
    assert ft.header_to_preamble_ticks(12) == 12_844_800
    assert ft.header_to_preamble_ticks(12, 1e-6) == 12_844_813


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


#: an IF beyond the DC notch (no notch delay)
FAR_IF_HZ = 300_000


def _ftime(history: ft.PpsHistory, ticks: int, metrics, sf: int = 7, if_hz: int = FAR_IF_HZ):
    return ft.precise_timestamp(history, history.latest, metrics, ticks, sf, if_hz, 0.0)


def test_no_fine_timestamp_before_the_history_is_full() -> None:
    history = ft.PpsHistory()
    history.save(5_000)
    result = _ftime(history, 10_000_000, (0, 0))
    assert (result.ok, result.ftime_ns, history.size) == (False, None, 1)


def test_fine_timestamp_from_the_latest_pps() -> None:
    history = _full_history(1_000)
    latest = 1_000 + 15 * ft.TICKS_PER_SECOND
    ticks = latest + 3_200_000 + 401_152 - 2138  # end of preamble 100 ms after the PPS
    # metrics (4, 0): running sum (4, 4), mean 4 ticks = 125 ns
    assert _ftime(history, ticks, (4, 0)).ftime_ns == 100_000_000 + 125


def test_fine_timestamp_uses_the_pps_of_the_packets_second() -> None:
    history = _full_history(1_000)
    # a packet in second 13 read after the PPS of second 15 was latched
    pps13 = 1_000 + 13 * ft.TICKS_PER_SECOND
    ticks = pps13 + 16_000_000 + 401_152 - 2138
    assert _ftime(history, ticks, (0, 0)).ftime_ns == 500_000_000


def test_crystal_error_comes_from_the_pps_history() -> None:
    history = ft.PpsHistory()
    for second in range(ft.PPS_HISTORY_SIZE):  # +10 ppm: 32,000,320 ticks between edges
        history.save(second * 32_000_320)
    ticks = 15 * 32_000_320 + 32_000 + 401_152 - 2138
    # 32000 ticks x 31.25 ns x 32e6 / 32000320 = 999990.0001
    assert _ftime(history, ticks, (0, 0)).ftime_ns == 999_990


def test_a_missed_pps_edge_gives_no_fine_timestamp() -> None:
    history = _full_history(0)
    history.save(17 * ft.TICKS_PER_SECOND)  # edge 16 missed: 64e6 ticks, crystal ratio 0.5
    ticks = 17 * ft.TICKS_PER_SECOND + 32_000 + 401_152 - 2138
    assert _ftime(history, ticks, (0, 0)).ftime_ns is None


def test_an_if_zero_chain_adds_the_dc_notch_delay() -> None:
    history = _full_history(0)
    ticks = 15 * ft.TICKS_PER_SECOND + 32_000 + 401_152 - 2138
    # (32000 + 10.2922) ticks x 31.25 ns = 1000321.63
    assert _ftime(history, ticks, (0, 0), if_hz=0).ftime_ns == 1_000_321


def test_sf12_averages_only_its_first_four_metric_pairs() -> None:
    history = _full_history(0)
    ticks = 15 * ft.TICKS_PER_SECOND + 32_000 + 12_844_800 - 2138
    metrics = (0,) * 8 + (127,) * 56
    assert _ftime(history, ticks, metrics, sf=12).ftime_ns == 1_000_000


def test_a_value_beyond_one_second_is_written_but_not_received() -> None:
    history = _full_history(0)
    ticks = 15 * ft.TICKS_PER_SECOND + ft.TICKS_PER_SECOND + 401_152 - 2138
    result = _ftime(history, ticks, (127, 127))
    assert (result.ok, result.ftime_ns) == (False, None)
    assert result.written_ns == int((32_000_000 + 190.5) * 31.25)


def test_without_a_pps_in_the_packets_second() -> None:
    history = _full_history(0)
    ticks = 100 * ft.TICKS_PER_SECOND
    assert _ftime(history, ticks, (0, 0)).error == "no reference PPS edge in the history"


def test_counter_reads_fill_the_pps_history() -> None:
    tracker = CounterTracker()
    tracker.update(32_000_000, 40_000_000)
    tracker.update(32_000_000, 41_000_000)
    tracker.update(64_000_000, 70_000_000)
    assert tracker.pps_history.entries == (32_000_000, 64_000_000)
    assert tracker.pps_history.latest == 64_000_000
