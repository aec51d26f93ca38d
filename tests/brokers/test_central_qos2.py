"""``[mqtt] qos = 2`` on the brokers that do not implement QoS 2 (docs/operator-guide.md,
"Brokers at the centre"): NATS 2.9 closes the connection at the first QoS 2 publish, so nothing is
ever confirmed and the uplinks stay in the spool; RabbitMQ 3.x answers with a PUBACK (QoS 1)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from edge_agent.config import load_config
from edge_agent.service import AgentService
from tests.agent.mqtt_helpers import config_text
from tests.outage.helpers import Collector, packet
from tests.waiting import wait_until

pytestmark = [pytest.mark.broker, pytest.mark.timeout(60)]

COUNT = 5


def start_agent(running: list[AgentService], tmp_path: Path, server: str) -> AgentService:
    scenario = tmp_path / "scenario.jsonl"
    scenario.write_text("".join(json.dumps(packet(i, 100 + 50 * i)) + "\n" for i in range(COUNT)))
    path = tmp_path / "agent.toml"
    sim = f'[concentrator.sim]\nscenario = "{scenario}"'
    path.write_text(config_text(server, extra_mqtt="qos = 2", extra=sim))
    svc = AgentService(load_config(path))
    running.append(svc)
    svc.start()
    return svc


@pytest.mark.parametrize("central", ["nats"], indirect=True)
def test_nats_drops_a_qos2_gateway_and_the_spool_keeps_every_uplink(
    central, tmp_path: Path, running, collectors
) -> None:
    collector = Collector(central.port)
    collectors.append(collector)
    svc = start_agent(running, tmp_path, central.url)
    wait_until(lambda: svc.counters.forwarded == COUNT, 20, "the scenario received")
    wait_until(lambda: svc.backend.counters.disconnects >= 2, 20, "repeated disconnects")
    time.sleep(0.5)
    assert svc.store.pending() == COUNT  # nothing confirmed, nothing lost
    assert collector.seqs() == []
    assert "publish QoS=2 not supported" in central.log_path.read_text()


@pytest.mark.parametrize("central", ["rabbitmq"], indirect=True)
def test_rabbitmq_confirms_a_qos2_publish_as_qos1(
    central, tmp_path: Path, running, collectors
) -> None:
    collector = Collector(central.port)
    collectors.append(collector)
    svc = start_agent(running, tmp_path, central.url)
    wait_until(lambda: svc.done, 20, "every uplink confirmed")
    wait_until(lambda: len(collector.seqs()) >= COUNT, 10, "the uplinks at the collector")
    assert collector.seqs() == list(range(COUNT))
    assert svc.backend.counters.disconnects == 0
