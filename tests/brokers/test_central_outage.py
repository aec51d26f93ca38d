"""A central broker restarted during traffic (SIGTERM, down a second, started on the same port):
the daemon buffers in its spool, reconnects with a clean session, resubscribes ``command/+`` and
delivers every uplink once confirmed, in order; duplicates only from the unconfirmed window.
A retained message published before the restart is still there after it.

The collector keeps a persistent session (clean_session false) that each broker saves across the
restart (mosquitto: ``persistence true``; NATS: the ``$MQTT_sess`` stream; RabbitMQ: a durable
queue), so uplinks published before the collector is back are queued for it, not lost to the test.
"""

from __future__ import annotations

import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from chirpstack_api import gw

from edge_agent.config import load_config
from edge_agent.service import AgentService
from tests.agent.mqtt_helpers import GW_ID, Subscriber
from tests.brokers.helpers import (
    PREFIX,
    clear_retained,
    end_session,
    immediate_downlink,
    newcomer_sees,
    publish_retained,
)
from tests.downlink.harness import statuses
from tests.outage.helpers import Collector, agent_config, write_scenario
from tests.waiting import wait_until

pytestmark = [pytest.mark.broker, pytest.mark.timeout(150)]

COUNT = 30
SPACING_MS = 100
DOWN_S = 1.0
#: a retained message no gateway of this test touches (another gateway's state/conn)
KEPT_TOPIC = "eu868/gateway/0016c001ff1e0001/state/conn"


def count_redeliveries(collector: Collector) -> list[int]:
    """A list that grows by one for each uplink the broker delivers to ``collector`` again."""
    redelivered: list[int] = []
    record = collector.client.on_message

    def on_message(client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        if msg.dup and msg.topic.endswith("/event/up"):
            redelivered.append(msg.mid)
        record(client, userdata, msg)

    collector.client.on_message = on_message
    return redelivered


def test_restart_during_traffic_delivers_every_uplink_in_order_and_commands_again(
    central, tmp_path: Path, running, collectors
) -> None:
    collector = Collector(central.port, persistent=True)
    collectors.append(collector)
    redelivered = count_redeliveries(collector)
    times = [100 + SPACING_MS * i for i in range(COUNT)]
    scenario = write_scenario(tmp_path / "s.jsonl", times)
    cfg = agent_config(
        tmp_path / "agent.toml", central.url, spool=tmp_path / "spool.db", scenario=scenario
    )
    svc = AgentService(load_config(cfg))
    running.append(svc)
    svc.start()
    wait_until(lambda: len(collector.seqs()) >= 5, 30, "the first uplinks")
    publish_retained(central.port, KEPT_TOPIC, b"kept")  # must outlive the restart
    central.stop()  # SIGTERM: the broker saves retained messages and sessions
    time.sleep(DOWN_S)
    central.start()
    wait_until(lambda: svc.done, 60, "every uplink confirmed")
    assert svc.counters.forwarded == COUNT
    wait_until(lambda: set(collector.seqs()) >= set(range(COUNT)), 20, "all at the collector")
    time.sleep(0.3)  # a duplicate would show up now

    seqs = collector.seqs()
    assert list(dict.fromkeys(seqs)) == list(range(COUNT))  # none lost, first copies in order
    # a copy is either published again by the agent (unconfirmed when the connection dropped) or
    # delivered again by the broker to the collector (in flight to it at the stop, DUP flag set)
    assert len(seqs) - COUNT <= svc.backend.counters.uplinks_unconfirmed + len(redelivered)
    assert svc.backend.counters.disconnects == 1 and svc.backend.counters.connects == 2
    assert svc.backend.counters.uplinks_acked >= COUNT  # every one confirmed by a PUBACK
    arrivals = collector.arrivals()
    assert any(a.frame.rx_info.metadata.get("buffered") == "true" for a in arrivals)
    print(f"{central.kind}: {len(seqs) - COUNT} duplicates, {len(redelivered)} redelivered")
    spool = svc.uplinks.stats()
    assert (spool["delivered"], spool["pending"], spool["dropped"]) == (COUNT, 0, 0)

    # after the restart the gateway resubscribed command/+ (clean session: nothing was kept)
    acks = Subscriber(central.port, f"{PREFIX}/event/ack")
    publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-network-server")
    publisher.connect("127.0.0.1", central.port)
    publisher.loop_start()
    try:
        topic = f"{PREFIX}/command/down"
        publisher.publish(topic, immediate_downlink(31), qos=1).wait_for_publish(10)
        ack = gw.DownlinkTxAck.FromString(acks.expect(lambda m: True, timeout=15).payload)
        assert (ack.downlink_id, ack.gateway_id, statuses(ack)) == (31, GW_ID, ["OK"])
    finally:
        publisher.disconnect()
        publisher.loop_stop()
        acks.close()
    collector.close()
    end_session(central.port, f"outage-collector-{central.port}")
    kept = newcomer_sees(central.port, KEPT_TOPIC, wait_s=0.5)
    assert [(m.payload, m.retain) for m in kept] == [(b"kept", True)]
    clear_retained(central.port, KEPT_TOPIC)
