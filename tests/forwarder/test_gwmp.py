"""Semtech UDP (GWMP v2) datagrams and JSON objects, on exact bytes and values."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from packet_forwarder.errors import GwmpError
from packet_forwarder.gwmp import (
    PullAck,
    PullData,
    PullResp,
    PushAck,
    PushData,
    TxAck,
    format_time_us,
    parse_datagram,
    stats_to_stat,
    txpk_ack,
    txpk_to_downlink,
    uplink_to_rxpk,
)
from packet_forwarder.model import (
    CrcStatus,
    GatewayStats,
    Modulation,
    Timing,
    TxStatus,
    Uplink,
    parse_context,
)

EUI = 0x0016C001FF1A08F0
EUI_BYTES = bytes.fromhex("0016c001ff1a08f0")


def test_push_data_bytes() -> None:
    raw = PushData(0x1234, EUI, {"stat": {"rxnb": 1}}).to_bytes()
    assert raw == b"\x02\x12\x34\x00" + EUI_BYTES + b'{"stat":{"rxnb":1}}'


def test_push_ack_bytes() -> None:
    assert PushAck(0xBEEF).to_bytes() == b"\x02\xbe\xef\x01"


def test_pull_data_bytes() -> None:
    assert PullData(1, EUI).to_bytes() == b"\x02\x00\x01\x02" + EUI_BYTES


def test_pull_ack_bytes() -> None:
    assert PullAck(0x0102).to_bytes() == b"\x02\x01\x02\x04"


def test_pull_resp_bytes_carry_no_eui() -> None:
    raw = PullResp(7, {"txpk": {"imme": True}}).to_bytes()
    assert raw == b'\x02\x00\x07\x03{"txpk":{"imme":true}}'


def test_tx_ack_without_payload_is_header_and_eui() -> None:
    assert TxAck(7, EUI).to_bytes() == b"\x02\x00\x07\x05" + EUI_BYTES


def test_tx_ack_with_error_payload() -> None:
    raw = TxAck(7, EUI, txpk_ack(TxStatus.TOO_LATE)).to_bytes()
    assert raw[12:] == b'{"txpk_ack":{"error":"TOO_LATE"}}'


tokens = st.integers(0, 0xFFFF)
euis = st.integers(0, 2**64 - 1)
objects = st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=3)


@given(
    datagram=st.one_of(
        st.builds(PushData, tokens, euis, objects),
        st.builds(PushAck, tokens),
        st.builds(PullData, tokens, euis),
        st.builds(PullAck, tokens),
        st.builds(PullResp, tokens, objects),
        st.builds(TxAck, tokens, euis, st.none() | objects),
    )
)
def test_datagrams_round_trip(datagram) -> None:
    assert parse_datagram(datagram.to_bytes()) == datagram


def test_version_1_datagrams_are_accepted() -> None:
    assert parse_datagram(b"\x01\x00\x05\x01") == PushAck(5, version=1)


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (b"\x02\x00", "too short"),
        (b"\x03\x00\x01\x01", "version"),
        (b"\x02\x00\x01\x09", "identifier"),
        (b"\x02\x00\x01\x02\x00\x16", "EUI"),
        (b"\x02\x00\x01\x00" + EUI_BYTES + b"{nope", "JSON"),
        (b"\x02\x00\x01\x03[1,2]", "object"),
    ],
)
def test_malformed_datagrams_raise_gwmp_error(raw: bytes, match: str) -> None:
    with pytest.raises(GwmpError, match=match):
        parse_datagram(raw)


def lora_uplink(**fields: object) -> Uplink:
    values = {
        "phy_payload": b"\x40\x01\x02\x03\x04",
        "freq_hz": 868_100_000,
        "modulation": Modulation.LORA,
        "bandwidth_hz": 125_000,
        "sf": 7,
        "code_rate": "4/5",
        "rssi_dbm": -57.6,
        "rssi_sig_dbm": -60.4,
        "snr_db": 9.25,
        "channel": 0,
        "rf_chain": 1,
        "crc_status": CrcStatus.OK,
        "count_us": 3_512_348_611,
        "session_id": 1,
        "gw_time": 1_364_746_877.528002,
        "freq_offset_hz": -1234,
        "modem_id": 2,
    }
    values.update(fields)
    return Uplink(**values)


def test_lora_uplink_to_rxpk() -> None:
    assert uplink_to_rxpk(lora_uplink()) == {
        "time": "2013-03-31T16:21:17.528002Z",
        "tmst": 3_512_348_611,
        "chan": 0,
        "rfch": 1,
        "freq": 868.1,
        "mid": 2,
        "stat": 1,
        "modu": "LORA",
        "datr": "SF7BW125",
        "codr": "4/5",
        "rssis": -60,
        "lsnr": 9.2,
        "foff": -1234,
        "rssi": -58,
        "size": 5,
        "data": "QAECAwQ=",
    }


def test_rxpk_frequency_keeps_hz_precision() -> None:
    assert uplink_to_rxpk(lora_uplink(freq_hz=866_349_812))["freq"] == 866.349812


@pytest.mark.parametrize(("status", "code"), [(CrcStatus.BAD, -1), (CrcStatus.NONE, 0)])
def test_rxpk_stat_codes(status: CrcStatus, code: int) -> None:
    assert uplink_to_rxpk(lora_uplink(crc_status=status))["stat"] == code


def test_rxpk_carries_gps_time_and_fine_timestamp_when_known() -> None:
    rxpk = uplink_to_rxpk(lora_uplink(time_since_gps_epoch=1_000_000_000.1234, fine_timestamp_ns=5))
    assert (rxpk["tmms"], rxpk["ftime"]) == (1_000_000_000_123, 5)


def test_fsk_uplink_to_rxpk_has_integer_datarate_and_no_lora_fields() -> None:
    up = lora_uplink(
        modulation=Modulation.FSK, sf=0, code_rate="", datarate_bps=50_000,
        rssi_sig_dbm=None, snr_db=0.0, freq_offset_hz=None, channel=9,
    )  # fmt: skip
    rxpk = uplink_to_rxpk(up)
    assert (rxpk["modu"], rxpk["datr"], rxpk["chan"]) == ("FSK", 50_000, 9)
    assert not {"codr", "lsnr", "rssis", "foff"} & rxpk.keys()


def test_rxpk_is_json_serialisable() -> None:
    text = json.dumps({"rxpk": [uplink_to_rxpk(lora_uplink())]})
    assert json.loads(text)["rxpk"][0]["datr"] == "SF7BW125"


def test_format_time_carries_microseconds() -> None:
    assert format_time_us(0.000001) == "1970-01-01T00:00:00.000001Z"


def test_stats_to_stat() -> None:
    stats = GatewayStats(
        rx_packets_received=10, rx_packets_received_ok=8, tx_packets_received=3,
        tx_packets_emitted=2,
    )  # fmt: skip
    stat = stats_to_stat(
        stats, time_s=1_364_746_877.9, rx_forwarded=8, ack_ratio_pct=100.0, temperature_c=31.25
    )
    assert stat == {
        "time": "2013-03-31 16:21:17 GMT",
        "rxnb": 10,
        "rxok": 8,
        "rxfw": 8,
        "ackr": 100.0,
        "dwnb": 3,
        "txnb": 2,
        "temp": 31.2,
    }


def test_stats_to_stat_with_location_and_default_forwarded() -> None:
    stat = stats_to_stat(GatewayStats(rx_packets_received=4), time_s=0, location=(46.5, 6.6, 400))
    assert (stat["lati"], stat["long"], stat["alti"], stat["rxfw"]) == (46.5, 6.6, 400, 4)


TXPK = {
    "imme": False,
    "tmst": 3_513_348_611,
    "freq": 869.525,
    "rfch": 0,
    "powe": 27,
    "modu": "LORA",
    "datr": "SF9BW125",
    "codr": "4/5",
    "ipol": True,
    "size": 4,
    "ncrc": True,
    "data": "AQIDBA",
}


def test_timestamped_txpk_to_downlink() -> None:
    down = txpk_to_downlink(TXPK, downlink_id=42)
    assert down.downlink_id == 42
    assert (down.freq_hz, down.power_dbm, down.modulation) == (869_525_000, 27.0, Modulation.LORA)
    assert (down.sf, down.bandwidth_hz, down.code_rate) == (9, 125_000, "4/5")
    assert (down.iq_inverted, down.no_crc, down.preamble) == (True, True, 8)
    assert down.phy_payload == b"\x01\x02\x03\x04"
    assert down.timing is Timing.DELAY and down.delay_us == 0
    assert parse_context(down.context) == (3_513_348_611, None)


def test_immediate_txpk() -> None:
    down = txpk_to_downlink({**TXPK, "imme": True}, downlink_id=1)
    assert down.timing is Timing.IMMEDIATELY


def test_gps_txpk_uses_tmms_in_microseconds() -> None:
    txpk = {k: v for k, v in TXPK.items() if k != "tmst"} | {"tmms": 1_300_000_000_000}
    down = txpk_to_downlink(txpk, downlink_id=1)
    assert (down.timing, down.gps_epoch_us) == (Timing.GPS_EPOCH, 1_300_000_000_000_000)


def test_txpk_protocol_defaults_when_fields_are_absent() -> None:
    txpk = {k: v for k, v in TXPK.items() if k not in ("ipol", "ncrc", "size")}
    down = txpk_to_downlink(txpk, downlink_id=1)
    assert (down.iq_inverted, down.no_crc, down.preamble) == (False, False, 8)


def test_fsk_txpk() -> None:
    txpk = TXPK | {"modu": "FSK", "datr": 50_000, "fdev": 25_000, "prea": 5}
    down = txpk_to_downlink(txpk, downlink_id=1)
    assert (down.modulation, down.datarate_bps, down.freq_deviation_hz) == (
        Modulation.FSK, 50_000, 25_000,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"datr": "SF9"}, "datr"),
        ({"codr": "4/9"}, "codr"),
        ({"modu": "GFSK"}, "modulation"),
        ({"size": 5}, "size"),
        ({"data": "***"}, "base64"),
        ({"nhdr": True}, "implicit"),
        ({"prea": 4}, "preamble"),
        ({"tmst": 2**32}, "32-bit"),
        ({"freq": "868.1"}, "freq"),
        ({"powe": None}, "powe"),
    ],
)
def test_bad_txpk_raises_gwmp_error(change: dict, match: str) -> None:
    with pytest.raises(GwmpError, match=match):
        txpk_to_downlink(TXPK | change, downlink_id=1)


def test_txpk_without_timing_is_refused() -> None:
    txpk = {k: v for k, v in TXPK.items() if k not in ("imme", "tmst")}
    with pytest.raises(GwmpError, match="tmst"):
        txpk_to_downlink(txpk, downlink_id=1)


def test_txpk_ack_success_is_error_none() -> None:
    assert txpk_ack(TxStatus.OK) == {"txpk_ack": {"error": "NONE"}}


def test_txpk_ack_failure_names_the_status() -> None:
    assert txpk_ack(TxStatus.COLLISION_PACKET) == {"txpk_ack": {"error": "COLLISION_PACKET"}}


def test_txpk_ack_power_warning_carries_the_power_used() -> None:
    assert txpk_ack(TxStatus.TX_POWER, power_dbm=14) == {
        "txpk_ack": {"warn": "TX_POWER", "value": 14}
    }


def test_txpk_ack_power_refusal_without_power_is_an_error() -> None:
    assert txpk_ack(TxStatus.TX_POWER) == {"txpk_ack": {"error": "TX_POWER"}}
