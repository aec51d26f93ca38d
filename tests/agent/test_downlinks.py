"""edge_agent.downlinks without MQTT: frame conversion, acks, dispatch to a recording radio."""

from __future__ import annotations

import threading

import pytest
from chirpstack_api import gw
from google.protobuf import json_format

from edge_agent.backends.chirpstack import codec
from edge_agent.backends.chirpstack.codec import FrameError, decode_frame, item_to_request
from edge_agent.config import parse_config
from edge_agent.downlinks import DownlinkPipeline, make_scheduler
from edge_agent.errors import ConfigError
from packet_forwarder.model import GatewayStats, Modulation, Timing, make_context
from tests.agent.fakes import AckRecordingBackend

GW_ID = "0016c001ff10a235"
SESSION = 0x1234_5678
EU868 = '[concentrator]\nregion = "EU868"\n'


class RecordingRadio:
    """A concentrator stand-in: a settable counter, a TX status, and the programs it got."""

    def __init__(self, now_us: int = 5_000_000, status: str = "FREE") -> None:
        from drivers.sx1302.plan import eu868_corecell_plan

        self.now_us = now_us
        self.status = status
        self.sent: list[object] = []
        self.lock = threading.RLock()
        self.plan = eu868_corecell_plan()
        self.started = True

    def counter_us(self) -> int:
        return self.now_us

    def tx_status(self, rf_chain: int) -> str:
        return self.status

    def send(self, program: object) -> None:
        self.sent.append(program)


def lora_item(delay_s: float = 1.0, context: bytes = make_context(4_000_000, SESSION)):
    item = gw.DownlinkFrameItem(phy_payload=b"\x60\x01\x02")
    info = item.tx_info
    info.frequency, info.power, info.context, info.board, info.antenna = (
        868_100_000,
        14,
        context,
        0,
        1,
    )
    lora = info.modulation.lora
    lora.bandwidth, lora.spreading_factor, lora.code_rate = 125_000, 9, gw.CodeRate.CR_4_6
    lora.polarization_inversion = True
    info.timing.delay.delay.FromMicroseconds(round(delay_s * 1e6))
    return item


def pipeline(text: str = EU868) -> tuple[DownlinkPipeline, list[bytes]]:
    cfg = parse_config(text)
    pipe = DownlinkPipeline(cfg, lambda: SESSION)
    pipe.backend = AckRecordingBackend(cfg)  # type: ignore[attr-defined]
    return pipe, pipe.backend.acks  # type: ignore[attr-defined]


def submit(pipe: DownlinkPipeline, payload: bytes) -> None:
    pipe.submit(pipe.backend, payload)  # type: ignore[attr-defined]


def handle(pipe: DownlinkPipeline, frame: gw.DownlinkFrame, radio: RecordingRadio) -> None:
    submit(pipe, frame.SerializeToString())
    assert pipe.handle_once(radio, timeout=1.0) == 1


def statuses(payload: bytes) -> list[str]:
    return [gw.TxAckStatus.Name(i.status) for i in gw.DownlinkTxAck.FromString(payload).items]


def test_lora_delay_item_becomes_a_request() -> None:
    req = item_to_request(42, lora_item(1.0))
    assert (req.downlink_id, req.freq_hz, req.power_dbm, req.modulation, req.timing) == (
        42, 868_100_000, 14.0, Modulation.LORA, Timing.DELAY)  # fmt: skip
    assert (req.sf, req.bandwidth_hz, req.code_rate, req.iq_inverted, req.delay_us) == (
        9, 125_000, "4/6", True, 1_000_000)  # fmt: skip
    assert (req.context, req.antenna) == (make_context(4_000_000, SESSION), 1)


def test_fsk_immediately_item_becomes_a_request() -> None:
    item = gw.DownlinkFrameItem(phy_payload=b"\x01")
    item.tx_info.frequency = 868_800_000
    item.tx_info.modulation.fsk.datarate = 50_000
    item.tx_info.modulation.fsk.frequency_deviation = 25_000
    item.tx_info.timing.immediately.SetInParent()
    req = item_to_request(1, item)
    assert (req.modulation, req.timing, req.datarate_bps, req.freq_deviation_hz) == (
        Modulation.FSK, Timing.IMMEDIATELY, 50_000, 25_000)  # fmt: skip


def test_gps_epoch_item_carries_microseconds() -> None:
    item = lora_item()
    item.tx_info.timing.gps_epoch.time_since_gps_epoch.FromMicroseconds(1_300_000_000_123_456)
    req = item_to_request(1, item)
    assert (req.timing, req.gps_epoch_us) == (Timing.GPS_EPOCH, 1_300_000_000_123_456)


def test_lr_fhss_item_is_refused() -> None:
    item = lora_item()
    item.tx_info.modulation.lr_fhss.SetInParent()
    with pytest.raises(FrameError, match="lr_fhss"):
        item_to_request(1, item)


def test_json_frame_is_decoded_ignoring_unknown_fields() -> None:
    frame = gw.DownlinkFrame(downlink_id=9, gateway_id=GW_ID)
    frame.items.append(lora_item())
    text = json_format.MessageToJson(frame)[:-1] + ', "futureField": 1}'
    assert decode_frame(text.encode(), "json") == frame


def test_duty_cycle_is_enforced_by_default_in_eu868_and_can_be_switched_off() -> None:
    assert make_scheduler(parse_config(EU868), lambda: 1).duty_cycle.enforce is True
    off = EU868 + "[regulation]\nenforce_duty_cycle = false\n"
    assert make_scheduler(parse_config(off), lambda: 1).duty_cycle.enforce is False
    us = '[concentrator]\nregion = "US915"\n'
    assert make_scheduler(parse_config(us), lambda: 1).duty_cycle is None


def test_non_boolean_enforce_duty_cycle_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"regulation\.enforce_duty_cycle"):
        parse_config(EU868 + '[regulation]\nenforce_duty_cycle = "yes"\n')


def test_unsupported_item_is_an_error_and_the_next_item_is_tried() -> None:
    pipe, acks = pipeline()
    bad = lora_item()
    bad.tx_info.modulation.lr_fhss.SetInParent()
    frame = gw.DownlinkFrame(downlink_id=3, gateway_id=GW_ID)
    frame.items.extend([bad, lora_item(), lora_item(2.0)])
    handle(pipe, frame, RecordingRadio(now_us=4_100_000))
    assert statuses(acks[0]) == ["INTERNAL_ERROR", "OK", "IGNORED"]
    assert gw.DownlinkTxAck.FromString(acks[0]).downlink_id == 3


def test_due_packet_is_programmed_through_the_radio() -> None:
    pipe, _acks = pipeline()
    radio = RecordingRadio(now_us=4_100_000)
    handle(pipe, gw.DownlinkFrame(downlink_id=4, gateway_id=GW_ID, items=[lora_item()]), radio)
    assert pipe.dispatch_once(radio) is None  # 900 ms ahead: not yet
    radio.now_us = 5_000_000 - 30_000
    tx = pipe.dispatch_once(radio)
    assert tx is not None and tx.count_us == 5_000_000
    assert radio.sent[0].trigger_ticks == (5_000_000 * 32 - radio.sent[0].start_delay)
    sample = pipe.latencies[-1]
    assert sample.downlink_id == 4 and sample.programmed is not None


def test_busy_radio_loses_the_packet_and_counts_it_missed() -> None:
    pipe, _acks = pipeline()
    radio = RecordingRadio(now_us=4_100_000, status="EMITTING")
    handle(pipe, gw.DownlinkFrame(downlink_id=5, gateway_id=GW_ID, items=[lora_item()]), radio)
    radio.now_us = 5_000_000 - 30_000
    assert pipe.dispatch_once(radio) is None
    stats = pipe.scheduler.take_stats()
    assert (radio.sent, stats.tx_packets_emitted, stats.tx_packets_missed) == ([], 0, 1)


def test_stats_carry_tx_counts_per_modulation_into_gateway_stats() -> None:
    pipe, _acks = pipeline()
    radio = RecordingRadio(now_us=4_100_000)
    handle(pipe, gw.DownlinkFrame(downlink_id=6, gateway_id=GW_ID, items=[lora_item()]), radio)
    radio.now_us = 5_000_000 - 30_000
    pipe.dispatch_once(radio)
    stats = GatewayStats()
    pipe.add_stats(stats)
    msg = codec.gateway_stats(stats, GW_ID, 0.0, None)
    codec.fill_duty_cycle(msg, pipe.duty_cycle_stats())
    assert (msg.tx_packets_received, msg.tx_packets_emitted) == (1, 1)
    assert dict(msg.tx_packets_per_frequency) == {868_100_000: 1}
    assert dict(msg.tx_packets_per_status) == {"OK": 1}
    [per_mod] = msg.tx_packets_per_modulation
    lora = per_mod.modulation.lora
    assert (per_mod.count, lora.spreading_factor, lora.bandwidth, lora.code_rate) == (
        1, 9, 125_000, gw.CodeRate.CR_4_6)  # fmt: skip
    assert {b.name for b in msg.duty_cycle_stats.bands} >= {"K", "L", "M", "P"}


def test_frames_while_the_radio_is_down_are_acked_internal_error() -> None:
    pipe, acks = pipeline()
    submit(pipe, gw.DownlinkFrame(downlink_id=7, gateway_id=GW_ID, items=[lora_item()])
           .SerializeToString())  # fmt: skip
    pipe.handle_once(None, timeout=1.0)
    assert statuses(acks[0]) == ["INTERNAL_ERROR"]


def test_wake_up_falls_back_to_the_poll_period_when_the_counter_cannot_be_read() -> None:
    pipe, _acks = pipeline()
    radio = RecordingRadio(now_us=4_100_000)
    handle(pipe, gw.DownlinkFrame(downlink_id=8, gateway_id=GW_ID, items=[lora_item()]), radio)
    assert pipe.idle_timeout_s(radio) == 0.1  # 900 ms to the window: capped at 100 ms
    radio.now_us = 5_000_000 - 40_000 - 50_000
    assert pipe.idle_timeout_s(radio) == pytest.approx(0.0503)
    radio.counter_us = lambda: (_ for _ in ()).throw(OSError("SPI gone"))  # type: ignore[method-assign]
    assert pipe.idle_timeout_s(radio) == 0.1


def test_two_networks_share_one_jit_queue_the_later_collision_is_refused_to_its_own_backend() -> (
    None
):
    pipe, _ = pipeline()
    metro = AckRecordingBackend(pipe.cfg, "metro")
    town = AckRecordingBackend(pipe.cfg, "town")
    radio = RecordingRadio(now_us=4_100_000)
    pipe.submit(metro, gw.DownlinkFrame(downlink_id=1, gateway_id=GW_ID, items=[lora_item()])
                .SerializeToString())  # fmt: skip
    pipe.submit(town, gw.DownlinkFrame(downlink_id=2, gateway_id=GW_ID, items=[lora_item()])
                .SerializeToString())  # fmt: skip
    assert pipe.handle_once(radio, timeout=1.0) == 2
    assert [statuses(a) for a in metro.acks] == [["OK"]]
    assert [statuses(a) for a in town.acks] == [["COLLISION_PACKET"]]
    assert gw.DownlinkTxAck.FromString(town.acks[0]).downlink_id == 2
    assert pipe.backend.acks == []  # type: ignore[attr-defined]  # nobody else heard of them
