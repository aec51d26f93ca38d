"""Time on air agrees with sx1302_hal's lgw_time_on_air / lora_packet_time_on_air."""

from __future__ import annotations

import pytest

from packet_forwarder.airtime import fsk_airtime_ms, lora_airtime, time_on_air_us
from tests.vectors import rows


def test_lora_airtime_matches_every_hal_row() -> None:
    mismatches = []
    for row in rows("time_on_air_lora"):
        got = lora_airtime(
            row["sf"], row["bandwidth_hz"], row["coding_rate"], row["payload_len"],
            row["preamble"], bool(row["implicit_header"]), bool(row["no_crc"]),
        )  # fmt: skip
        want = (row["toa_ms"], row["toa_us"], row["n_symbols"], row["n_symbols_payload"])
        want += (row["t_symbol_us"],)
        have = (got.toa_ms, got.toa_us, got.n_symbols, got.n_symbols_payload, got.t_symbol_us)
        if have != want:
            mismatches.append((row, have))
    assert len(rows("time_on_air_lora")) > 2000
    assert mismatches == []


def test_fsk_airtime_matches_every_hal_row() -> None:
    table = rows("time_on_air_fsk")
    got = [
        fsk_airtime_ms(r["datarate_bps"], r["payload_len"], r["preamble_bytes"], bool(r["no_crc"]))
        for r in table
    ]
    assert got == [r["toa_ms"] for r in table]


def test_jit_reservation_is_rounded_milliseconds() -> None:
    # SF12 BW125 CR4/5, 13 bytes, preamble 8, explicit header, CRC: 1155.072 ms on air
    assert lora_airtime(12, 125_000, 1, 13, 8).toa_us == 1155072
    assert time_on_air_us(modulation="LORA", payload_len=13, sf=12) == 1_155_000


def test_fsk_reservation_uses_datarate() -> None:
    assert time_on_air_us(modulation="FSK", payload_len=10, preamble=5, datarate_bps=50_000) == 4000


def test_invalid_spreading_factor_is_refused() -> None:
    with pytest.raises(ValueError, match="spreading factor"):
        lora_airtime(4, 125_000, 1, 10)


def test_unknown_code_rate_is_refused() -> None:
    with pytest.raises(ValueError, match="code rate"):
        time_on_air_us(modulation="LORA", payload_len=1, code_rate="4/9")
