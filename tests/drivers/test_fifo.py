"""parse_fifo against every RX FIFO buffer of the HAL vectors, and on arbitrary bytes.

Where the HAL threw good records away (a whole fetch dropped for one bad record), each test
says so and asserts that we keep them.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from drivers.sx1302.fifo import FifoParse, parse_fifo
from drivers.sx1302.rx_record import RxRecord, lora_payload_crc
from tests.vectors import VALID_CATEGORIES, rx_fifo_cases


def _cases(*categories: str) -> list[dict]:
    found = [c for c in rx_fifo_cases() if c["category"] in categories]
    assert found, categories
    return found


def _ids(cases: list[dict]) -> list[str]:
    return [c["name"] for c in cases]


def _crc_flagged_by_us(ours: RxRecord, hal: dict) -> bool:
    """A CRC-OK record whose payload CRC16 mismatches: we flag it crc_error, the HAL did not."""
    return ours.crc_error and not hal["crc_error"] and lora_payload_crc(ours.payload) != ours.crc16


def _same_record(ours: RxRecord, hal: dict) -> bool:
    """Whether our record carries the fields the HAL popped (crc_error: see _crc_flagged_by_us)."""
    crc_error_forced = _crc_flagged_by_us(ours, hal)
    return (
        ours.payload.hex() == hal["payload_hex"]
        and ours.if_chain == hal["if_chain"]
        and (ours.sf, ours.coding_rate, ours.crc_en)
        == (hal["sf"], hal["coding_rate"], bool(hal["crc_en"]))
        and ours.modem_id == hal["modem_id"]
        and ours.freq_offset_raw == hal["freq_offset_raw"]
        and ours.crc_error == (True if crc_error_forced else bool(hal["crc_error"]))
        and (ours.sync_error, ours.header_error)
        == (bool(hal["sync_error"]), bool(hal["header_error"]))
        and ours.timing_set == bool(hal["timing_set"])
        and (ours.snr_raw, ours.rssi_chan_raw, ours.rssi_sig_raw)
        == (hal["snr_raw"], hal["rssi_chan_raw"], hal["rssi_sig_raw"])
        and (ours.timestamp, ours.crc16) == (hal["timestamp"], hal["crc16"])
        and list(ours.ts_metrics) == hal["ts_metrics"]
    )


def _contains_in_order(ours: tuple[RxRecord, ...], hal_records: list[dict]) -> bool:
    it = iter(ours)
    return all(any(_same_record(r, h) for r in it) for h in hal_records)


def _parse(case: dict) -> FifoParse:
    return parse_fifo(bytes.fromhex(case["buffer_hex"]))


def _tiles_the_tail(case: dict, result: FifoParse) -> bool:
    """Our records are consecutive in the buffer and the last one ends it."""
    joined = b"".join(r.to_bytes() for r in result.records)
    return bytes.fromhex(case["buffer_hex"]).endswith(joined)


# --- valid buffers: exactly the HAL's records --------------------------------------------------

VALID = [c for c in rx_fifo_cases() if c["category"] in VALID_CATEGORIES]


@pytest.mark.parametrize("case", VALID, ids=_ids(VALID))
def test_valid_buffer_gives_exactly_the_hal_records(case: dict) -> None:
    result = _parse(case)
    assert len(result.records) == len(case["records"])
    assert all(_same_record(r, h) for r, h in zip(result.records, case["records"], strict=True))
    assert (result.errors, result.skipped_bytes) == ({}, 0)
    assert result.bytes_read == case["buffer_len"]


# --- corrupted buffers -------------------------------------------------------------------------

GARBAGE_PREFIX = _cases("corrupt_garbage_prefix")


@pytest.mark.parametrize("case", GARBAGE_PREFIX, ids=_ids(GARBAGE_PREFIX))
def test_garbage_prefix_is_skipped_like_the_hal_resync(case: dict) -> None:
    result = _parse(case)
    assert _contains_in_order(result.records, case["records"])
    assert len(result.records) == len(case["records"])
    assert result.errors == {"garbage": 1}
    assert result.skipped_bytes == case["hal_result"]["resync_offset"]


FALSE_SYNC = _cases("corrupt_false_sync")


@pytest.mark.parametrize("case", FALSE_SYNC, ids=_ids(FALSE_SYNC))
def test_false_sync_in_garbage_loses_nothing_where_the_hal_lost_the_fetch(case: dict) -> None:
    # HAL: resyncs on the false A5 C0, pops a "truncated" record and drops the whole fetch.
    # We: count that false record truncated, resync after it and keep every real record.
    assert case["records"] == []
    result = _parse(case)
    assert len(result.records) >= 1
    assert _tiles_the_tail(case, result)
    assert result.errors == {"garbage": 1, "truncated": 1}


BAD_CHECKSUM = _cases("corrupt_bad_checksum")


@pytest.mark.parametrize("case", BAD_CHECKSUM, ids=_ids(BAD_CHECKSUM))
def test_bad_checksum_loses_only_that_record(case: dict) -> None:
    # HAL: pops the records before the bad one, then drops the rest of the fetch and lgw_receive
    # returns 0 packets. We: keep every record before AND after the bad one.
    result = _parse(case)
    assert _contains_in_order(result.records, case["records"])
    match = re.search(r"record (\d+) of (\d+)", case["description"])
    total = int(match.group(2)) if match else 1  # "one payload bit flipped": a single record
    assert len(result.records) == total - 1
    assert result.errors == {"checksum": 1}


TRUNCATED = _cases("corrupt_truncated")


@pytest.mark.parametrize("case", TRUNCATED, ids=_ids(TRUNCATED))
def test_truncated_last_record_loses_only_itself(case: dict) -> None:
    # HAL: a last record cut to 1 byte makes the fetch "bad sync at record start" and drops ALL
    # records; cut mid-payload it pops the good ones then returns 0 packets. We keep the good ones.
    total, cut = map(
        int,
        re.search(r"(\d+) records, last one cut to its first (\d+)", case["description"]).groups(),
    )
    result = _parse(case)
    assert _contains_in_order(result.records, case["records"])
    assert len(result.records) == total - 1
    assert result.skipped_bytes == cut
    # a lone trailing 0xA5 is no sync word: garbage; a cut record with its sync: truncated
    assert result.errors == ({"garbage": 1} if cut == 1 else {"truncated": 1})


NOTHING = _cases("corrupt_no_sync", "corrupt_short")


@pytest.mark.parametrize("case", NOTHING, ids=_ids(NOTHING))
def test_buffers_without_a_record_give_none_and_count_the_bytes(case: dict) -> None:
    result = _parse(case)
    assert result.records == ()
    assert result.skipped_bytes == case["buffer_len"]
    assert sum(result.errors.values()) == (1 if case["buffer_len"] else 0)


GARBAGE_BETWEEN = _cases("corrupt_garbage_between")


@pytest.mark.parametrize("case", GARBAGE_BETWEEN, ids=_ids(GARBAGE_BETWEEN))
def test_garbage_between_records_loses_nothing(case: dict) -> None:
    # HAL: "syncword not found" at the garbage: the whole fetch is discarded. We keep all records.
    size = int(re.search(r"(\d+) garbage bytes", case["description"]).group(1))
    result = _parse(case)
    assert result.errors == {"garbage": 1}
    assert result.skipped_bytes == size
    assert sum(r.size for r in result.records) == case["buffer_len"] - size


TRAILING = _cases("corrupt_trailing")


@pytest.mark.parametrize("case", TRAILING, ids=_ids(TRAILING))
def test_trailing_junk_loses_nothing(case: dict) -> None:
    # HAL: drops the fetch (lone A5) or pops both records then returns 0 packets (A5 C0 05).
    junk = re.search(r"followed by ([0-9a-f]+)", case["description"]).group(1)
    result = _parse(case)
    assert _contains_in_order(result.records, case["records"])
    assert len(result.records) == 2
    assert result.skipped_bytes == len(junk) // 2
    assert result.errors == ({"truncated": 1} if junk.startswith("a5c0") else {"garbage": 1})


# --- semantically invalid records --------------------------------------------------------------

SEMANTIC_SKIPPED = {
    "bad_modem_id_18": "bad_modem_id",
    "bad_modem_id_255": "bad_modem_id",
    "bad_channel_10_lora": "bad_channel",
    "bad_sf_0": "bad_sf",
    "lora_modem_on_fsk_chan_1": "bad_sf",
}


@pytest.mark.parametrize("name", sorted(SEMANTIC_SKIPPED))
def test_semantically_invalid_record_is_skipped_and_counted(name: str) -> None:
    # HAL: rx_buffer_pop fails and lgw_receive returns an error: the forwarder exits.
    (case,) = [c for c in rx_fifo_cases() if c["name"] == name]
    assert case["hal_result"]["records_popped"] == 0
    result = _parse(case)
    assert result.records == ()
    assert result.errors == {SEMANTIC_SKIPPED[name]: 1}
    assert result.skipped_bytes == case["buffer_len"]


@pytest.mark.parametrize("name", ["bad_channel_15_fsk", "fsk_modem_on_multisf_chan_0"])
def test_fsk_modem_records_are_not_range_checked_like_the_hal_pop(name: str) -> None:
    # The HAL pops these (no check for the FSK modem); IF chain 15 is refused later by lgw_receive
    # (fatal there); the converter must drop a record whose IF chain is not in the plan.
    (case,) = [c for c in rx_fifo_cases() if c["name"] == name]
    result = _parse(case)
    assert result.errors == {}
    assert len(result.records) == 1 and _same_record(result.records[0], case["records"][0])


CRC_MISMATCH = _cases("semantic_crc16_mismatch")


@pytest.mark.parametrize("case", CRC_MISMATCH, ids=_ids(CRC_MISMATCH))
def test_crc16_mismatch_record_is_kept_as_crc_bad(case: dict) -> None:
    # HAL: lgw_receive fails ("Payload CRC16 check failed") and the forwarder exits. We keep the
    # record, flagged crc_error (the uplink is reported CRC BAD), and count it.
    result = _parse(case)
    assert result.errors == {"crc_mismatch": 1}
    assert all(_same_record(r, h) for r, h in zip(result.records, case["records"], strict=True))
    pairs = zip(result.records, case["records"], strict=True)
    assert sum(_crc_flagged_by_us(r, h) for r, h in pairs) == 1


def test_every_corrupted_or_semantic_case_keeps_every_record_the_hal_popped() -> None:
    for case in _cases(*{c["category"] for c in rx_fifo_cases()} - VALID_CATEGORIES):
        assert _contains_in_order(_parse(case).records, case["records"]), case["name"]


# --- payload CRC --------------------------------------------------------------------------------


def _bitwise_crc(payload: bytes) -> int:
    """ref/sx1302.md §4 spelled out bit by bit: poly 0x1021, init 0, non-augmented."""
    if len(payload) < 2:
        return payload[0] if payload else 0
    crc = 0
    for byte in payload[:-2]:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc ^ ((payload[-2] << 8) | payload[-1])


@given(st.binary(max_size=300))
def test_payload_crc_equals_the_bitwise_definition(payload: bytes) -> None:
    assert lora_payload_crc(payload) == _bitwise_crc(payload)


# --- arbitrary bytes ----------------------------------------------------------------------------


@settings(max_examples=300)
@given(st.binary(max_size=4096))
def test_parse_fifo_never_raises_and_accounts_for_every_byte(data: bytes) -> None:
    result = parse_fifo(data)
    assert result.bytes_read == len(data)
    assert result.skipped_bytes + sum(r.size for r in result.records) == len(data)


def _record(payload: bytes, modem_id: int, if_chain: int, sf: int, ts: int) -> RxRecord:
    return RxRecord(
        payload=payload, if_chain=if_chain, sf=sf, coding_rate=1, crc_en=True, modem_id=modem_id,
        freq_offset_raw=-5, crc_error=False, sync_error=False, header_error=False,
        timing_set=False, snr_raw=20, rssi_chan_raw=100, rssi_sig_raw=99, timestamp=ts,
        crc16=lora_payload_crc(payload),
    )  # fmt: skip


valid_records = st.builds(
    _record,
    payload=st.binary(max_size=64),
    modem_id=st.integers(0, 15),
    if_chain=st.integers(0, 7),
    sf=st.integers(5, 12),
    ts=st.integers(0, 2**32 - 1),
)
# garbage without 0xA5 cannot contain or complete a sync word
garbage = st.binary(max_size=40).map(lambda b: b.replace(b"\xa5", b"\x00"))


@settings(max_examples=200)
@given(st.lists(st.tuples(garbage, valid_records), max_size=8), garbage)
def test_records_embedded_between_garbage_are_all_found(chunks: list, tail: bytes) -> None:
    data = b"".join(g + r.to_bytes() for g, r in chunks) + tail
    result = parse_fifo(data)
    assert result.records == tuple(r for _, r in chunks)
    assert result.skipped_bytes == sum(len(g) for g, _ in chunks) + len(tail)


@settings(max_examples=100)
@given(st.lists(valid_records, min_size=2, max_size=6), st.data())
def test_one_corrupted_record_loses_only_itself(records: list[RxRecord], data) -> None:
    # a sync word inside a record body would be one more (counted) false record start
    assume(all(b"\xa5" not in r.to_bytes()[1:] for r in records))
    bad = data.draw(st.integers(0, len(records) - 1))
    encoded = [bytearray(r.to_bytes()) for r in records]
    encoded[bad][-1] ^= 0x01  # checksum byte
    result = parse_fifo(b"".join(encoded))
    assert result.records == tuple(r for i, r in enumerate(records) if i != bad)
    assert result.errors == {"checksum": 1}
