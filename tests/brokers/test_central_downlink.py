"""Downlinks through each central broker: the daemon in-process on the virtual-clock simulator
(tests/downlink/harness.py), a fake network server publishing ``command/down`` with QoS 1; the
gateway's ``command/+`` subscription (a wildcard: ``eu868.gateway.<id>.command.*`` on NATS and
RabbitMQ) must deliver it, and the ``event/ack`` must come back through the same broker."""

from __future__ import annotations

from pathlib import Path

import pytest

from packet_forwarder.model import parse_context
from tests.downlink.harness import frame, lora_item, running_agent, statuses

pytestmark = [pytest.mark.broker, pytest.mark.timeout(120)]

WRAP = 1 << 32


def test_class_a_downlink_leaves_at_context_plus_1s_and_is_acked(central, tmp_path: Path) -> None:
    with running_agent(tmp_path, central) as agent:
        up = agent.next_uplink()
        ctx_us, _session = parse_context(up.rx_info.context)
        agent.send_down(frame(21, lora_item(up.rx_info.context, 1.0)))
        ack = agent.ack()
        assert (ack.downlink_id, ack.gateway_id, statuses(ack)) == (
            21,
            up.rx_info.gateway_id,
            ["OK"],
        )
        sent = agent.play_until_sent((ctx_us + 1_000_000) % WRAP)
        assert [t.count_us for t in sent] == [(ctx_us + 1_000_000) % WRAP]
        assert [line["phy"] for line in agent.tx_log_lines()] == ["6001020304000100"]
