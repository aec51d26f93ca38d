"""Region rules end to end (ChirpStack's frames over a real mosquitto, the simulated chip):
EU868 RX2 at band P power, a repeated downlink id, a request overlapping a packet on air."""

from __future__ import annotations

import pytest

from packet_forwarder.model import parse_context
from tests.downlink.harness import frame, lora_item, running_agent, statuses

pytestmark = [pytest.mark.broker]

WRAP = 1 << 32
RX2_HZ = 869_525_000


def test_eu868_rx2_at_chirpstack_s_29_dbm_goes_out_at_the_table_s_27(broker, tmp_path) -> None:
    with running_agent(tmp_path, broker) as agent:
        up = agent.next_uplink()
        ctx_us, _ = parse_context(up.rx_info.context)
        rx2 = lora_item(up.rx_info.context, 2.0, freq_hz=RX2_HZ, sf=12, power=29)
        agent.send_down(frame(21, rx2))
        assert statuses(agent.ack()) == ["OK"]
        sent = agent.play_until_sent((ctx_us + 2_000_000) % WRAP)
        assert [(t.freq_hz, t.power_dbm) for t in sent] == [(RX2_HZ, 27.0)]


def test_eu868_rx1_asking_29_dbm_is_held_to_16(broker, tmp_path) -> None:
    with running_agent(tmp_path, broker) as agent:
        up = agent.next_uplink()
        ctx_us, _ = parse_context(up.rx_info.context)
        agent.send_down(frame(22, lora_item(up.rx_info.context, 1.0, power=29)))
        assert statuses(agent.ack()) == ["OK"]
        sent = agent.play_until_sent((ctx_us + 1_000_000) % WRAP)
        assert [t.power_dbm for t in sent] == [16.0]


def test_a_downlink_id_delivered_twice_is_sent_once(broker, tmp_path) -> None:
    with running_agent(tmp_path, broker) as agent:
        up = agent.next_uplink()
        ctx_us, _ = parse_context(up.rx_info.context)
        down = frame(23, lora_item(up.rx_info.context, 1.0))
        agent.send_down(down)
        assert statuses(agent.ack()) == ["OK"]
        agent.send_down(down)  # a retained or redelivered copy
        assert statuses(agent.ack()) == ["COLLISION_PACKET"]
        sent = agent.play_until_sent((ctx_us + 1_000_000) % WRAP)
        agent.advance_us(2_000_000)
        assert len(sent) == 1


def test_request_overlapping_a_packet_on_air_is_collision_not_acked_then_lost(
    broker, tmp_path
) -> None:
    with running_agent(tmp_path, broker) as agent:
        up = agent.next_uplink()
        ctx_us, _ = parse_context(up.rx_info.context)
        # SF12, 64 bytes: 2.793 s on air from context + 1 s
        long_rx1 = lora_item(up.rx_info.context, 1.0, freq_hz=RX2_HZ, sf=12, payload=bytes(64))
        agent.send_down(frame(24, long_rx1))
        assert statuses(agent.ack()) == ["OK"]
        agent.play_until_sent((ctx_us + 1_000_000) % WRAP)  # handed to the chip, on air
        overlapping = lora_item(up.rx_info.context, 2.0, freq_hz=RX2_HZ, sf=9)
        agent.send_down(frame(25, overlapping))
        assert statuses(agent.ack()) == ["COLLISION_PACKET"]
