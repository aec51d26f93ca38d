"""Issue 13 point 6: garbage on ``command/down`` gets no ack (counted, logged rate-limited), and
retained ``command/*`` messages are ignored instead of being transmitted at every reconnect."""

from __future__ import annotations

import logging

import paho.mqtt.client as mqtt
import pytest
from chirpstack_api import gw

from edge_agent.backends.chirpstack import codec
from tests.agent.fakes import FakeConcentrator
from tests.agent.mqtt_helpers import GW_ID, Subscriber, config_text, persistent_broker
from tests.chirpstack.helpers import start_service
from tests.waiting import wait_until

pytestmark = pytest.mark.broker

DOWN = f"eu868/gateway/{GW_ID}/command/down"


def publish(port: int, topic: str, payload: bytes, *, retain: bool = False) -> None:
    """Publish one QoS 1 message and wait until the broker has it."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-pub-{port}")
    client.connect("127.0.0.1", port)
    client.loop_start()
    client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)
    client.disconnect()
    client.loop_stop()


def sentinel(downlink_id: int) -> bytes:
    """A well-formed downlink for another gateway: refused, so acked INTERNAL_ERROR."""
    frame = gw.DownlinkFrame(downlink_id=downlink_id, gateway_id="ffffffffffffffff")
    frame.items.add(phy_payload=b"\x60\x01")
    return frame.SerializeToString()


def acks(sub: Subscriber, until_id: int) -> list[gw.DownlinkTxAck]:
    """Every ack up to and including the one for ``until_id``."""
    out: list[gw.DownlinkTxAck] = []
    while not out or out[-1].downlink_id != until_id:
        msg = sub.expect(lambda m: m.topic.endswith("/event/ack"))
        out.append(gw.DownlinkTxAck.FromString(msg.payload))
    return out


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        (b"", "an empty DownlinkFrame"),
        (b"\xf8\x06\x01\x82\x07\x02hi", "a DownlinkFrame of unknown fields only"),
        (b"\x0a\x02\x01", "not a DownlinkFrame"),
        (gw.DownlinkFrame(gateway_id=GW_ID, items=[{}]).SerializeToString(), "without downlink id"),
        (b'{"gatewayId": "0016c001ff10a235", "items": [{}]}', "without downlink id"),
    ],
)
def test_downlink_classification(payload: bytes, why: str) -> None:
    assert why in (codec.downlink_garbage(payload, "protobuf") or "")


def test_garbage_downlinks_are_counted_logged_once_and_not_acked(broker, running, caplog) -> None:
    caplog.set_level(logging.WARNING)
    sub = Subscriber(broker.port, "+/gateway/+/event/ack")
    svc = start_service(running, config_text(broker.url), FakeConcentrator(hold=True))
    wait_until(svc.backend.connected.is_set)
    no_id = gw.DownlinkFrame(gateway_id=GW_ID)
    no_id.items.add(phy_payload=b"\x60\x01")
    for payload in (b"", b"\xf8\x06\x01", no_id.SerializeToString(), b"\x0a\x02\x01"):
        publish(broker.port, DOWN, payload)
    publish(broker.port, DOWN, sentinel(77))
    got = acks(sub, 77)
    assert [a.downlink_id for a in got] == [77]
    assert got[0].items[0].status == gw.INTERNAL_ERROR
    assert svc.backend.counters.downlinks_garbage == 4
    assert svc.backend.status()["downlinks_garbage"] == 4
    lines = [r.getMessage() for r in caplog.records if "not acked" in r.getMessage()]
    assert len(lines) == 1, lines  # rate-limited: one line per 10 s, every payload counted
    assert "an empty DownlinkFrame" in lines[0]
    sub.close()


def test_retained_command_down_is_never_transmitted(broker_factory, running, caplog) -> None:
    """issue 14: a retained command/down was transmitted again at every reconnect."""
    caplog.set_level(logging.WARNING)
    broker = persistent_broker(broker_factory)  # keeps the retained message across restarts
    frame = gw.DownlinkFrame(downlink_id=5, gateway_id=GW_ID)
    frame.items.add(phy_payload=b"\x60\x01").tx_info.timing.immediately.SetInParent()
    publish(broker.port, DOWN, frame.SerializeToString(), retain=True)
    sub = Subscriber(broker.port, "+/gateway/+/event/ack")
    svc = start_service(running, config_text(broker.url), FakeConcentrator(hold=True))
    backend = svc.backend
    wait_until(lambda: backend.counters.commands_retained == 1, what="the first retained copy")
    for restart in range(1, 4):
        broker.restart()
        sub.reconnected()
        wait_until(lambda r=restart: backend.counters.connects == r + 1, what="a reconnect")
        wait_until(lambda r=restart: backend.counters.commands_retained == r + 1)
    publish(broker.port, DOWN, sentinel(78))
    assert [a.downlink_id for a in acks(sub, 78)] == [78]  # nothing for the retained 5
    assert backend.link.downlinks_received == 1  # the sentinel only
    lines = [r.getMessage() for r in caplog.records if "retained message" in r.getMessage()]
    assert len(lines) == 1 and DOWN in lines[0]
    sub.close()
