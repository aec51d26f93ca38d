"""Downlink policy: frequency, context/session, power table, duty cycle, stats, frames."""

from __future__ import annotations

import pytest

from drivers.sx1302.plan import eu868_corecell_plan
from drivers.sx1302.tx import program, program_tx
from packet_forwarder.downlink import DownlinkScheduler, TxChain, dispatch_once, pick_gain
from packet_forwarder.dutycycle import DutyCycleTracker
from packet_forwarder.model import (
    DownlinkRequest,
    GatewayStats,
    Modulation,
    Timing,
    TxStatus,
    make_context,
)
from packet_forwarder.regions import region_preset

SESSION = 0x1234_5678
NOW = 50_000_000
RADIO_A = eu868_corecell_plan().radios[0]
EU868_RULES = region_preset("EU868").rules
CHAIN_A = TxChain(0, RADIO_A.tx_freq_min_hz, RADIO_A.tx_freq_max_hz, RADIO_A.tx_gain_lut)


def scheduler(**kwargs: object) -> DownlinkScheduler:
    return DownlinkScheduler([CHAIN_A], lambda: SESSION, clock_s=lambda: 1000.0, **kwargs)


def request(**overrides: object) -> DownlinkRequest:
    fields = dict(
        downlink_id=7, phy_payload=bytes(13), freq_hz=868_100_000, power_dbm=14,
        modulation=Modulation.LORA, timing=Timing.DELAY, sf=7, bandwidth_hz=125_000,
        context=make_context(NOW - 500_000, SESSION), delay_us=1_000_000,
    )  # fmt: skip
    fields.update(overrides)
    return DownlinkRequest(**fields)  # type: ignore[arg-type]


def test_rx1_downlink_is_queued_at_context_plus_delay() -> None:
    sched = scheduler()
    assert sched.schedule(request(), NOW) is TxStatus.OK
    tx = sched.next_due(NOW + 500_000 - 30_000)
    assert tx is not None
    assert tx.count_us == NOW + 500_000
    assert tx.rf_chain == 0


def test_context_delay_wraps_the_counter() -> None:
    sched = scheduler()
    ctx = make_context(0xFFFF_FFFF - 100_000, SESSION)
    now = 0xFFFF_FFFF - 50_000
    assert sched.schedule(request(context=ctx), now) is TxStatus.OK
    tx = sched.next_due((0xFFFF_FFFF + 1_000_000 - 100_000 - 20_000) & 0xFFFF_FFFF)
    assert tx is not None and tx.count_us == 899_999


def test_frequency_outside_the_radio_range_is_tx_freq() -> None:
    assert scheduler().schedule(request(freq_hz=871_000_000), NOW) is TxStatus.TX_FREQ


def test_frequency_outside_the_region_range_is_tx_freq() -> None:
    sched = scheduler(region_freq_range_hz=(863_000_000, 868_000_000))
    assert sched.schedule(request(freq_hz=869_525_000), NOW) is TxStatus.TX_FREQ


def test_context_from_another_session_is_too_late() -> None:
    stale = make_context(NOW - 500_000, SESSION + 1)
    assert scheduler().schedule(request(context=stale), NOW) is TxStatus.TOO_LATE


def test_malformed_context_is_internal_error() -> None:
    assert scheduler().schedule(request(context=b"\x01\x02"), NOW) is TxStatus.INTERNAL_ERROR


def test_legacy_four_byte_context_is_accepted() -> None:
    ctx = (NOW - 500_000).to_bytes(4, "big")
    assert scheduler().schedule(request(context=ctx), NOW) is TxStatus.OK


def test_power_uses_the_nearest_lower_lut_entry_after_antenna_gain() -> None:
    sched = scheduler(antenna_gain_dbi=3.0)
    assert sched.schedule(request(power_dbm=20.5), NOW) is TxStatus.OK
    tx = sched.next_due(NOW + 470_000)
    assert tx is not None
    assert (tx.gain.rf_power_dbm, tx.gain.pa_gain, tx.gain.pwr_idx) == (17, 0, 22)
    assert tx.eirp_dbm == 20.0


def test_power_below_the_whole_table_goes_at_the_lowest_entry_within_the_limit() -> None:
    sched = scheduler(rules=EU868_RULES)
    assert sched.schedule(request(power_dbm=10), NOW) is TxStatus.OK
    tx = sched.next_due(NOW + 470_000)
    assert (tx.gain.rf_power_dbm, tx.eirp_dbm) == (12, 12.0)


def test_power_below_the_table_is_tx_power_when_the_lowest_entry_breaks_the_limit() -> None:
    # 868.1 MHz (band M) allows 16.15 dBm EIRP; 12 dBm + 6 dBi would radiate 18 dBm
    sched = scheduler(rules=EU868_RULES, antenna_gain_dbi=6.0)
    assert sched.schedule(request(power_dbm=10), NOW) is TxStatus.TX_POWER


def test_region_max_eirp_caps_the_power() -> None:
    sched = scheduler(region_max_eirp_dbm=16)
    assert sched.schedule(request(power_dbm=27), NOW) is TxStatus.OK
    assert sched.next_due(NOW + 470_000).gain.rf_power_dbm == 16


def test_pick_gain_returns_none_below_the_table() -> None:
    assert pick_gain(RADIO_A.tx_gain_lut, 11.9) is None
    assert pick_gain(RADIO_A.tx_gain_lut, 27).pwr_idx == 14


def test_duty_cycle_overflow_when_the_band_is_used_up() -> None:
    tracker = DutyCycleTracker()
    tracker.record(868_100_000, 14, 36_000_000, 900.0)  # band M: the whole 36 s already spent
    sched = scheduler(duty_cycle=tracker)
    assert sched.schedule(request(), NOW) is TxStatus.DUTY_CYCLE_OVERFLOW


def test_queued_downlinks_count_towards_the_duty_cycle() -> None:
    tracker = DutyCycleTracker()
    sched = scheduler(duty_cycle=tracker)
    assert sched.schedule(request(), NOW) is TxStatus.OK
    load = {b.name: b.load_tracked_us for b in tracker.stats(1001.0).bands}
    assert load["M"] == 41_000  # SF7 BW125, 13 bytes, no CRC: 41.216 ms -> 41 ms reserved


def test_unlocked_gps_epoch_is_gps_unlocked() -> None:
    req = request(timing=Timing.GPS_EPOCH, gps_epoch_us=1_400_000_000_000_000, context=b"")
    assert scheduler().schedule(req, NOW) is TxStatus.GPS_UNLOCKED


def test_immediate_class_c_is_queued() -> None:
    sched = scheduler()
    assert sched.schedule(request(timing=Timing.IMMEDIATELY, context=b""), NOW) is TxStatus.OK
    assert sched.next_due(NOW + 50_000).count_us == NOW + 80_000


def test_frame_stops_at_the_first_ok_item_and_ignores_the_rest() -> None:
    sched = scheduler()
    items = [request(freq_hz=871_000_000), request(), request()]
    ack = sched.schedule_frame(items, NOW)
    assert ack.statuses == (TxStatus.TX_FREQ, TxStatus.OK, TxStatus.IGNORED)
    assert ack.downlink_id == 7


def test_stats_count_received_emitted_frequency_modulation_status() -> None:
    sched = scheduler()
    sched.schedule(request(), NOW)
    sched.schedule(request(freq_hz=871_000_000), NOW)
    sched.mark_emitted(sched.next_due(NOW + 470_000))
    stats = sched.take_stats()
    assert (stats.tx_packets_received, stats.tx_packets_emitted) == (2, 1)
    assert stats.per_frequency == {868_100_000: 1}
    assert stats.per_modulation == {"LORA/SF7/BW125000/4/5": 1}
    assert stats.per_status == {"OK": 1, "TX_FREQ": 1}
    gw = GatewayStats()
    stats.add_to(gw)
    assert gw.tx_packets_per_status == {"OK": 1, "TX_FREQ": 1}
    assert sched.take_stats().tx_packets_received == 0


def test_missed_packets_are_counted_not_programmed() -> None:
    sched = scheduler()
    sched.schedule(request(), NOW)
    assert sched.next_due(NOW + 600_000) is None
    assert sched.stats.tx_packets_missed == 1


def test_scheduled_tx_programs_the_chip_at_its_start() -> None:
    sched = scheduler()
    sched.schedule(request(power_dbm=14), NOW)
    prog = program(sched.next_due(NOW + 470_000).tx_request())
    assert prog.trigger_ticks == ((NOW + 500_000) * 32 - 47413) & 0xFFFF_FFFF
    assert (0x520D, 17) in prog.writes  # 14 dBm: pa_gain 0, pwr_idx 17
    assert prog.buffer == bytes(13)


@pytest.mark.parametrize("sf", [4, 13])
def test_invalid_spreading_factor_is_internal_error(sf: int) -> None:
    assert scheduler().schedule(request(sf=sf), NOW) is TxStatus.INTERNAL_ERROR


def test_dispatch_programs_the_due_packet_and_counts_it() -> None:
    sched = scheduler()
    sched.schedule(request(), NOW)
    sent = []
    assert dispatch_once(sched, NOW + 100_000, lambda chain: "FREE", sent.append) is None
    tx = dispatch_once(sched, NOW + 470_000, lambda chain: "FREE", sent.append)
    assert sent == [tx]
    assert sched.stats.tx_packets_emitted == 1


def test_dispatch_loses_the_packet_while_the_chain_is_emitting() -> None:
    sched = scheduler()
    sched.schedule(request(), NOW)
    sent = []
    assert dispatch_once(sched, NOW + 470_000, lambda chain: "EMITTING", sent.append) is None
    assert sent == []
    assert (sched.stats.tx_packets_emitted, sched.stats.tx_packets_missed) == (0, 1)


def test_short_preamble_is_reserved_as_the_chip_sends_it() -> None:
    tracker = DutyCycleTracker()
    sched = scheduler(duty_cycle=tracker)
    assert sched.schedule(request(preamble=2), NOW) is TxStatus.OK
    load = {b.name: b.load_tracked_us for b in tracker.stats(1001.0).bands}
    assert load["M"] == 39_000  # raised to 6 symbols: 39.168 ms -> 39 ms reserved


def test_rx1_across_the_wrap_is_programmed_on_virtual_time() -> None:
    sched = scheduler()
    uplink_count_us = 0xFFFF_FFFF - 600_000
    req = request(context=make_context(uplink_count_us, SESSION))
    now = uplink_count_us + 200_000  # the downlink arrives 200 ms after the uplink
    assert sched.schedule(req, now) is TxStatus.OK
    writes: dict[int, int] = {}
    programmed = None
    while programmed is None:  # the radio thread's 10 ms ticks on a virtual counter
        now = (now + 10_000) & 0xFFFF_FFFF
        programmed = dispatch_once(
            sched, now, lambda chain: "FREE",
            lambda tx: program_tx(writes.__setitem__, lambda a, d: None, program(tx.tx_request())),
        )  # fmt: skip
    start = (uplink_count_us + 1_000_000) & 0xFFFF_FFFF
    assert programmed.count_us == start == 399_999
    trigger = int.from_bytes(bytes(writes[a] for a in range(0x5201, 0x5205)), "big")
    assert trigger == (start * 32 - 47_413) & 0xFFFF_FFFF
