"""Uplink, stats and connection state as ChirpStack ``gw`` messages."""

from __future__ import annotations

import json

from chirpstack_api import gw

from edge_agent.backends.chirpstack import codec
from packet_forwarder.model import CrcStatus, GatewayStats, Modulation
from tests.agent.fakes import SESSION_ID, make_uplink

GW_ID = "0016c001ff10a235"


def test_lora_uplink_fields() -> None:
    up = make_uplink(3)
    frame = gw.UplinkFrame.FromString(codec.uplink_frame(up, GW_ID).SerializeToString())
    assert frame.phy_payload == up.phy_payload
    assert frame.tx_info.frequency == 868_100_000
    lora = frame.tx_info.modulation.lora
    assert (lora.bandwidth, lora.spreading_factor, lora.code_rate) == (125_000, 10, gw.CR_4_5)
    rx = frame.rx_info
    assert (rx.gateway_id, rx.rssi, rx.channel, rx.rf_chain) == (GW_ID, -58, 3, 1)
    assert abs(rx.snr - 9.25) < 1e-6
    assert rx.crc_status == gw.CRC_OK
    assert rx.context == (0x1000_0000 + 3000).to_bytes(4, "big") + SESSION_ID.to_bytes(4, "big")
    assert rx.gw_time.ToNanoseconds() == 1_700_000_003_250_000_000


def test_uplink_id_is_random_and_non_zero() -> None:
    ids = {codec.uplink_frame(make_uplink(), GW_ID).rx_info.uplink_id for _ in range(50)}
    assert 0 not in ids
    assert len(ids) > 40


def test_rssi_is_rounded_to_nearest_integer() -> None:
    assert codec.uplink_frame(make_uplink(rssi_dbm=-101.5), GW_ID).rx_info.rssi in (-102, -101)
    assert codec.uplink_frame(make_uplink(rssi_dbm=-100.6), GW_ID).rx_info.rssi == -101


def test_fsk_uplink_uses_fsk_modulation() -> None:
    frame = codec.uplink_frame(make_uplink(modulation=Modulation.FSK), GW_ID)
    assert frame.tx_info.modulation.WhichOneof("parameters") == "fsk"
    assert frame.tx_info.modulation.fsk.datarate == 50_000


def test_crc_status_mapping() -> None:
    bad = codec.uplink_frame(make_uplink(crc=CrcStatus.BAD), GW_ID).rx_info.crc_status
    none = codec.uplink_frame(make_uplink(crc=CrcStatus.NONE), GW_ID).rx_info.crc_status
    assert (bad, none) == (gw.BAD_CRC, gw.NO_CRC)


def test_buffered_payload_is_marked_in_metadata_and_keeps_gw_time() -> None:
    stored = codec.uplink_frame(make_uplink(), GW_ID).SerializeToString()
    wire = gw.UplinkFrame.FromString(codec.uplink_payload(stored, "protobuf", buffered=True))
    assert wire.rx_info.metadata["buffered"] == "true"
    assert wire.rx_info.gw_time == gw.UplinkFrame.FromString(stored).rx_info.gw_time


def test_live_protobuf_payload_is_the_stored_bytes() -> None:
    stored = codec.uplink_frame(make_uplink(), GW_ID).SerializeToString()
    assert codec.uplink_payload(stored, "protobuf", buffered=False) == stored


def test_json_uplink_is_camel_case_with_gateway_id() -> None:
    stored = codec.uplink_frame(make_uplink(), GW_ID).SerializeToString()
    doc = json.loads(codec.uplink_payload(stored, "json", buffered=False))
    assert doc["rxInfo"]["gatewayId"] == GW_ID
    assert doc["rxInfo"]["crcStatus"] == "CRC_OK"
    assert doc["txInfo"]["modulation"]["lora"]["spreadingFactor"] == 7


def test_json_offline_conn_state_prints_state() -> None:
    doc = json.loads(codec.encode(codec.conn_state(GW_ID, False), "json", all_fields=True))
    assert doc == {"gatewayId": GW_ID, "state": "OFFLINE", "gatewayIdLegacy": ""}


def test_decode_detects_json_like_chirpstack() -> None:
    raw = codec.encode(codec.conn_state(GW_ID, True), "json", all_fields=True)
    assert codec.decode(raw, gw.ConnState()).state == gw.ConnState.ONLINE
    raw = codec.encode(codec.conn_state(GW_ID, True), "protobuf")
    assert codec.decode(raw, gw.ConnState()).gateway_id == GW_ID


def test_gateway_stats_fields() -> None:
    stats = GatewayStats(rx_packets_received=5, rx_packets_received_ok=4)
    stats.rx_packets_per_frequency[868_100_000] = 5
    stats.metadata["queue_pending"] = "0"
    msg = codec.gateway_stats(stats, GW_ID, 1_700_000_000.0, (48.1, 11.5, 520.0))
    msg = gw.GatewayStats.FromString(msg.SerializeToString())
    assert (msg.gateway_id, msg.rx_packets_received, msg.rx_packets_received_ok) == (GW_ID, 5, 4)
    assert dict(msg.rx_packets_per_frequency) == {868_100_000: 5}
    assert msg.metadata["queue_pending"] == "0"
    assert msg.time.seconds == 1_700_000_000
    assert (msg.location.latitude, msg.location.altitude) == (48.1, 520.0)
