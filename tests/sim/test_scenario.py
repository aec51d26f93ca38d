"""Scenario JSONL parsing: the contract's fields, ranges and line-numbered errors."""

from __future__ import annotations

import json

import pytest

from drivers.sim import ScenarioError, ScenarioFifoBytes, ScenarioPacket, load_scenario
from drivers.sim.scenario import parse_scenario

PACKET = {
    "at_ms": 100,
    "freq_hz": 868_100_000,
    "sf": 7,
    "bw_hz": 125_000,
    "cr": "4/5",
    "rssi_dbm": -57.5,
    "snr_db": 9.25,
    "crc": "ok",
    "phy": "40aabbccdd",
}


def line(**changes: object) -> str:
    obj = {**PACKET, **changes}
    return json.dumps({k: v for k, v in obj.items() if v is not None})


def test_packet_line_parses_to_its_values():
    (item,) = parse_scenario([line()]).items
    assert item == ScenarioPacket(
        at_ms=100,
        freq_hz=868_100_000,
        sf=7,
        bw_hz=125_000,
        cr="4/5",
        rssi_dbm=-57.5,
        snr_db=9.25,
        crc="ok",
        phy=bytes.fromhex("40aabbccdd"),
    )


def test_integer_rssi_is_accepted_as_float():
    (item,) = parse_scenario([line(rssi_dbm=-80)]).items
    assert item.rssi_dbm == -80.0


def test_fifo_hex_line_parses_to_raw_bytes():
    (item,) = parse_scenario(['{"at_ms": 5, "fifo_hex": "a5c0ff"}']).items
    assert item == ScenarioFifoBytes(at_ms=5, data=b"\xa5\xc0\xff")


def test_blank_lines_are_skipped_and_items_sorted_by_time():
    scenario = parse_scenario([line(at_ms=300), "", line(at_ms=200)])
    assert [item.at_ms for item in scenario.items] == [200, 300]


def test_underscore_keys_are_comments():
    (item,) = parse_scenario([line(_note="gateway on the roof")]).items
    assert item.sf == 7


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"sf": 13}, "sf must be 5..12"),
        ({"sf": 4}, "sf must be 5..12"),
        ({"sf": 7.0}, "sf must be an integer"),
        ({"bw_hz": 200_000}, "bw_hz must be one of"),
        ({"cr": "4/9"}, "cr must be one of"),
        ({"crc": "good"}, "crc must be one of"),
        ({"at_ms": -1}, "at_ms must be >= 0"),
        ({"at_ms": True}, "at_ms must be an integer"),
        ({"freq_hz": "868.1"}, "freq_hz must be an integer"),
        ({"rssi_dbm": "loud"}, "rssi_dbm must be a finite number"),
        ({"snr_db": None}, "missing field"),
        ({"phy": "zz"}, "phy is not valid hex"),
        ({"phy": "00" * 256}, "at most 255"),
        ({"power": 14}, "unknown field"),
    ],
)
def test_malformed_line_is_an_error_naming_its_line_number(bad, message):
    with pytest.raises(ScenarioError, match=rf"test.jsonl line 3: .*{message}"):
        parse_scenario([line(), line(), line(**bad)], "test.jsonl")


def test_invalid_json_names_its_line():
    with pytest.raises(ScenarioError, match="line 2: not valid JSON"):
        parse_scenario([line(), "{oops"], "s.jsonl")


def test_non_object_line_is_an_error():
    with pytest.raises(ScenarioError, match="line 1: a line must be a JSON object"):
        parse_scenario(["[1, 2]"])


def test_fifo_hex_line_with_packet_fields_is_an_error():
    with pytest.raises(ScenarioError, match="line 1: a fifo_hex line carries exactly"):
        parse_scenario(['{"at_ms": 1, "fifo_hex": "a5", "sf": 7}'])


def test_empty_fifo_hex_is_an_error():
    with pytest.raises(ScenarioError, match="fifo_hex must not be empty"):
        parse_scenario(['{"at_ms": 1, "fifo_hex": ""}'])


def test_load_scenario_reads_a_file_and_names_it_in_errors(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(line() + "\n" + line(sf=99) + "\n")
    with pytest.raises(ScenarioError, match=rf"{path} line 2"):
        load_scenario(path)


def test_missing_scenario_file_is_a_scenario_error(tmp_path):
    with pytest.raises(ScenarioError, match="cannot read scenario"):
        load_scenario(tmp_path / "absent.jsonl")
