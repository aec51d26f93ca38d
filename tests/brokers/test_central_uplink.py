"""``edge-agent run`` on the simulated radio against each central broker (mosquitto, NATS's MQTT
listener, RabbitMQ's MQTT plugin): uplinks confirmed with PUBACK and decoded with chirpstack-api,
``state/conn`` retained, the Last Will published when the agent dies.

RabbitMQ (3.x) hands a retained message only to a subscription without wildcards: a newcomer on
``eu868/gateway/+/state/conn`` gets nothing there, one on the gateway's own topic gets it
(docs/operator-guide.md, "Brokers at the centre").
"""

from __future__ import annotations

from pathlib import Path

import pytest
from chirpstack_api import gw

from tests.agent.mqtt_helpers import (
    GW_ID,
    Subscriber,
    run_agent,
    run_to_completion,
    scenario_config,
)
from tests.brokers.helpers import STATE_TOPIC, conn_state, gather, newcomer_sees
from tests.outage.helpers import FREQUENCIES, packet, seq_of
from tests.waiting import wait_until

pytestmark = [pytest.mark.broker, pytest.mark.timeout(120)]

COUNT = 12
#: does a wildcard subscription get the retained messages it matches?
RETAINED_ON_WILDCARD = {"mosquitto": True, "nats": True, "rabbitmq": False}


def test_run_forwards_every_uplink_confirmed_and_leaves_offline_retained(
    central, tmp_path: Path
) -> None:
    sub = Subscriber(central.port, "eu868/gateway/#")
    try:
        lines = [packet(seq, 100 + 50 * seq) for seq in range(COUNT)]
        proc = run_to_completion(scenario_config(tmp_path, central.url, lines))
        assert proc.returncode == 0, proc.stderr[-3000:]
        # exit 0 only once the spool is empty: every uplink got its PUBACK from this broker
        assert proc.stdout.strip().splitlines() == [
            f"edge-agent: done: {COUNT} packets played, {COUNT} uplinks forwarded, "
            "0 filtered, 0 dropped"
        ]
        offline = lambda got: any(  # noqa: E731
            m.topic == STATE_TOPIC and conn_state(m.payload) == "OFFLINE" for m in got
        )
        got = gather(sub, offline)
        ups = [m for m in got if m.topic.endswith("/event/up")]
        frames = [gw.UplinkFrame.FromString(m.payload) for m in ups]
        assert [seq_of(f) for f in frames] == list(range(COUNT))  # once each, in order
        for seq, frame in enumerate(frames):
            assert frame.rx_info.gateway_id == GW_ID
            assert frame.tx_info.frequency == FREQUENCIES[seq % len(FREQUENCIES)]
            assert frame.tx_info.modulation.lora.spreading_factor == 7
            assert frame.rx_info.crc_status == gw.CRC_OK
            assert len(frame.rx_info.context) == 8
            assert "buffered" not in frame.rx_info.metadata
        states = [conn_state(m.payload) for m in got if m.topic == STATE_TOPIC]
        assert states == ["ONLINE", "OFFLINE"]  # OFFLINE published by the clean exit
        assert got.index(ups[0]) > [m.topic for m in got].index(STATE_TOPIC)  # ONLINE first
    finally:
        sub.close()

    exact = newcomer_sees(central.port, STATE_TOPIC)
    assert [(conn_state(m.payload), m.retain) for m in exact] == [("OFFLINE", True)]
    wildcard = newcomer_sees(central.port, "eu868/gateway/+/state/conn")
    expected = [("OFFLINE", True)] if RETAINED_ON_WILDCARD[central.kind] else []
    assert [(conn_state(m.payload), m.retain) for m in wildcard] == expected


def test_the_last_will_marks_a_killed_agent_offline(central, tmp_path: Path) -> None:
    config = scenario_config(tmp_path, central.url, [packet(0, 100)])
    config.write_text(config.read_text().replace("exit_when_done = true", ""))
    sub = Subscriber(central.port, "eu868/gateway/#")
    proc = run_agent(config)
    try:
        up = sub.expect(lambda m: m.topic.endswith("/event/up"), timeout=30)
        assert seq_of(gw.UplinkFrame.FromString(up.payload)) == 0
        online = newcomer_sees(central.port, STATE_TOPIC, wait_s=0.5)
        assert [(conn_state(m.payload), m.retain) for m in online] == [("ONLINE", True)]
        proc.kill()  # no DISCONNECT: the broker publishes the Will when the socket closes
        proc.wait(10)
        will = sub.expect(lambda m: m.topic == STATE_TOPIC and conn_state(m.payload) == "OFFLINE")
        assert will.topic == STATE_TOPIC
    finally:
        proc.kill()
        proc.communicate(timeout=10)
        sub.close()
    wait_until(
        lambda: (
            [conn_state(m.payload) for m in newcomer_sees(central.port, STATE_TOPIC, 0.3)]
            == ["OFFLINE"]
        ),
        10,
        "the Will retained",
    )
