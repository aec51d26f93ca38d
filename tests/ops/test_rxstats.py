"""The receive statistics the status socket and ``diag rx`` report."""

from __future__ import annotations

from edge_agent.rxstats import RxTracker, delta, describe
from packet_forwarder.model import CrcStatus, Modulation, Uplink


def uplink(freq_hz: int, sf: int, rssi: float, snr: float, crc: CrcStatus) -> Uplink:
    return Uplink(
        phy_payload=b"\x40",
        freq_hz=freq_hz,
        modulation=Modulation.LORA,
        bandwidth_hz=125_000,
        sf=sf,
        code_rate="4/5",
        rssi_dbm=rssi,
        snr_db=snr,
        channel=0,
        rf_chain=0,
        crc_status=crc,
        count_us=0,
        session_id=1,
        gw_time=1_795_000_000.25,
    )


def test_snapshot_counts_per_channel_sf_and_crc_with_spread() -> None:
    tracker = RxTracker(clock=lambda: 100.0)
    tracker.add(uplink(868_100_000, 7, -60.004, 9.5, CrcStatus.OK))
    tracker.add(uplink(868_100_000, 12, -118.0, -15.25, CrcStatus.BAD))
    tracker.add(uplink(868_300_000, 7, -90.0, 0.0, CrcStatus.OK))
    snap = tracker.snapshot()
    assert snap["by_channel"] == {"868100000": 2, "868300000": 1}
    assert snap["by_sf"] == {"7": 2, "12": 1}
    assert (snap["crc_ok"], snap["crc_bad"], snap["crc_ratio"]) == (2, 1, 0.6667)
    assert snap["rssi_dbm"] == {"min": -118.0, "max": -60.0, "mean": -89.33}
    assert snap["snr_db"]["min"] == -15.25
    assert snap["last_uplink"] == "2026-11-18T11:06:40.250Z"


def test_rate_per_min_forgets_packets_older_than_a_minute() -> None:
    now = [0.0]
    tracker = RxTracker(clock=lambda: now[0])
    tracker.add(uplink(868_100_000, 7, -60, 9, CrcStatus.OK))
    now[0] = 61.0
    tracker.add(uplink(868_300_000, 7, -60, 9, CrcStatus.OK))
    assert tracker.snapshot()["rate_per_min"] == {"868300000": 1}


def test_describe_summarises_a_delta_in_one_line() -> None:
    channels = delta({"868100000": 7, "868300000": 3}, {"868100000": 2, "868300000": 3})
    line = describe(channels, {"10": 5}, 4, 1, {"min": -100.04}, {"max": 3.0}, 2)
    assert line == (
        "5 packets in 2 s; per channel 868.1 MHz: 5; per SF SF10: 5; "
        "RSSI -100..? dBm, SNR ?..3 dB; CRC ok 4, bad 1"
    )
