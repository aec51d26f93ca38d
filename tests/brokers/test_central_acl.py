"""The per-gateway permissions printed in docs/operator-guide.md ("Brokers at the centre"), run
as printed: NATS's ``authorization`` block and RabbitMQ's ``rabbitmqctl`` commands. A gateway with
them forwards uplinks, receives ``command/down`` on its own topic and acks it; another gateway's
topics are refused the way each broker refuses (NATS: PUBACK and drop, SUBACK 0x80; RabbitMQ: the
connection is closed)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from chirpstack_api import gw

import edge_agent.diag.core as core
from tests.agent.mqtt_helpers import GW_ID, Subscriber, config_text, run_agent
from tests.brokers.helpers import immediate_downlink, publish_outcome, subscribe_outcome
from tests.brokers.servers import NatsBroker, absent_reason
from tests.outage.helpers import packet, seq_of

pytestmark = [pytest.mark.broker, pytest.mark.timeout(120)]

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "operator-guide.md"
#: the gateway of the guide's examples
DOC_GW = "0016c001ff1e0000"
GATEWAY = (DOC_GW, "gateway-secret")
OTHER = "0016c001ff1e0001"


def guide_block(marker: str, fence: str) -> str:
    """The code block after ``<!-- test: marker`` in the operator guide."""
    after = GUIDE.read_text().split(f"<!-- test: {marker}", 1)[1]
    return after.split(f"```{fence}\n", 1)[1].split("```", 1)[0]


def gateway_config(tmp_path: Path, server: str) -> Path:
    """An agent config for the guide's gateway and credentials, playing a few uplinks."""
    scenario = tmp_path / "scenario.jsonl"
    scenario.write_text("".join(json.dumps(packet(i, 100 + 100 * i)) + "\n" for i in range(3)))
    text = config_text(
        server,
        extra_mqtt=f'username = "{GATEWAY[0]}"\npassword = "{GATEWAY[1]}"',
        extra=f'[concentrator.sim]\nscenario = "{scenario}"',
    ).replace(GW_ID, DOC_GW)
    path = tmp_path / "agent.toml"
    path.write_text(text)
    path.chmod(0o600)  # it holds a password: the agent refuses a world-readable one
    return path


def uplink_command_ack(
    port: int, tmp_path: Path, server: str, ns_user: tuple[str, str] | None
) -> None:
    """The agent as the guide's gateway: 3 uplinks reach the network server, a downlink reaches
    the gateway and its ack comes back; then ``edge-agent diag``'s round trip passes."""
    ns = Subscriber(port, "eu868/gateway/+/event/+", username=ns_user and ns_user[0],
                    password=ns_user and ns_user[1])  # fmt: skip
    publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-network-server")
    if ns_user:
        publisher.username_pw_set(*ns_user)
    publisher.connect("127.0.0.1", port)
    publisher.loop_start()
    config = gateway_config(tmp_path, server)
    proc = run_agent(config)
    try:
        ups = [gw.UplinkFrame.FromString(m.payload) for m in ns.collect("/event/up", 3, 30)]
        assert [(seq_of(f), f.rx_info.gateway_id) for f in ups] == [(i, DOC_GW) for i in range(3)]
        topic = f"eu868/gateway/{DOC_GW}/command/down"
        publisher.publish(topic, immediate_downlink(41, DOC_GW), qos=1).wait_for_publish(10)
        ack = gw.DownlinkTxAck.FromString(ns.collect("/event/ack", 1)[0].payload)
        assert (ack.downlink_id, ack.gateway_id) == (41, DOC_GW)
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=20)
        publisher.disconnect()
        publisher.loop_stop()
        ns.close()
    assert proc.returncode == 0, err[-3000:]
    # edge-agent diag's publish/subscribe round trip on diag/<nonce>, as the same gateway user
    ctx = core.DiagContext(config_path=str(config), timeout_s=5.0)
    results = {
        r.name: r for r in core.run_checks(ctx, ["broker-tcp", "broker-auth", "broker-pubsub"])
    }
    assert results["broker-pubsub"].status == "pass", results["broker-pubsub"].detail


def test_nats_permissions_of_the_guide_confine_a_gateway_to_its_topics(tmp_path: Path) -> None:
    reason = absent_reason("nats")
    if reason:
        pytest.skip(reason)
    broker = NatsBroker(tmp_path / "nats", extra_config=guide_block("nats-acl", "text")).start()
    try:
        uplink_command_ack(broker.port, tmp_path, broker.url, ("chirpstack", "server-secret"))
        # another gateway's topics: a publish is PUBACKed but dropped, a subscription refused
        other_up = f"eu868/gateway/{OTHER}/event/up"
        ns = Subscriber(broker.port, other_up, username="chirpstack", password="server-secret")
        try:
            assert publish_outcome(broker.port, GATEWAY, other_up) == "acked"
            with pytest.raises(AssertionError):
                ns.expect(lambda m: True, timeout=1.0)
        finally:
            ns.close()
        other_commands = f"eu868/gateway/{OTHER}/command/+"
        assert subscribe_outcome(broker.port, GATEWAY, other_commands) == "refused"
        assert "Publish Violation" in broker.log_path.read_text()
    finally:
        broker.stop()


def test_rabbitmq_permissions_of_the_guide_confine_a_gateway_to_its_topics(
    rabbit, tmp_path: Path
) -> None:
    env = rabbit._env()  # rabbitmqctl finds the private node by its name and cookie
    env["PATH"] = f"{os.path.dirname(rabbit.script)}:{env.get('PATH', '')}"  # not the su wrapper
    commands = guide_block("rabbitmq-acl", "sh")
    done = subprocess.run(["sh", "-ec", commands], env=env, capture_output=True, text=True,
                          timeout=90)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    uplink_command_ack(rabbit.port, tmp_path, rabbit.url, None)  # the server: anonymous (guest)
    assert publish_outcome(rabbit.port, GATEWAY, f"eu868/gateway/{OTHER}/event/up") == "closed"
    other_commands = f"eu868/gateway/{OTHER}/command/+"
    assert subscribe_outcome(rabbit.port, GATEWAY, other_commands) == "closed"
