"""The daemon in-process, on a fake concentrator, against a real mosquitto."""

from __future__ import annotations

import json
import time

import paho.mqtt.client as mqtt
import pytest
from chirpstack_api import gw

from edge_agent.config import parse_config
from edge_agent.service import AgentService
from packet_forwarder.model import CrcStatus
from tests.agent.fakes import EUI, FakeConcentrator, make_uplink
from tests.agent.mqtt_helpers import GW_ID, Subscriber, config_text, persistent_broker
from tests.waiting import wait_until

pytestmark = pytest.mark.broker


def start_service(running: list[AgentService], text: str, conc: FakeConcentrator) -> AgentService:
    svc = AgentService(parse_config(text), concentrator_factory=lambda _cfg: conc)
    running.append(svc)
    svc.start()
    return svc


def uplink(msg) -> gw.UplinkFrame:  # type: ignore[no-untyped-def]
    return gw.UplinkFrame.FromString(msg.payload)


def fcnt(frame: gw.UplinkFrame) -> int:
    return frame.phy_payload[6] | frame.phy_payload[7] << 8


def test_uplinks_arrive_in_order_as_uplink_frames(broker, running) -> None:
    sub = Subscriber(broker.port, "+/gateway/+/event/up")
    conc = FakeConcentrator(hold=True)
    svc = start_service(running, config_text(broker.url), conc)
    wait_until(svc.backend.connected.is_set)
    conc.feed(map(make_uplink, range(5)))
    conc.hold.clear()
    msgs = sub.collect("/event/up", 5)
    assert msgs[0].topic == f"eu868/gateway/{GW_ID}/event/up"
    frames = [uplink(m) for m in msgs]
    assert [fcnt(f) for f in frames] == [0, 1, 2, 3, 4]
    assert frames[2].phy_payload == make_uplink(2).phy_payload
    assert frames[2].tx_info.frequency == 868_500_000
    assert frames[2].rx_info.gateway_id == GW_ID
    assert "buffered" not in frames[2].rx_info.metadata
    wait_until(lambda: svc.done)
    sub.close()


def test_done_once_every_uplink_is_confirmed(broker, running) -> None:
    svc = start_service(
        running, config_text(broker.url), FakeConcentrator(map(make_uplink, range(20)), per_poll=7)
    )
    wait_until(lambda: svc.done)
    assert svc.store.stats()["delivered"] == 20
    assert svc.summary() == (
        "edge-agent: done: 20 packets played, 20 uplinks forwarded, 0 filtered, 0 dropped"
    )


def test_crc_bad_and_no_crc_are_not_forwarded_by_default(broker, running) -> None:
    ups = [make_uplink(0, crc=CrcStatus.BAD), make_uplink(1, crc=CrcStatus.NONE), make_uplink(2)]
    sub = Subscriber(broker.port, "+/gateway/+/event/up")
    svc = start_service(running, config_text(broker.url), FakeConcentrator(ups))
    assert fcnt(uplink(sub.collect("/event/up", 1)[0])) == 2
    wait_until(lambda: svc.done)
    assert (svc.counters.received, svc.counters.filtered) == (3, 2)
    sub.close()


def test_state_conn_online_is_retained(broker, running) -> None:
    svc = start_service(running, config_text(broker.url), FakeConcentrator(hold=True))
    wait_until(svc.backend.connected.is_set)
    sub = Subscriber(broker.port, "+/gateway/+/state/conn")  # subscribes after: gets the retained
    msg = sub.expect(lambda m: True)
    state = gw.ConnState.FromString(msg.payload)
    assert (msg.retain, state.gateway_id, state.state) == (True, GW_ID, gw.ConnState.ONLINE)
    sub.close()


def test_clean_stop_publishes_offline_retained(broker, running) -> None:
    svc = start_service(running, config_text(broker.url), FakeConcentrator(hold=True))
    wait_until(svc.backend.connected.is_set)
    svc.stop()
    sub = Subscriber(broker.port, "+/gateway/+/state/conn")
    msg = sub.expect(lambda m: True)
    assert (msg.retain, gw.ConnState.FromString(msg.payload).state) == (True, gw.ConnState.OFFLINE)
    sub.close()


def test_gateway_id_defaults_to_chip_eui(broker, running) -> None:
    sub = Subscriber(broker.port, "+/gateway/+/event/up")
    start_service(
        running, config_text(broker.url, gateway_id=False), FakeConcentrator([make_uplink()])
    )
    msg = sub.collect("/event/up", 1)[0]
    assert msg.topic == f"eu868/gateway/{EUI:016x}/event/up"
    assert uplink(msg).rx_info.gateway_id == "0016c001ff10a235"
    sub.close()


def test_uplinks_queued_while_broker_down_arrive_after_reconnect(broker_factory, running) -> None:
    broker = persistent_broker(broker_factory)
    sub = Subscriber(broker.port, "+/gateway/+/event/up", persistent=True)
    conc = FakeConcentrator(hold=True)
    svc = start_service(running, config_text(broker.url), conc)
    wait_until(svc.backend.connected.is_set)
    broker.stop()
    wait_until(lambda: not svc.backend.connected.is_set())
    conc.feed(map(make_uplink, range(6)))
    conc.hold.clear()
    wait_until(lambda: svc.counters.forwarded == 6)
    assert svc.store.pending() == 6
    broker.start()
    frames = [uplink(m) for m in sub.collect("/event/up", 6, timeout=15)]
    assert [fcnt(f) for f in frames] == list(range(6))
    assert all(f.rx_info.metadata["buffered"] == "true" for f in frames)
    assert frames[0].rx_info.gw_time.seconds == 1_700_000_000
    wait_until(lambda: svc.done)
    sub.close()


def test_state_conn_online_again_after_broker_restart(broker, running) -> None:
    svc = start_service(running, config_text(broker.url), FakeConcentrator(hold=True))
    wait_until(svc.backend.connected.is_set)
    broker.restart()
    wait_until(lambda: svc.backend.counters.connects >= 2, timeout=15)
    sub = Subscriber(broker.port, "+/gateway/+/state/conn")
    state = gw.ConnState.FromString(sub.expect(lambda m: True).payload)
    assert state.state == gw.ConnState.ONLINE
    sub.close()


def test_json_marshaler_uses_camel_case(broker, running) -> None:
    sub = Subscriber(broker.port, "+/gateway/+/#")
    text = config_text(broker.url, extra_mqtt='marshaler = "json"')
    start_service(running, text, FakeConcentrator([make_uplink(1)]))
    state = json.loads(sub.expect(lambda m: m.topic.endswith("state/conn")).payload)
    assert (state["gatewayId"], state["state"]) == (GW_ID, "ONLINE")
    doc = json.loads(sub.collect("/event/up", 1)[0].payload)
    assert doc["rxInfo"]["gatewayId"] == GW_ID
    assert doc["txInfo"]["frequency"] == 868_300_000
    sub.close()


def test_stats_published_every_interval(broker, running) -> None:
    sub = Subscriber(broker.port, "+/gateway/+/event/stats")
    text = config_text(broker.url).replace("stats_interval_s = 600", "stats_interval_s = 0.3")
    start_service(running, text, FakeConcentrator(map(make_uplink, range(3))))
    stats = [gw.GatewayStats.FromString(m.payload) for m in sub.collect("/event/stats", 2)]
    assert stats[0].gateway_id == GW_ID
    assert sum(s.rx_packets_received for s in stats) <= 3
    assert stats[1].metadata["queue_dropped"] == "0"
    sub.close()


def test_radio_start_failure_is_retried_while_presence_is_up(broker, running) -> None:
    sub = Subscriber(broker.port, "+/gateway/+/#")
    conc = FakeConcentrator([make_uplink(7)], start_failures=1)
    svc = start_service(running, config_text(broker.url), conc)
    sub.expect(lambda m: m.topic.endswith("state/conn"))
    assert not svc.radio_ready.is_set()
    assert fcnt(uplink(sub.collect("/event/up", 1)[0])) == 7
    assert conc.started == 2
    sub.close()


def test_poll_error_is_counted_and_polling_goes_on(broker, running) -> None:
    conc = FakeConcentrator([make_uplink(1)], poll_errors=3)
    svc = start_service(running, config_text(broker.url), conc)
    wait_until(lambda: svc.done)
    assert (svc.counters.radio_errors, svc.counters.forwarded) == (3, 1)


def test_qos0_uplinks_are_delivered(broker, running) -> None:
    sub = Subscriber(broker.port, "+/gateway/+/event/up")
    text = config_text(broker.url, extra_mqtt="qos = 0")
    svc = start_service(running, text, FakeConcentrator(map(make_uplink, range(3))))
    assert len(sub.collect("/event/up", 3)) == 3
    wait_until(lambda: svc.done)
    sub.close()


def test_run_with_exit_when_done_prints_summary_and_returns_0(broker, capsys) -> None:
    ups = [make_uplink(0), make_uplink(1, crc=CrcStatus.BAD), make_uplink(2)]
    text = config_text(broker.url, extra="[concentrator.sim]\nexit_when_done = true")
    svc = AgentService(parse_config(text), concentrator_factory=lambda _c: FakeConcentrator(ups))
    assert svc.run() == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out == ["edge-agent: done: 3 packets played, 2 uplinks forwarded, 1 filtered, 0 dropped"]
    assert svc.store.stats()["delivered"] == 2


def test_commands_are_subscribed_again_after_reconnect(broker, running) -> None:
    svc = start_service(running, config_text(broker.url), FakeConcentrator(hold=True))
    wait_until(svc.backend.connected.is_set)
    broker.restart()
    wait_until(lambda: svc.backend.counters.connects >= 2, timeout=15)
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-pub")
    pub.connect("127.0.0.1", broker.port)
    pub.loop_start()
    deadline = time.monotonic() + 10
    # the agent's SUBSCRIBE may still be in flight right after CONNACK: publish until it is seen
    while svc.backend.counters.commands_received == 0:
        assert time.monotonic() < deadline, "command/down never reached the agent"
        pub.publish(f"eu868/gateway/{GW_ID}/command/down", b"\x00", qos=1).wait_for_publish(5)
        time.sleep(0.1)
    pub.disconnect()
    pub.loop_stop()
