"""Conversions against the HAL's conversion grids, and end to end against lgw_receive.

The end-to-end test is the reference for record -> Uplink: for every valid FIFO vector, the
parsed records converted with these functions and the EU868 plan give the HAL's packets.
"""

from __future__ import annotations

import pytest

from drivers.sx1302 import convert
from drivers.sx1302.counter import CounterTracker
from drivers.sx1302.fifo import parse_fifo
from drivers.sx1302.plan import FSK_CHAIN, LORA_STD_CHAIN, ChipPlan, eu868_corecell_plan
from drivers.sx1302.rx_record import RxRecord
from tests.vectors import VALID_CATEGORIES, rows, rx_fifo_cases


@pytest.mark.parametrize("row", rows("legacy_timestamp_correction"), ids=str)
def test_legacy_timestamp_correction_matches_the_hal(row: dict) -> None:
    got = convert.legacy_timestamp_correction_us(
        row["sf"], row["bandwidth_hz"], row["coding_rate"], bool(row["crc_en"]), row["payload_len"]
    )
    assert got == row["correction_us"]


@pytest.mark.parametrize(
    ("sf", "bw", "length", "expected"),
    [
        (7, 125_000, 20, -456),
        (9, 125_000, 13, -1958),
        (12, 125_000, 20, -15414),
        (7, 250_000, 20, -229),
    ],
)
def test_legacy_timestamp_correction_examples_of_the_fact_sheet(sf, bw, length, expected) -> None:
    assert convert.legacy_timestamp_correction_us(sf, bw, 1, True, length) == expected


def test_fsk_timestamp_correction_at_50_kbps() -> None:
    assert convert.fsk_timestamp_correction_us(50_000) == -7


@pytest.mark.parametrize("row", rows("freq_offset_hz"), ids=str)
def test_freq_offset_matches_the_hal(row: dict) -> None:
    assert convert.freq_offset_hz(row["raw"], row["bandwidth_hz"]) == row["freq_offset_hz"]


@pytest.mark.parametrize("row", rows("if_frequency_register"), ids=lambda r: str(r["if_hz"]))
def test_if_register_matches_the_hal(row: dict) -> None:
    assert convert.if_register_value(row["if_hz"]) == row["reg_value_signed13"]
    assert convert.if_register_bytes(row["if_hz"]) == (row["reg_msb_field"], row["reg_lsb"])
    assert convert.if_register_bytes(row["if_hz"]) == (
        row["lora_service_msb"],
        row["lora_service_lsb"],
    )
    assert convert.if_quantisation_error_hz(row["if_hz"]) == row["freq_offset_hz_at_raw0"]


@pytest.mark.parametrize(
    ("if_hz", "msb", "lsb", "error_hz"),
    [(-400_000, 0x1C, 0xCD, -98), (-200_000, 0x1E, 0x67, None), (0, 0, 0, 0),
     (200_000, 0x01, 0x99, 293), (400_000, 0x03, 0x33, None), (300_000, 0x02, 0x66, None)],
)  # fmt: skip
def test_if_register_examples_of_the_fact_sheet(if_hz, msb, lsb, error_hz) -> None:
    assert convert.if_register_bytes(if_hz) == (msb, lsb)
    if error_hz is not None:
        assert convert.if_quantisation_error_hz(if_hz) == error_hz


def test_if_outside_the_register_range_is_refused() -> None:
    with pytest.raises(ValueError, match="13-bit"):
        convert.if_register_value(2_000_000)


@pytest.mark.parametrize("row", rows("rssi_temperature_offset"), ids=str)
def test_rssi_temperature_offset_matches_the_hal(row: dict) -> None:
    tcomp = eu868_corecell_plan().radios[0].rssi_tcomp
    got = convert.rssi_temperature_offset_db(tcomp, row["temperature_c"])
    assert got == pytest.approx(row["offset_db"], abs=1e-6)


@pytest.mark.parametrize(("hz", "code"), [(125_000, 4), (250_000, 5), (500_000, 6)])
def test_bandwidth_codes_round_trip(hz: int, code: int) -> None:
    assert convert.bandwidth_code(hz) == code
    assert convert.bandwidth_from_code(code) == hz


def test_unknown_bandwidth_is_refused() -> None:
    with pytest.raises(ValueError, match="125, 250 or 500"):
        convert.bandwidth_code(62_500)


# --- end to end: records -> lgw_receive packets --------------------------------------------------


def _packet(record: RxRecord, plan: ChipPlan, tracker: CounterTracker, temp_c: float) -> dict:
    """What lgw_receive returns for one record, computed with our conversions."""
    chain = plan.chain(record.if_chain)
    radio = plan.radios[chain.radio]
    temp_offset = convert.rssi_temperature_offset_db(radio.rssi_tcomp, temp_c)
    out = {"freq_hz": plan.chain_freq_hz(record.if_chain), "rf_chain": chain.radio}
    if record.if_chain == FSK_CHAIN:
        raw_rssic = convert.fsk_rssi_linearise(record.rssi_chan_raw)
        # the HAL puts -128 in rssis, then lgw_receive adds offset + compensation to it anyway:
        # a meaningless number (an Uplink should carry no signal RSSI for FSK)
        out["rssis"] = convert.rssi_dbm(-128.0, radio.rssi_offset_db, temp_offset)
        out["snr"] = -128.0
        out["freq_offset"] = None
        correction = convert.fsk_timestamp_correction_us(plan.fsk.datarate_bps)
    else:
        bandwidth_hz = plan.lora_std.bandwidth_hz if record.if_chain == LORA_STD_CHAIN else 125_000
        raw_rssic = record.rssi_chan_raw
        out["rssis"] = convert.rssi_dbm(record.rssi_sig_raw, radio.rssi_offset_db, temp_offset)
        out["snr"] = record.snr_raw / 4
        out["freq_offset"] = convert.freq_offset_hz(
            record.freq_offset_raw, bandwidth_hz
        ) + convert.if_quantisation_error_hz(chain.if_hz)
        correction = convert.legacy_timestamp_correction_us(
            record.sf, bandwidth_hz, record.coding_rate, record.crc_en, len(record.payload)
        )
    out["rssic"] = convert.rssi_dbm(raw_rssic, radio.rssi_offset_db, temp_offset)
    out["count_us"] = (tracker.expand(record.timestamp) + correction) & 0xFFFFFFFF
    out["status"] = (0x11 if record.crc_error else 0x10) if record.crc_en else 0x01
    return out


# the valid buffers, plus the corrupted/semantic ones on which lgw_receive still succeeded
# (garbage prefix, FSK modem id on a multi-SF chain)
VALID = [
    c
    for c in rx_fifo_cases()
    if c["category"] in VALID_CATEGORIES or c["lgw_receive"]["outcome"] == "ok"
]


@pytest.mark.parametrize("case", VALID, ids=[c["name"] for c in VALID])
def test_records_convert_to_the_packets_lgw_receive_returned(case: dict) -> None:
    plan = eu868_corecell_plan()
    hal = case["lgw_receive"]
    tracker = CounterTracker()
    tracker.update(hal["counter_pps_ticks"], hal["counter_inst_ticks"])
    records = parse_fifo(bytes.fromhex(case["buffer_hex"])).records
    assert len(records) == len(hal["packets"])
    for record, expected in zip(records, hal["packets"], strict=True):
        got = _packet(record, plan, tracker, hal["temperature_c"])
        assert got["freq_hz"] == expected["freq_hz"]
        assert got["rf_chain"] == expected["rf_chain"]
        assert got["freq_offset"] == expected["freq_offset"]
        assert got["count_us"] == expected["count_us"]
        assert got["status"] == expected["status"]
        assert got["rssic"] == pytest.approx(expected["rssic"], abs=1e-3)
        assert got["rssis"] == pytest.approx(expected["rssis"], abs=1e-3)
        assert got["snr"] == pytest.approx(expected["snr"], abs=1e-3)
