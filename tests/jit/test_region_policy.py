"""Downlink policy per region: power per sub-band, channels, airtime, preamble, overlap, dedup."""

from __future__ import annotations

from dataclasses import replace

import pytest

from packet_forwarder.dedup import RecentIds
from packet_forwarder.downlink import DownlinkScheduler, TxChain, dispatch_once
from packet_forwarder.dutycycle import DutyCycleTracker
from packet_forwarder.model import DownlinkRequest, Modulation, Timing, TxStatus, make_context
from packet_forwarder.regions import DownlinkRules, all_presets, power_gaps, region_preset
from tests.jit.test_downlink import NOW, SESSION, request

# lrwn/src/region/eu868.rs get_downlink_tx_power_eirp: 16 dBm, 29 dBm in 869.4-869.65 MHz
CHIRPSTACK_EU868_RX1_EIRP, CHIRPSTACK_EU868_RX2_EIRP = 16, 29


class Clock:
    """A settable monotonic clock, seconds."""

    def __init__(self) -> None:
        self.now_s = 1000.0

    def __call__(self) -> float:
        return self.now_s


def scheduler(
    region: str = "EU868", antenna_gain_dbi: float = 0.0, clock=None
) -> DownlinkScheduler:
    preset = region_preset(region)
    radio = preset.plan.radios[0]
    chain = TxChain(0, radio.tx_freq_min_hz, radio.tx_freq_max_hz, radio.tx_gain_lut)
    rules = preset.rules
    return DownlinkScheduler(
        [chain], lambda: SESSION, antenna_gain_dbi=antenna_gain_dbi,
        region_freq_range_hz=(preset.tx_freq_min_hz, preset.tx_freq_max_hz), rules=rules,
        duty_cycle=DutyCycleTracker(rules.sub_bands) if rules.duty_cycle else None,
        clock_s=clock or (lambda: 1000.0),
    )  # fmt: skip


def sent_eirp(sched: DownlinkScheduler, req: DownlinkRequest) -> float:
    assert sched.schedule(req, NOW) is TxStatus.OK
    tx = next(e.item for q in sched.queues.values() for e in q.entries(NOW))
    return tx.eirp_dbm


# -- issue 13.1: power per regulatory sub-band --------------------------------------------------


def test_eu868_rx1_goes_at_chirpstack_s_16_dbm() -> None:
    assert sent_eirp(scheduler(), request(power_dbm=CHIRPSTACK_EU868_RX1_EIRP)) == 16


def test_eu868_rx2_in_band_p_is_no_longer_capped_at_16_dbm() -> None:
    # 29 dBm asked on 869.525 MHz (band P: 500 mW ERP = 29.15 dBm EIRP); the table tops at 27
    req = request(freq_hz=869_525_000, sf=12, power_dbm=CHIRPSTACK_EU868_RX2_EIRP)
    assert sent_eirp(scheduler(), req) == 27
    assert sent_eirp(scheduler(antenna_gain_dbi=2.0), req) == 29


def test_eu868_class_c_in_band_p_goes_at_full_power() -> None:
    req = request(freq_hz=869_525_000, sf=12, power_dbm=29, timing=Timing.IMMEDIATELY, context=b"")
    assert sent_eirp(scheduler(antenna_gain_dbi=2.0), req) == 29


def test_eu868_rx1_asking_29_dbm_is_held_to_the_band_m_limit() -> None:
    assert sent_eirp(scheduler(), request(power_dbm=29)) == 16


def _rx1_freq_hz(name: str) -> int:
    preset = region_preset(name)
    if preset.rules.lora_bandwidths_hz == (500_000,):
        return 923_300_000  # US915 / AU915 RX1 of the first channel of a sub-band (mod 8)
    if name.startswith("CN470"):
        return 500_300_000 + 200_000 * ((int(name.split("SB")[1]) - 1) * 8 % 48)
    return preset.uplink_frequencies_hz()[0]


@pytest.mark.parametrize("name", [p.name for p in all_presets()])
@pytest.mark.parametrize("window", ["RX1", "RX2", "Class C"])
def test_chirpstack_default_power_is_sent_within_the_sub_band_limit(name: str, window: str) -> None:
    preset = region_preset(name)
    # what ChirpStack asks: get_downlink_tx_power_eirp (29 dBm in EU868's band P)
    asked = 29 if name == "EU868" and window != "RX1" else preset.ns_default_eirp_dbm
    if window == "RX1":
        req = request(freq_hz=_rx1_freq_hz(name), bandwidth_hz=preset.rules.lora_bandwidths_hz[0])
    else:
        req = request(freq_hz=preset.rx2_freq_hz, sf=preset.rx2_sf,
                      bandwidth_hz=preset.rx2_bandwidth_hz)  # fmt: skip
    if window == "Class C":
        req = replace(req, timing=Timing.IMMEDIATELY, context=b"")
    req = replace(req, power_dbm=asked)
    limit = preset.rules.max_eirp_dbm(req.freq_hz, req.bandwidth_hz)
    lut = preset.plan.radios[0].tx_gain_lut
    expected = max(g.rf_power_dbm for g in lut if g.rf_power_dbm <= min(asked, limit))
    assert sent_eirp(scheduler(name), req) == expected <= limit


# -- issue 11.5: below the table -----------------------------------------------------------------


def test_below_the_table_is_sent_at_the_lowest_entry_when_within_the_limit() -> None:
    assert sent_eirp(scheduler(antenna_gain_dbi=2.0), request(power_dbm=5)) == 14


def test_below_the_table_is_tx_power_when_the_lowest_entry_would_break_the_limit() -> None:
    # EU433: 12.15 dBm EIRP; 12 dBm + 2 dBi = 14 dBm
    req = request(freq_hz=433_175_000, power_dbm=12)
    assert scheduler("EU433", antenna_gain_dbi=2.0).schedule(req, NOW) is TxStatus.TX_POWER


def test_power_gaps_name_the_sub_bands_and_the_entries_needed() -> None:
    preset = region_preset("EU433")
    lut = preset.plan.radios[0].tx_gain_lut
    assert power_gaps(preset, lut, 0.0) == []
    (gap,) = power_gaps(preset, lut, 2.0)
    assert "12.15 dBm EIRP" in gap and "at or below 10 dBm" in gap
    eu868 = region_preset("EU868")
    assert power_gaps(eu868, lut, 0.0) == []  # Q-7dBm is an option under Q, not a limit
    names = [g.split(" sub-band ")[1].split(" ")[0] for g in power_gaps(eu868, lut, 6.0)]
    assert names == ["K", "L", "M", "N", "Q"]


# -- issue 14.2: regional limits -----------------------------------------------------------------


def thirty_six_minutes(**overrides: object) -> DownlinkRequest:
    """The downlink that held a US915 transmitter for 2,148 s (issue 14)."""
    fields = dict(freq_hz=923_300_000, sf=12, bandwidth_hz=125_000, preamble=65_535,
                  power_dbm=30, phy_payload=bytes(13))  # fmt: skip
    return request(**{**fields, **overrides})


def test_the_36_minute_us915_downlink_is_refused() -> None:
    assert scheduler("US915").schedule(thirty_six_minutes(), NOW) is TxStatus.TX_FREQ


def test_us915_125_khz_downlinks_are_tx_freq() -> None:
    req = thirty_six_minutes(preamble=8)
    assert scheduler("US915").schedule(req, NOW) is TxStatus.TX_FREQ


def test_us915_500_khz_with_a_65535_symbol_preamble_is_internal_error() -> None:
    req = thirty_six_minutes(bandwidth_hz=500_000)
    assert scheduler("US915").schedule(req, NOW) is TxStatus.INTERNAL_ERROR


def test_us915_fsk_downlink_is_tx_freq() -> None:
    req = request(freq_hz=923_300_000, modulation=Modulation.FSK, datarate_bps=50_000)
    assert scheduler("US915").schedule(req, NOW) is TxStatus.TX_FREQ


def test_us915_500_khz_at_30_dbm_goes_at_the_table_s_top() -> None:
    req = thirty_six_minutes(bandwidth_hz=500_000, preamble=8)
    assert sent_eirp(scheduler("US915"), req) == 27


def test_airtime_beyond_the_region_s_longest_frame_is_duty_cycle_overflow() -> None:
    # CR 4/8 makes a 255-byte SF12 frame longer than any LoRaWAN downlink of the region
    req = thirty_six_minutes(bandwidth_hz=500_000, preamble=8, phy_payload=bytes(255),
                             code_rate="4/8")  # fmt: skip
    assert scheduler("US915").schedule(req, NOW) is TxStatus.DUTY_CYCLE_OVERFLOW


def test_eu868_33_5_s_downlink_is_refused() -> None:
    # SF12 BW125, 13 bytes: 27.25 symbols + preamble, 32.768 ms each -> 995 symbols = 33.5 s
    req = request(sf=12, preamble=995)
    assert scheduler().schedule(req, NOW) is TxStatus.INTERNAL_ERROR


def test_eu868_longest_possible_frame_with_cr_4_8_is_duty_cycle_overflow() -> None:
    req = request(sf=12, phy_payload=bytes(255), code_rate="4/8", power_dbm=14)
    assert scheduler().schedule(req, NOW) is TxStatus.DUTY_CYCLE_OVERFLOW


def test_dwell_time_refuses_a_long_narrow_channel_packet() -> None:
    band = region_preset("AS923").rules.sub_bands
    rules = DownlinkRules(band, (125_000,), fsk=False, slowest_sf=12, slowest_bandwidth_hz=125_000,
                          dwell_time_us=400_000, dwell_below_bw_hz=500_000)  # fmt: skip
    chain = TxChain(0, 915_000_000, 928_000_000, region_preset("AS923").plan.radios[0].tx_gain_lut)
    sched = DownlinkScheduler([chain], lambda: SESSION, rules=rules, clock_s=lambda: 1000.0)
    assert sched.schedule(request(freq_hz=923_200_000, sf=12), NOW) is TxStatus.DUTY_CYCLE_OVERFLOW
    assert sched.schedule(request(freq_hz=923_200_000, sf=9), NOW) is TxStatus.OK


@pytest.mark.parametrize(
    ("freq_hz", "why"),
    [(868_650_000, "the gap between bands M and N"), (868_550_000, "the channel's top edge")],
)
def test_eu868_channel_outside_every_sub_band_is_tx_freq(freq_hz: int, why: str) -> None:
    assert scheduler().schedule(request(freq_hz=freq_hz), NOW) is TxStatus.TX_FREQ, why


# -- issue 14.2: overlap with a dispatched packet, duplicate ids ---------------------------------


def _long_rx2(start_count_us: int, downlink_id: int = 7) -> DownlinkRequest:
    # SF12, 64 bytes (EU868 DR0's largest frame): 2.793 s on air
    return request(downlink_id=downlink_id, freq_hz=869_525_000, sf=12, phy_payload=bytes(64),
                   context=make_context(start_count_us, SESSION), delay_us=0)  # fmt: skip


def test_request_overlapping_a_dispatched_packet_is_collision_not_acked_then_dropped() -> None:
    sched = scheduler()
    first_start = NOW + 500_000
    assert sched.schedule(_long_rx2(first_start), NOW) is TxStatus.OK
    sent = []
    now = first_start - 20_000
    assert dispatch_once(sched, now, lambda chain: "FREE", sent.append) is not None
    # one second into the first packet's 2.8 s on air, a second downlink asks to start
    second = _long_rx2(first_start + 1_000_000, downlink_id=8)
    assert sched.schedule(second, now + 100_000) is TxStatus.COLLISION_PACKET
    # after the first has left the air, the chain is free again
    third = _long_rx2(first_start + 3_000_000, downlink_id=9)
    assert sched.schedule(third, now + 100_000) is TxStatus.OK


def test_immediate_downlink_waits_for_the_dispatched_packet_to_end() -> None:
    sched = scheduler()
    first_start = NOW + 500_000
    sched.schedule(_long_rx2(first_start), NOW)
    dispatch_once(sched, first_start - 20_000, lambda chain: "FREE", lambda tx: None)
    req = request(downlink_id=8, freq_hz=869_525_000, timing=Timing.IMMEDIATELY, context=b"")
    assert sched.schedule(req, first_start) is TxStatus.OK
    (queued,) = sched.queues[0].entries(first_start)
    assert queued.count_us > first_start + 2_793_000


def test_a_downlink_id_seen_in_the_last_10_minutes_is_not_sent_twice() -> None:
    clock = Clock()
    sched = scheduler(clock=clock)
    frame = [request(downlink_id=42), request(downlink_id=42, freq_hz=869_525_000)]
    assert sched.schedule_frame(frame, NOW).statuses == (TxStatus.OK, TxStatus.IGNORED)
    again = sched.schedule_frame(frame, NOW)
    assert again.statuses == (TxStatus.COLLISION_PACKET, TxStatus.COLLISION_PACKET)
    assert again.downlink_id == 42
    assert len(sched.queues[0]) == 1
    clock.now_s += 601.0
    later = [request(downlink_id=42, context=make_context(NOW + 1_000_000, SESSION))]
    assert sched.schedule_frame(later, NOW + 1_400_000).statuses == (TxStatus.OK,)


def test_recent_ids_stay_bounded_and_ignore_id_zero() -> None:
    ids = RecentIds(max_ids=100, clock_s=lambda: 0.0)
    assert not any(ids.seen(i) for i in range(1, 1001))
    assert len(ids) == 100
    assert ids.seen(1000) and not ids.seen(1)  # the oldest made room
    assert not ids.seen(0) and not ids.seen(0)
