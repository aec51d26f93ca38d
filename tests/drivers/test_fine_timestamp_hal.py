"""SX1303 fine timestamps against 876 calls of sx1302_hal's own function (sx1303_ftime.md)."""

from __future__ import annotations

import pytest

from drivers.sx1302 import fine_timestamp as ft
from drivers.sx1302.convert import freq_offset_hz, if_quantisation_error_hz
from tests.vectors import ftime_calls

CALLS = ftime_calls()
#: calls that passed the history gate: the HAL printed its intermediate values
COMPUTED = [row for row in CALLS if row["derived_offset_preamble_hdr"] is not None]


def _history(state: dict) -> ft.PpsHistory:
    return ft.PpsHistory.from_state(state["history"], state["idx"], state["size"])


def _call(row: dict) -> tuple[ft.FineTimestamp, ft.PpsHistory]:
    history = _history(row["pps_history_before"])
    result = ft.precise_timestamp(
        history,
        row["pps_reg"],
        row["ts_metrics"],
        row["timestamp_cnt"],
        row["sf"],
        row["if_freq_hz"],
        row["pkt_freq_error"],
    )
    return result, history


def test_the_vectors_cover_both_branches_and_every_error_path() -> None:
    assert len(CALLS) == 876
    assert {row["hal_branch"] for row in CALLS} == {None, "A_latest_pps", "B_history_search"}
    assert sum(row["ret"] != 0 for row in CALLS) == 11
    assert len(COMPUTED) == 873


@pytest.mark.parametrize("row", CALLS, ids=lambda row: str(row["id"]))
def test_precise_timestamp_reproduces_the_hal(row: dict) -> None:
    result, history = _call(row)
    after = row["pps_history_after"]
    assert (result.ok, result.written_ns) == (row["ret"] == 0, row["ftime"])
    assert (history.slots, history.idx, history.size) == (
        after["history"],
        after["idx"],
        after["size"],
    )


@pytest.mark.parametrize("row", COMPUTED, ids=lambda row: str(row["id"]))
def test_intermediate_values_match_the_hal(row: dict) -> None:
    eop = ft.preamble_end_ticks(row["timestamp_cnt"], row["sf"], row["pkt_freq_error"])
    assert (
        ft.header_to_preamble_ticks(row["sf"], row["pkt_freq_error"])
        == (row["derived_offset_preamble_hdr"])
    )
    if row["hal_timestamp_cnt_end_of_preamble"] is not None:  # printed once a PPS was found
        assert eop == row["hal_timestamp_cnt_end_of_preamble"]
    pairs = ft.metric_pairs_used(row["sf"], row["ts_metrics_nb"])
    assert pairs == row["derived_ts_metrics_nb_clipped"]
    assert ft.metrics_mean(row["ts_metrics"][: 2 * pairs]) == row["derived_ftime_mean"]
    assert ft.dc_notch_delay_ticks(row["if_freq_hz"]) == row["dc_notch_delay"]


@pytest.mark.parametrize("row", CALLS, ids=lambda row: str(row["id"]))
def test_packet_frequency_error_is_bit_exact(row: dict) -> None:
    offset = freq_offset_hz(row["frequency_offset_error"], row["bw_hz"])
    offset += if_quantisation_error_hz(row["if_freq_hz"])
    assert offset == row["freq_offset"]
    assert ft.packet_freq_error(row["freq_hz"], offset) == row["pkt_freq_error"]
