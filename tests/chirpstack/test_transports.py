"""Issue 13 point 8: ``ws://`` and ``wss://`` servers (paho's websockets transport) against a
mosquitto websockets listener, and ``clean_session``."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from chirpstack_api import gw

from edge_agent.config import parse_config
from edge_agent.errors import ConfigError
from tests.agent.fakes import FakeConcentrator, make_uplink
from tests.agent.mqtt_helpers import GW_ID, Subscriber, config_text
from tests.agent.test_mqtt_security import pki  # noqa: F401  (a fixture for the wss test)
from tests.broker import free_port
from tests.chirpstack.helpers import start_service
from tests.waiting import wait_until

pytestmark = pytest.mark.broker

AS_ROOT = "user root\n" if os.geteuid() == 0 else ""


def websockets_broker(broker_factory, tls: str = ""):  # type: ignore[no-untyped-def]
    """A mosquitto with its MQTT listener and a websockets listener on ``lo`` (mosquitto 2.0's
    libwebsockets binds interfaces, not addresses); returns (broker, websockets port)."""
    ws_port = free_port()
    listener = f"listener {ws_port} lo\nprotocol websockets\nallow_anonymous true\n{tls}"
    broker = broker_factory(extra_config=AS_ROOT + listener).start()  # waits for the MQTT port
    wait_until(lambda: _accepts(ws_port), timeout=10, what="the websockets listener")
    return broker, ws_port


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def test_uplinks_and_acks_over_ws(broker_factory, running) -> None:
    broker, ws_port = websockets_broker(broker_factory)
    sub = Subscriber(broker.port, "+/gateway/+/#")  # plain MQTT on the same broker
    conc = FakeConcentrator([make_uplink(3)])
    text = config_text(f"ws://127.0.0.1:{ws_port}/mqtt")
    svc = start_service(running, text, conc)
    assert svc.backend.mqtt.websocket_path == "/mqtt"
    frame = gw.UplinkFrame.FromString(sub.collect("/event/up", 1).pop().payload)
    assert frame.phy_payload == make_uplink(3).phy_payload
    wait_until(lambda: svc.done)
    log = broker.log_path.read_text()
    assert f"as {GW_ID} (p2, c1" in log  # MQTT 3.1.1, clean session, over the websocket
    sub.close()


def test_uplinks_over_wss(broker_factory, running, pki: Path) -> None:  # noqa: F811
    tls = f"cafile {pki}/ca.crt\ncertfile {pki}/server.crt\nkeyfile {pki}/server.key\n"
    broker, ws_port = websockets_broker(broker_factory, tls)
    sub = Subscriber(broker.port, "+/gateway/+/event/up")
    text = config_text(f"wss://127.0.0.1:{ws_port}", extra_mqtt=f'ca_cert = "{pki}/ca.crt"')
    svc = start_service(running, text, FakeConcentrator([make_uplink(4)]))
    assert (svc.backend.mqtt.tls, svc.backend.mqtt.websocket_path) == (True, "/mqtt")
    frame = gw.UplinkFrame.FromString(sub.collect("/event/up", 1).pop().payload)
    assert frame.phy_payload == make_uplink(4).phy_payload
    sub.close()


def test_clean_session_false_keeps_the_session(broker_factory, running) -> None:
    broker = broker_factory(extra_config=AS_ROOT).start()  # as root: a log file it can write
    text = config_text(broker.url, extra_mqtt="clean_session = false")
    svc = start_service(running, text, FakeConcentrator(hold=True))
    assert svc.backend.mqtt.clean_session is False
    wait_until(svc.backend.connected.is_set)
    wait_until(lambda: f"as {GW_ID} (p2, c0" in broker.log_path.read_text())


def test_websocket_urls_and_their_defaults() -> None:
    def mqtt_of(server: str):  # type: ignore[no-untyped-def]
        return parse_config(config_text(server)).backends[0].mqtt

    ws = mqtt_of("ws://broker.example")
    assert (ws.port, ws.tls, ws.websocket_path) == (80, False, "/mqtt")
    wss = mqtt_of("wss://broker.example/ws?token=a")
    assert (wss.port, wss.tls, wss.websocket_path) == (443, True, "/ws?token=a")
    assert mqtt_of("tcp://broker.example").websocket_path is None
    assert mqtt_of("tcp://broker.example").clean_session is True
    with pytest.raises(ConfigError, match="ws"):
        mqtt_of("tcp://broker.example/path")


def test_diag_broker_checks_speak_websockets(broker_factory, monkeypatch) -> None:
    import edge_agent.diag.core as core

    _broker, ws_port = websockets_broker(broker_factory)
    cfg = parse_config(config_text(f"ws://127.0.0.1:{ws_port}/mqtt"))
    monkeypatch.setattr(core, "_load_config", lambda _path: cfg)
    ctx = core.DiagContext(config_path="test.toml", timeout_s=5.0)
    checks = ["broker-dns", "broker-tcp", "broker-auth", "broker-pubsub"]
    results = {r.name: r for r in core.run_checks(ctx, checks)}
    assert {r.status for r in results.values()} == {"pass"}, results
    assert f"127.0.0.1:{ws_port}" in results["broker-tcp"].detail


def test_backend_tables_take_the_same_keys() -> None:
    text = (
        '[concentrator]\nurl = "sim://"\n[gateway]\nchannel_plan_from = "ns1"\n'
        '[[backend]]\nname = "ns1"\ntype = "chirpstack"\nserver = "wss://ns.example/mqtt"\n'
        "clean_session = false\n"
    )
    cfg = parse_config(text)
    mqtt = cfg.backends[0].mqtt
    assert (mqtt.clean_session, mqtt.port, mqtt.tls) == (False, 443, True)
    assert mqtt.websocket_path == "/mqtt"
    with pytest.raises(ConfigError, match=r"gateway\.channel_plan_from: names no chirpstack"):
        parse_config(text.replace('from = "ns1"', 'from = "ns2"'))
