"""Issue 13 point 4: a buffered uplink is ONE well-formed UplinkFrame, which the official
JavaScript package decodes like a live one (google-protobuf keeps only the last copy of a
repeated singular field; a concatenated second ``rx_info`` used to blank the first)."""

from __future__ import annotations

import base64

import pytest
from chirpstack_api import gw

from edge_agent.backends.chirpstack import codec
from tests.agent.fakes import FakeConcentrator, make_uplink
from tests.agent.mqtt_helpers import GW_ID, Subscriber, config_text, persistent_broker
from tests.chirpstack.helpers import start_service, wire_fields
from tests.waiting import wait_until

pytestmark = pytest.mark.broker

RX_INFO_FIELD = gw.UplinkFrame.DESCRIPTOR.fields_by_name["rx_info"].number


def fcnt(payload: bytes) -> int:
    phy = gw.UplinkFrame.FromString(payload).phy_payload
    return phy[6] | phy[7] << 8


def test_a_buffered_frame_has_one_rx_info_field() -> None:
    stored = codec.uplink_frame(make_uplink(3), GW_ID).SerializeToString()
    marked = codec.uplink_payload(stored, "protobuf", buffered=True)
    assert wire_fields(marked).count(RX_INFO_FIELD) == 1
    frame = gw.UplinkFrame.FromString(marked)
    assert frame.rx_info.metadata["buffered"] == "true"
    assert frame.rx_info.gateway_id == GW_ID


def test_live_and_buffered_uplinks_decode_in_javascript(
    broker_factory, running, js_decoder
) -> None:
    broker = persistent_broker(broker_factory)
    sub = Subscriber(broker.port, "+/gateway/+/event/up", persistent=True)
    conc = FakeConcentrator(hold=True)
    svc = start_service(running, config_text(broker.url), conc)
    wait_until(svc.backend.connected.is_set)
    conc.feed(map(make_uplink, range(2)))
    live = sub.collect("/event/up", 2)
    assert [fcnt(m.payload) for m in live] == [0, 1]
    broker.stop()
    wait_until(lambda: not svc.backend.connected.is_set())
    conc.feed(map(make_uplink, range(2, 4)))
    wait_until(lambda: svc.counters.forwarded == 4)
    broker.start()
    # at-least-once: a live uplink unconfirmed at the stop may come again (buffered) first
    buffered = [sub.expect(lambda m, n=n: fcnt(m.payload) == n, timeout=15) for n in (2, 3)]
    sub.close()
    decoded = js_decoder([("UplinkFrame", m.payload) for m in live + buffered])
    for msg, js in zip(live + buffered, decoded, strict=True):
        py = gw.UplinkFrame.FromString(msg.payload)
        n = fcnt(msg.payload)
        rx = js["rxInfo"]
        assert rx["gatewayId"] == GW_ID
        assert base64.b64decode(rx["context"]) == py.rx_info.context != b""
        assert rx["rssi"] == py.rx_info.rssi == -58
        assert rx["crcStatus"] == gw.CRC_OK
        assert rx["gwTime"]["seconds"] == 1_700_000_000 + n
        assert base64.b64decode(js["phyPayload"]) == make_uplink(n).phy_payload
        assert js["txInfo"]["frequency"] == make_uplink(n).freq_hz
        metadata = dict(rx["metadataMap"])
        assert metadata.get("buffered") == ("true" if n >= 2 else None)
