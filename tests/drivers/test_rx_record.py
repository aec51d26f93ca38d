"""The RX record codec against the records Semtech's HAL popped from the reference buffers."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.errors import RxDataError
from drivers.sx1302.rx_record import MIN_RECORD_SIZE, RxRecord, lora_payload_crc
from tests.vectors import VALID_CATEGORIES, rows, rx_fifo_cases

VALID = [c for c in rx_fifo_cases() if c["category"] in VALID_CATEGORIES]


@pytest.mark.parametrize("case", VALID, ids=[c["name"] for c in VALID])
def test_valid_buffers_parse_to_the_hal_records_and_re_encode_exactly(case: dict) -> None:
    buf = bytes.fromhex(case["buffer_hex"])
    offset = 0
    for expected in case["records"]:
        record = RxRecord.from_bytes(buf[offset:])
        assert record.payload.hex() == expected["payload_hex"]
        assert record.if_chain == expected["if_chain"]
        assert (record.sf, record.coding_rate) == (expected["sf"], expected["coding_rate"])
        assert record.crc_en == bool(expected["crc_en"])
        assert record.modem_id == expected["modem_id"]
        assert record.freq_offset_raw == expected["freq_offset_raw"]
        assert record.crc_error == bool(expected["crc_error"])
        assert record.sync_error == bool(expected["sync_error"])
        assert record.header_error == bool(expected["header_error"])
        assert record.timing_set == bool(expected["timing_set"])
        assert record.snr_raw == expected["snr_raw"]
        assert record.rssi_chan_raw == expected["rssi_chan_raw"]
        assert record.rssi_sig_raw == expected["rssi_sig_raw"]
        assert record.timestamp == expected["timestamp"]
        assert record.crc16 == expected["crc16"]
        assert list(record.ts_metrics) == expected["ts_metrics"]
        deltas = expected["rssi_delta_nibbles_not_parsed_by_hal"]
        assert record.rssi_chan_max_neg_delta == deltas["rssi_chan_max_neg_delta"]
        assert record.rssi_chan_max_pos_delta == deltas["rssi_chan_max_pos_delta"]
        assert record.rssi_sig_max_neg_delta == deltas["rssi_sig_max_neg_delta"]
        assert record.rssi_sig_max_pos_delta == deltas["rssi_sig_max_pos_delta"]
        assert record.to_bytes() == buf[offset : offset + record.size]
        offset += record.size


@pytest.mark.parametrize("row", rows("lora_payload_crc"), ids=lambda r: str(r["payload_len"]))
def test_payload_crc_matches_the_hal(row: dict) -> None:
    assert lora_payload_crc(bytes.fromhex(row["payload_hex"])) == row["crc16"]


def test_payload_crc_check_value() -> None:
    assert lora_payload_crc(b"123456789") == 0xBEEF


def test_bad_checksum_is_refused() -> None:
    data = bytearray(bytes.fromhex(VALID[0]["buffer_hex"]))
    data[-1] ^= 0xFF
    with pytest.raises(RxDataError, match="checksum"):
        RxRecord.from_bytes(bytes(data))


def test_truncated_record_is_refused() -> None:
    data = bytes.fromhex(VALID[1]["buffer_hex"])
    with pytest.raises(RxDataError, match="truncated"):
        RxRecord.from_bytes(data[:-3])


records = st.builds(
    RxRecord,
    payload=st.binary(max_size=255),
    if_chain=st.integers(0, 255),
    sf=st.integers(0, 15),
    coding_rate=st.integers(0, 7),
    crc_en=st.booleans(),
    modem_id=st.integers(0, 255),
    freq_offset_raw=st.integers(-(1 << 19), (1 << 19) - 1),
    crc_error=st.booleans(),
    sync_error=st.booleans(),
    header_error=st.booleans(),
    timing_set=st.booleans(),
    snr_raw=st.integers(-128, 127),
    rssi_chan_raw=st.integers(0, 255),
    rssi_sig_raw=st.integers(0, 255),
    timestamp=st.integers(0, 2**32 - 1),
    crc16=st.integers(0, 0xFFFF),
    ts_metrics=st.lists(st.integers(-128, 127), max_size=64).map(
        lambda m: tuple(m[: len(m) // 2 * 2])
    ),
)


@given(records)
def test_build_then_parse_round_trips(record: RxRecord) -> None:
    assert RxRecord.from_bytes(record.to_bytes()) == record


@given(records, st.integers(0, 7).map(lambda b: b << 5), st.booleans(), st.integers(0, 15))
def test_struct_encoder_equals_the_construct_schema(
    record: RxRecord, reserved_hi: int, reserved_lo: bool, freq_reserved: int
) -> None:
    record = replace(
        record,
        flags_reserved=reserved_hi | (0x02 if reserved_lo else 0),
        freq_offset_reserved=freq_reserved,
    )
    assert record.to_bytes() == record._to_bytes_with_construct()


def test_out_of_range_field_is_refused() -> None:
    record = RxRecord.from_bytes(bytes.fromhex(VALID[0]["buffer_hex"]))
    with pytest.raises(ValueError, match="out of range"):
        replace(record, sf=16).to_bytes()


@given(st.binary(min_size=6, max_size=6), st.binary(max_size=40), st.binary(min_size=12,
       max_size=12), st.integers(0, 8), st.data())  # fmt: skip
def test_any_well_framed_bytes_parse_and_re_encode_to_themselves(
    head: bytes, payload: bytes, tail: bytes, pairs: int, data: st.DataObject
) -> None:
    """Every bit of the packed bytes (rate, flags, deltas, reserved bits) survives the arithmetic
    split of the flat schema: bytes -> RxRecord -> the very same bytes."""
    metrics = data.draw(st.binary(min_size=2 * pairs, max_size=2 * pairs))
    body = b"\xa5\xc0" + bytes([len(payload)]) + head
    body += payload + tail + bytes([pairs]) + metrics
    raw = body + bytes([sum(body) & 0xFF])
    record = RxRecord.from_bytes(raw)
    assert record.to_bytes() == raw
    assert (record.sf, record.coding_rate, record.crc_en) == (
        raw[4] >> 4, raw[4] >> 1 & 7, bool(raw[4] & 1)
    )  # fmt: skip
    flags = raw[9 + len(payload)]
    assert (record.timing_set, record.header_error, record.sync_error, record.crc_error) == (
        bool(flags & 0x10), bool(flags & 0x08), bool(flags & 0x04), bool(flags & 0x01)
    )  # fmt: skip


@given(st.binary(min_size=6, max_size=6), st.binary(max_size=40), st.binary(min_size=12,
       max_size=12), st.integers(0, 8), st.data())  # fmt: skip
def test_struct_parser_equals_the_construct_schema(
    head: bytes, payload: bytes, tail: bytes, pairs: int, data: st.DataObject
) -> None:
    """The struct fast path of ``from_bytes`` and the construct schema's parse give the same
    record for any well-framed bytes, with trailing bytes after the record ignored by both."""
    metrics = data.draw(st.binary(min_size=2 * pairs, max_size=2 * pairs))
    body = b"\xa5\xc0" + bytes([len(payload)]) + head + payload + tail + bytes([pairs]) + metrics
    raw = body + bytes([sum(body) & 0xFF]) + data.draw(st.binary(max_size=8))
    assert RxRecord.from_bytes(raw) == RxRecord._from_bytes_with_construct(raw)


@pytest.mark.parametrize("case", rx_fifo_cases(), ids=[c["name"] for c in rx_fifo_cases()])
def test_struct_parser_refuses_what_the_schema_refuses(case: dict) -> None:
    """Every held-out buffer, the malformed ones included, and every prefix of it: the two
    parsers agree on the record or both refuse it."""
    buf = bytes.fromhex(case["buffer_hex"])
    for start in range(len(buf)):
        for end in sorted({start + 1, start + MIN_RECORD_SIZE, len(buf) - 1, len(buf)}):
            chunk = buf[start:end]
            try:
                expected: RxRecord | str = RxRecord._from_bytes_with_construct(chunk)
            except RxDataError as exc:
                expected = type(exc).__name__
            try:
                got: RxRecord | str = RxRecord.from_bytes(chunk)
            except RxDataError as exc:
                got = type(exc).__name__
            assert got == expected, (start, end)
