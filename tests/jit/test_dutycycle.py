"""EU868 duty cycle: bands, the one-hour sliding window, enforcement switch, stats."""

from __future__ import annotations

from packet_forwarder.dutycycle import EU868_BANDS, Band, DutyCycleTracker

SF12_TOA_US = 1_155_000  # SF12 BW125, 13 bytes (JIT-rounded)
L_FREQ = 867_100_000


def fill(tracker: DutyCycleTracker, freq_hz: int, count: int, start_s: float = 0.0) -> float:
    """Record ``count`` SF12 packets 10 s apart; return the time after the last one."""
    t = start_s
    for _ in range(count):
        assert not tracker.would_exceed(freq_hz, 16, SF12_TOA_US, t)
        tracker.record(freq_hz, 16, SF12_TOA_US, t)
        t += 10.0
    return t


def test_bands_are_k_l_m_n_p_q() -> None:
    assert [b.name for b in EU868_BANDS] == ["K", "L", "M", "N", "P", "Q-7dBm", "Q"]


def test_one_percent_band_overflows_after_36_s_of_airtime() -> None:
    tracker = DutyCycleTracker()
    t = fill(tracker, L_FREQ, 31)  # 35.805 s of the 36 s budget
    assert tracker.would_exceed(L_FREQ, 16, SF12_TOA_US, t)


def test_budget_frees_up_as_the_window_slides() -> None:
    tracker = DutyCycleTracker()
    t = fill(tracker, L_FREQ, 31)
    assert tracker.would_exceed(L_FREQ, 16, SF12_TOA_US, t)
    # one hour after the first packet ended, it has left the window
    assert not tracker.would_exceed(L_FREQ, 16, SF12_TOA_US, 3600.0 + 1.155)


def test_bands_are_tracked_separately() -> None:
    tracker = DutyCycleTracker()
    t = fill(tracker, L_FREQ, 31)
    assert not tracker.would_exceed(868_100_000, 16, SF12_TOA_US, t)  # band M


def test_point_one_percent_band_allows_3_6_s() -> None:
    tracker = DutyCycleTracker()
    t = fill(tracker, 864_000_000, 3)  # band K: 3.465 s of 3.6 s
    assert tracker.would_exceed(864_000_000, 16, SF12_TOA_US, t)


def test_earlier_insert_must_not_overload_recorded_later_packets() -> None:
    tracker = DutyCycleTracker()
    fill(tracker, L_FREQ, 31, start_s=1000.0)
    assert tracker.would_exceed(L_FREQ, 16, SF12_TOA_US, 500.0)


def test_low_power_above_869_7_mhz_is_unrestricted() -> None:
    tracker = DutyCycleTracker()
    assert tracker.band_for(869_800_000, 9).name == "Q-7dBm"
    assert tracker.band_for(869_800_000, 16).name == "Q"


def test_frequency_outside_every_band_is_refused_while_enforcing() -> None:
    tracker = DutyCycleTracker()
    assert tracker.would_exceed(868_650_000, 14, 1000, 0.0)


def test_power_above_the_band_limit_is_refused_while_enforcing() -> None:
    assert DutyCycleTracker().would_exceed(868_100_000, 20, 1000, 0.0)


def test_enforcement_off_never_refuses_but_still_tracks() -> None:
    tracker = DutyCycleTracker(enforce=False)
    t = fill(tracker, L_FREQ, 40)
    assert not tracker.would_exceed(L_FREQ, 16, SF12_TOA_US, t)
    load = {b.name: b.load_tracked_us for b in tracker.stats(t).bands}
    assert load["L"] == 40 * SF12_TOA_US


def test_stats_report_band_limits_and_load() -> None:
    tracker = DutyCycleTracker()
    fill(tracker, L_FREQ, 2)
    stats = tracker.stats(100.0)
    band_l = next(b for b in stats.bands if b.name == "L")
    assert (band_l.frequency_min, band_l.frequency_max) == (865_000_000, 868_000_000)
    assert band_l.load_max_us == 36_000_000
    assert band_l.load_tracked_us == 2 * SF12_TOA_US
    assert stats.window_us == 3_600_000_000
    assert stats.regulation == "EN_300_220"


def test_check_cost_does_not_grow_with_recorded_transmissions() -> None:
    """Counted, not timed: a check drops at most the transmissions that left the window."""
    tracker = DutyCycleTracker(bands=(Band("X", 0, 10**10, 1.0, 30.0),))
    for i in range(50_000):  # 50,000 transmissions of 1 ms, 10 ms apart: 500 s
        tracker.record(L_FREQ, 14, 1_000, i * 0.01)
    assert tracker.evicted == 0
    for i in range(1_000):  # every one of them is still in the window: no work at all
        assert not tracker.would_exceed(L_FREQ, 14, 1_000, 600.0 + i * 0.01)
    assert tracker.evicted == 0
    # an hour later each transmission is dropped exactly once, however many checks follow
    for i in range(1_000):
        tracker.would_exceed(L_FREQ, 14, 1_000, 4_200.0 + i)
    assert tracker.evicted == 50_000
    assert tracker.stats(5_200.0).bands[0].load_tracked_us == 0


def test_a_packet_queued_ahead_still_counts_what_ended_an_hour_before_now() -> None:
    # the first of 31 packets ended at 1.155 s: outside any window holding a TX at 3601.2 s,
    # but the check forgets only what ended an hour before the clock (stricter, never looser)
    queued_ahead, at_start = DutyCycleTracker(), DutyCycleTracker()
    fill(queued_ahead, L_FREQ, 31)
    fill(at_start, L_FREQ, 31)
    assert queued_ahead.would_exceed(L_FREQ, 16, SF12_TOA_US, 3601.2, now_s=3600.0)
    assert not at_start.would_exceed(L_FREQ, 16, SF12_TOA_US, 3601.2, now_s=3601.2)


def test_band_p_allows_29_dbm_eirp() -> None:
    tracker = DutyCycleTracker()
    assert tracker.band_for(869_525_000, 29).name == "P"
    assert tracker.band_for(869_525_000, 29.5) is None
