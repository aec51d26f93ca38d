"""Downlinks end to end: a fake network server on a real mosquitto, the daemon in-process, the
simulated SX1302 on a virtual clock (tests/downlink/harness.py).

Timing tolerance: **0 µs**. The driver writes the delayed trigger as ``count_us·32 − start
delay`` ticks and the start delay itself; the chip (and the simulator, drivers/sim/tx.py) starts
the packet when its 32 MHz counter reaches trigger + start delay = ``count_us·32`` ticks. The
only quantisation is 1/32 µs, and ``count_us`` is a whole number of µs, so the start on air the
simulator reports is exactly the ``count_us`` the scheduler asked for. Virtual time removes the
host's scheduling jitter from the assertion (on hardware the chip's own start jitter remains).
"""

from __future__ import annotations

import time

import pytest
from chirpstack_api import gw

from packet_forwarder.airtime import time_on_air_us
from packet_forwarder.model import parse_context
from tests.downlink.harness import frame, lora_item, running_agent, statuses

pytestmark = [pytest.mark.broker]

WRAP = 1 << 32


def test_class_a_delay_1s_leaves_at_context_plus_1s(broker, tmp_path) -> None:
    with running_agent(tmp_path, broker) as agent:
        up = agent.next_uplink()
        ctx_us, _session = parse_context(up.rx_info.context)
        agent.send_down(frame(7, lora_item(up.rx_info.context, 1.0)))
        ack = agent.ack()
        assert (ack.downlink_id, ack.gateway_id, statuses(ack)) == (
            7,
            up.rx_info.gateway_id,
            ["OK"],
        )
        sent = agent.play_until_sent((ctx_us + 1_000_000) % WRAP)
        assert [t.count_us for t in sent] == [(ctx_us + 1_000_000) % WRAP]
        assert agent.tx_log_lines() == [
            {"count_us": (ctx_us + 1_000_000) % WRAP, "freq_hz": 868_100_000, "power_dbm": 14.0,
             "sf": 7, "bw_hz": 125_000, "cr": "4/5", "iq_inverted": True,
             "phy": "6001020304000100"}
        ]  # fmt: skip


def test_json_marshaler_takes_json_downlinks_and_acks_in_json(broker, tmp_path) -> None:
    with running_agent(tmp_path, broker, marshaler="json") as agent:
        from google.protobuf import json_format

        agent.advance_us(200_000)
        raw = agent.events.expect(lambda m: m.topic.endswith("/event/up"))
        up = json_format.Parse(raw.payload.decode(), gw.UplinkFrame(), ignore_unknown_fields=True)
        agent.send_down(frame(8, lora_item(up.rx_info.context, 1.0)), json_body=True)
        ack_raw = agent.events.expect(lambda m: m.topic.endswith("/event/ack"))
        assert ack_raw.payload.startswith(b"{")
        assert statuses(json_format.Parse(ack_raw.payload.decode(), gw.DownlinkTxAck())) == ["OK"]


def test_delay_already_past_is_too_late(broker, tmp_path) -> None:
    with running_agent(tmp_path, broker) as agent:
        up = agent.next_uplink()
        agent.advance_us(1_500_000)  # the RX1 window of this uplink is over
        agent.send_down(frame(9, lora_item(up.rx_info.context, 1.0)))
        assert statuses(agent.ack()) == ["TOO_LATE"]
        agent.advance_us(1_000_000)
        assert agent.sim.transmissions == []


def test_two_overlapping_requests_second_is_collision(broker, tmp_path) -> None:
    with running_agent(tmp_path, broker) as agent:
        up = agent.next_uplink()
        agent.send_down(frame(10, lora_item(up.rx_info.context, 1.0)))
        assert statuses(agent.ack()) == ["OK"]
        agent.send_down(frame(11, lora_item(up.rx_info.context, 1.0, freq_hz=868_300_000)))
        assert statuses(agent.ack()) == ["COLLISION_PACKET"]


def test_refused_rx1_item_falls_back_to_rx2(broker, tmp_path) -> None:
    with running_agent(tmp_path, broker) as agent:
        up = agent.next_uplink()
        ctx_us, _ = parse_context(up.rx_info.context)
        rx1 = lora_item(up.rx_info.context, 1.0, freq_hz=875_000_000)  # outside 863-870 MHz
        rx2 = lora_item(up.rx_info.context, 2.0, freq_hz=869_525_000, sf=12)
        agent.send_down(frame(12, rx1, rx2))
        assert statuses(agent.ack()) == ["TX_FREQ", "OK"]
        sent = agent.play_until_sent((ctx_us + 2_000_000) % WRAP)
        assert [(t.count_us, t.freq_hz, t.sf) for t in sent] == [
            ((ctx_us + 2_000_000) % WRAP, 869_525_000, 12)
        ]


def test_first_ok_item_stops_and_the_rest_are_ignored(broker, tmp_path) -> None:
    with running_agent(tmp_path, broker) as agent:
        up = agent.next_uplink()
        rx1 = lora_item(up.rx_info.context, 1.0)
        rx2 = lora_item(up.rx_info.context, 2.0, freq_hz=869_525_000, sf=12)
        agent.send_down(frame(13, rx1, rx2))
        assert statuses(agent.ack()) == ["OK", "IGNORED"]


def test_context_from_before_a_concentrator_restart_is_refused(broker, tmp_path) -> None:
    with running_agent(tmp_path, broker) as agent:
        up = agent.next_uplink()
        _, old_session = parse_context(up.rx_info.context)
        agent.conc.stop()
        agent.conc.start()  # new session; the counter domain of the old context is gone
        assert agent.conc.session_id != old_session
        agent.send_down(frame(14, lora_item(up.rx_info.context, 1.0)))
        assert statuses(agent.ack()) == ["TOO_LATE"]
        agent.advance_us(2_000_000)
        assert agent.sim.transmissions == []


def test_malformed_and_empty_frames_do_not_stop_the_daemon(broker, tmp_path) -> None:
    with running_agent(tmp_path, broker) as agent:
        up = agent.next_uplink()
        topic = "eu868/gateway/0016c001ff10a235/command/down"
        agent.publisher.publish(topic, b"\xff\x00garbage", qos=1).wait_for_publish(5)
        agent.send_down(frame(16))  # no items: the id is known, so it is acked with an error
        no_items = agent.ack()  # the garbage (no id to ack) got nothing
        assert (no_items.downlink_id, statuses(no_items)) == (16, ["INTERNAL_ERROR"])
        agent.send_down(frame(17, lora_item(up.rx_info.context, 1.0)))
        ack = agent.ack()
        assert (ack.downlink_id, statuses(ack)) == (17, ["OK"])
        assert agent.svc.backend.counters.downlinks_garbage == 1  # counted by the backend


def test_wrong_gateway_is_acked_internal_error_per_item(broker, tmp_path) -> None:
    with running_agent(tmp_path, broker) as agent:
        up = agent.next_uplink()
        items = [lora_item(up.rx_info.context, 1.0), lora_item(up.rx_info.context, 2.0)]
        agent.send_down(frame(18, *items, gateway_id="0102030405060708"))
        assert statuses(agent.ack()) == ["INTERNAL_ERROR", "INTERNAL_ERROR"]


def _class_c(downlink_id: int, payload: bytes) -> gw.DownlinkFrame:
    item = lora_item(b"", 0.0, sf=12, payload=payload)
    item.tx_info.timing.immediately.SetInParent()
    return frame(downlink_id, item)


def test_class_c_burst_ends_in_duty_cycle_overflow(broker, tmp_path) -> None:
    payload = bytes(50)
    toa = time_on_air_us(modulation="LORA", payload_len=50, sf=12, bandwidth_hz=125_000,
                         code_rate="4/5", preamble=8, no_crc=True, datarate_bps=None)  # fmt: skip
    budget = 36_000_000  # band M (868.0-868.6 MHz): 1 % of one hour
    fits = budget // toa
    with running_agent(tmp_path, broker) as agent:
        for i in range(fits + 3):
            agent.send_down(_class_c(100 + i, payload))
        got = [statuses(agent.ack())[0] for _ in range(fits + 3)]
        assert got == ["OK"] * fits + ["DUTY_CYCLE_OVERFLOW"] * 3
        agent.svc.stats_once()
        stats = gw.GatewayStats.FromString(
            agent.events.expect(lambda m: m.topic.endswith("/event/stats")).payload
        )
        band_m = next(b for b in stats.duty_cycle_stats.bands if b.name == "M")
        assert band_m.load_max.ToMicroseconds() == budget
        # the published load counts airtime already on air (window ending now); the queued
        # burst is all on air 40 s from now (tracker on the host's monotonic clock)
        later = agent.svc.downlinks.duty_cycle_stats(time.monotonic() + 40)
        assert next(b for b in later.bands if b.name == "M").load_tracked_us == fits * toa
        assert stats.tx_packets_received == fits + 3
        assert dict(stats.tx_packets_per_status) == {"OK": fits, "DUTY_CYCLE_OVERFLOW": 3}


def test_schedule_across_the_32_mhz_tick_wrap(broker, tmp_path) -> None:
    # the chip's counter wraps at 2^32 ticks (134 s): start it 0.6 s before, so the uplink is
    # before the wrap and its RX1 (delayed trigger register) after it
    start = WRAP - 600_000 * 32
    with running_agent(tmp_path, broker, counter_start_ticks=start) as agent:
        up = agent.next_uplink()
        ctx_us, _ = parse_context(up.rx_info.context)
        assert ctx_us < 1 << 27 <= ctx_us + 1_000_000
        agent.send_down(frame(20, lora_item(up.rx_info.context, 1.0)))
        assert statuses(agent.ack()) == ["OK"]
        sent = agent.play_until_sent(ctx_us + 1_000_000)
        assert [t.count_us for t in sent] == [ctx_us + 1_000_000]


def test_schedule_across_the_2_32_us_wrap(broker, tmp_path) -> None:
    # 71.6 minutes of virtual time, read in 100 s steps, brings count_us just below 2^32
    with running_agent(tmp_path, broker) as agent:
        agent.advance_us(WRAP - 700_000 - agent.count_us())
        # the scenario uplink (at_ms 100) was played on the way
        agent.events.expect(lambda m: m.topic.endswith("/event/up"))
        # a fresh uplink context near the wrap: count_us as the daemon would stamp it
        from packet_forwarder.model import make_context

        ctx_us = agent.conc.counter_us()
        assert WRAP - 1_000_000 < ctx_us < WRAP - 500_000
        context = make_context(ctx_us, agent.conc.session_id)
        agent.send_down(frame(21, lora_item(context, 1.0)))
        assert statuses(agent.ack()) == ["OK"]
        target = (ctx_us + 1_000_000) % WRAP
        assert target < 500_000
        sent = agent.play_until_sent(target)
        assert [t.count_us for t in sent] == [target]
