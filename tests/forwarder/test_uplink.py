"""RX records → Uplink, end to end against what the HAL's ``lgw_receive`` returned."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.sx1302.plan import LoraStdChannel, MultiSfChannel, eu868_corecell_plan
from drivers.sx1302.rx_record import RxRecord, lora_payload_crc
from packet_forwarder.model import CrcStatus, Modulation, make_context
from packet_forwarder.uplink import record_crc_status, record_to_uplink, unmappable_reason
from tests.vectors import VALID_CATEGORIES, rx_fifo_cases

PLAN = eu868_corecell_plan()
HAL_STATUS = {0x10: CrcStatus.OK, 0x11: CrcStatus.BAD, 0x01: CrcStatus.NONE}
VALID = [c for c in rx_fifo_cases() if c["category"] in VALID_CATEGORIES]
US27 = (1 << 27) - 1


def hal_expand(inst_ticks: int, packet_ticks: int) -> int:
    """sx1302_hal's timestamp expansion for a fresh wrap state and one counter read (§5)."""
    wrap, ref = 0, 0  # timestamp_counter_new()
    inst_us = (inst_ticks // 32) & US27
    if inst_us < ref:
        wrap = (wrap + 1) % 32
    ref = inst_us
    pkt_us = (packet_ticks // 32) & US27
    pkt_wrap = wrap if ref >= pkt_us else (wrap - 1) % 32
    return (pkt_wrap << 27) | pkt_us


def records_of(case: dict) -> list[RxRecord]:
    buf = bytes.fromhex(case["buffer_hex"])
    records, offset = [], 0
    for _ in case["records"]:
        record = RxRecord.from_bytes(buf[offset:])
        records.append(record)
        offset += record.size
    return records


def convert(case: dict, record: RxRecord, **overrides: object):
    rx = case["lgw_receive"]
    kwargs = {
        "count_us": hal_expand(rx["counter_inst_ticks"], record.timestamp),
        "session_id": 0x1234_5678,
        "gw_time": 1_700_000_000.25,
        "temperature_c": rx["temperature_c"],
    }
    kwargs.update(overrides)
    return record_to_uplink(record, PLAN, **kwargs)


@pytest.mark.parametrize("case", VALID, ids=[c["name"] for c in VALID])
def test_valid_records_convert_to_the_hal_packets(case: dict) -> None:
    packets = case["lgw_receive"]["packets"]
    records = records_of(case)
    assert len(records) == len(packets)
    for record, pkt in zip(records, packets, strict=True):
        up = convert(case, record)
        assert up is not None
        assert up.freq_hz == pkt["freq_hz"]
        assert up.channel == pkt["if_chain"]
        assert up.rf_chain == pkt["rf_chain"]
        assert up.modem_id == pkt["modem_id"]
        assert up.bandwidth_hz == pkt["bandwidth_hz"]
        assert up.rssi_dbm == pytest.approx(pkt["rssic"], abs=1e-3)
        assert up.count_us == pkt["count_us"]
        assert up.crc_status is HAL_STATUS[pkt["status"]]
        assert up.phy_payload.hex() == pkt["payload_hex"]
        assert len(up.phy_payload) == pkt["size"]
        if pkt["modulation_name"] == "LORA":
            assert up.modulation is Modulation.LORA
            assert up.sf == pkt["datarate"]
            assert up.code_rate == pkt["coderate_name"]
            assert up.rssi_sig_dbm == pytest.approx(pkt["rssis"], abs=1e-3)
            assert up.snr_db == pkt["snr"]
            assert up.freq_offset_hz == pkt["freq_offset"]
        else:
            # deliberate: the HAL reports rssis = -128 + offset + T, snr -128 and a stale
            # freq_offset for FSK; we say "not measured" instead (docs/uplinks.md)
            assert up.modulation is Modulation.FSK
            assert up.datarate_bps == pkt["datarate"]
            assert (up.rssi_sig_dbm, up.snr_db, up.freq_offset_hz) == (None, 0.0, None)


def test_the_vectors_cover_lora_service_fsk_and_every_multi_sf_chain() -> None:
    chains = {p["if_chain"] for c in VALID for p in c["lgw_receive"]["packets"]}
    assert chains == set(range(10))


def test_crc_mismatch_record_becomes_a_bad_crc_uplink_where_the_hal_aborts() -> None:
    (case,) = [c for c in rx_fifo_cases() if c["name"] == "crc_ok_but_crc16_mismatch_0"]
    assert case["lgw_receive"]["outcome"] == "fatal_error_crc16_mismatch"
    (record,) = records_of(case)
    up = convert(case, record)
    assert not record.crc_error and record.crc_en
    assert up is not None and up.crc_status is CrcStatus.BAD


def test_uplink_carries_session_gw_time_and_its_context() -> None:
    case = VALID[0]
    up = convert(case, records_of(case)[0], session_id=7, gw_time=12.5)
    assert (up.session_id, up.gw_time) == (7, 12.5)
    assert up.context == make_context(up.count_us, 7)


def test_count_us_wraps_modulo_2_pow_32_after_the_correction() -> None:
    case = next(c for c in VALID if c["lgw_receive"]["packets"][0]["modulation_name"] == "LORA")
    up = convert(case, records_of(case)[0], count_us=5)
    assert up.count_us > 0xFFFF_0000  # 5 µs minus a decoder delay of tens of µs or more


def lora_record(**fields: object) -> RxRecord:
    payload = fields.pop("payload", b"\x40\x01\x02\x03\x04\x00\x01\x00")
    base = RxRecord(
        payload=payload, if_chain=0, sf=7, coding_rate=1, crc_en=True, modem_id=0,
        freq_offset_raw=0, crc_error=False, sync_error=False, header_error=False,
        timing_set=False, snr_raw=40, rssi_chan_raw=100, rssi_sig_raw=98, timestamp=0,
        crc16=lora_payload_crc(payload),
    )  # fmt: skip
    return replace(base, **fields)


def test_disabled_chain_is_unmappable() -> None:
    multi_sf = (MultiSfChannel(False), *PLAN.multi_sf[1:])
    plan = replace(PLAN, multi_sf=multi_sf)
    record = lora_record()
    assert unmappable_reason(record, plan) == "disabled_chain"
    kwargs = {"count_us": 0, "session_id": 1, "gw_time": 0.0, "temperature_c": 25.0}
    assert record_to_uplink(record, plan, **kwargs) is None


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"if_chain": 10}, "bad_channel"),
        ({"sf": 4}, "bad_sf"),
        ({"coding_rate": 0}, "bad_coding_rate"),
    ],
)
def test_out_of_range_records_are_unmappable(fields: dict, reason: str) -> None:
    assert unmappable_reason(lora_record(**fields), PLAN) == reason


def test_record_without_crc_has_status_none() -> None:
    assert record_crc_status(lora_record(crc_en=False), PLAN) is CrcStatus.NONE


def test_record_with_crc_error_has_status_bad() -> None:
    assert record_crc_status(lora_record(crc_error=True), PLAN) is CrcStatus.BAD


def test_record_with_matching_crc_has_status_ok() -> None:
    assert record_crc_status(lora_record(), PLAN) is CrcStatus.OK


def test_implicit_header_service_chain_takes_code_rate_and_crc_from_the_plan() -> None:
    lora_std = LoraStdChannel(
        True, radio=1, if_hz=-200_000, bandwidth_hz=250_000, sf=7,
        implicit_header=True, implicit_crc=True, implicit_code_rate=3,
    )  # fmt: skip
    plan = replace(PLAN, lora_std=lora_std)
    record = lora_record(if_chain=8, modem_id=16, coding_rate=0, crc_en=False)
    up = record_to_uplink(
        record, plan, count_us=10_000, session_id=1, gw_time=0.0, temperature_c=25
    )
    assert up is not None
    assert (up.code_rate, up.bandwidth_hz, up.crc_status) == ("4/7", 250_000, CrcStatus.OK)


@given(
    if_chain=st.integers(0, 255),
    sf=st.integers(0, 15),
    coding_rate=st.integers(0, 7),
    crc_en=st.booleans(),
    crc_error=st.booleans(),
    payload=st.binary(max_size=255),
    snr_raw=st.integers(-128, 127),
    rssi=st.integers(0, 255),
    count_us=st.integers(0, 2**32 - 1),
    temperature_c=st.floats(-40, 85),
)
def test_any_record_converts_or_is_refused_with_a_reason(
    if_chain, sf, coding_rate, crc_en, crc_error, payload, snr_raw, rssi, count_us, temperature_c
) -> None:
    record = lora_record(
        if_chain=if_chain, sf=sf, coding_rate=coding_rate, crc_en=crc_en, crc_error=crc_error,
        payload=payload, snr_raw=snr_raw, rssi_chan_raw=rssi, rssi_sig_raw=rssi,
    )  # fmt: skip
    reason = unmappable_reason(record, PLAN)
    up = record_to_uplink(
        record, PLAN, count_us=count_us, session_id=1, gw_time=0.0, temperature_c=temperature_c
    )
    assert (up is None) == (reason is not None)
    if up is not None:
        assert 0 <= up.count_us <= 0xFFFF_FFFF
        assert up.freq_hz == PLAN.chain_freq_hz(if_chain)
        assert -260 < up.rssi_dbm < 100
