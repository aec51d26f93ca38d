"""The chip conversion formulas against the grids computed by Semtech's HAL."""

from __future__ import annotations

import pytest

from packet_forwarder import _chipmath
from tests.vectors import rows

EU868_TCOMP = (0.0, 0.0, 20.41, 2162.56, 0.0)


def test_legacy_timestamp_correction_matches_every_hal_row() -> None:
    mismatches = [
        (row, got)
        for row in rows("legacy_timestamp_correction")
        if (
            got := _chipmath.legacy_timestamp_correction_us(
                row["sf"],
                row["bandwidth_hz"],
                row["coding_rate"],
                row["crc_en"],
                row["payload_len"],
            )
        )
        != row["correction_us"]
    ]
    assert mismatches == []


@pytest.mark.parametrize(
    ("sf", "bandwidth_hz", "payload_len", "expected_us"),
    [
        (7, 125_000, 20, -456),
        (9, 125_000, 13, -1958),
        (12, 125_000, 20, -15414),
        (7, 250_000, 20, -229),
    ],
)
def test_legacy_timestamp_correction_worked_examples(
    sf: int, bandwidth_hz: int, payload_len: int, expected_us: int
) -> None:
    assert (
        _chipmath.legacy_timestamp_correction_us(sf, bandwidth_hz, 1, True, payload_len)
        == expected_us
    )


def test_legacy_timestamp_correction_refuses_an_unknown_bandwidth() -> None:
    with pytest.raises(ValueError, match="bandwidth"):
        _chipmath.legacy_timestamp_correction_us(7, 62_500, 1, True, 10)


def test_fsk_timestamp_correction_at_50_kbps_is_minus_7_us() -> None:
    assert _chipmath.fsk_timestamp_correction_us(50_000) == -7


@pytest.mark.parametrize(
    "row", rows("freq_offset_hz"), ids=lambda r: f"{r['raw']}@{r['bandwidth_hz']}"
)
def test_freq_offset_matches_the_hal(row: dict) -> None:
    assert _chipmath.freq_offset_hz(row["raw"], row["bandwidth_hz"]) == row["freq_offset_hz"]


@pytest.mark.parametrize("row", rows("if_frequency_register"), ids=lambda r: str(r["if_hz"]))
def test_if_register_value_matches_the_hal(row: dict) -> None:
    assert _chipmath.if_register_value(row["if_hz"]) == row["reg_value_signed13"]


@pytest.mark.parametrize("row", rows("if_frequency_register"), ids=lambda r: str(r["if_hz"]))
def test_if_quantisation_error_matches_the_hal(row: dict) -> None:
    assert _chipmath.if_quantisation_error_hz(row["if_hz"]) == row["freq_offset_hz_at_raw0"]


@pytest.mark.parametrize(("if_hz", "error_hz"), [(-400_000, -98), (200_000, 293), (0, 0)])
def test_if_quantisation_error_examples(if_hz: int, error_hz: int) -> None:
    assert _chipmath.if_quantisation_error_hz(if_hz) == error_hz


@pytest.mark.parametrize(
    "row", rows("rssi_temperature_offset"), ids=lambda r: str(r["temperature_c"])
)
def test_rssi_temperature_offset_matches_the_hal(row: dict) -> None:
    got = _chipmath.rssi_temperature_offset_db(EU868_TCOMP, row["temperature_c"])
    assert got == pytest.approx(row["offset_db"], abs=1e-6)


def test_fsk_rssi_linearisation_of_zero_is_the_constant_term() -> None:
    assert _chipmath.fsk_rssi_linearise(0) == pytest.approx(90.636423)
