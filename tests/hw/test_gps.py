"""GPS: NMEA/UBX parsing, the PPS time reference, and the reader on a pseudo-terminal and gpsd."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import tty
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from drivers.errors import SensorError
from drivers.gps import GPS_EPOCH_UNIX_S, GpsReader, GpsTimeReference
from drivers.gps_codec import (
    Gga,
    GpsStreamParser,
    NavTimeGps,
    Rmc,
    UbxMessage,
    cfg_msg_enable_timegps,
    fletcher8,
    nmea_sentence,
    parse_nmea,
)

RMC = "GPRMC,123519.00,A,4807.038,N,01131.000,E,0.0,0.0,230394,,,A"
GGA = "GPGGA,123519.00,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,"
# 1994-03-23 12:35:19 UTC: GPS week 741, day 3 (Wednesday) → TOW 3·86400 + 45319 + 9 leap seconds
TIMEGPS = NavTimeGps(itow_ms=(3 * 86400 + 45319 + 9) * 1000, ftow_ns=0, week=741, leap_s=9,
                     valid_flags=0x07, t_acc_ns=20)  # fmt: skip


def test_rmc_gives_utc_and_validity() -> None:
    rmc = parse_nmea(nmea_sentence(RMC).decode())
    assert isinstance(rmc, Rmc)
    assert rmc.utc == datetime(1994, 3, 23, 12, 35, 19, tzinfo=UTC)
    assert rmc.valid
    assert rmc.latitude == pytest.approx(48.1173)


def test_rmc_with_mode_n_is_not_valid() -> None:
    rmc = parse_nmea(nmea_sentence(RMC[:-1] + "N").decode())
    assert rmc is not None and not rmc.valid


def test_gga_gives_position_altitude_and_satellites() -> None:
    gga = parse_nmea(nmea_sentence(GGA).decode())
    assert isinstance(gga, Gga)
    assert (gga.satellites, gga.altitude_m) == (8, 545.4)
    assert gga.longitude == pytest.approx(11.516667)


def test_bad_nmea_checksum_is_ignored() -> None:
    good = nmea_sentence(GGA).decode()
    assert parse_nmea(good) is not None
    assert parse_nmea(good[:-4] + "00\r\n") is None


def test_ubx_frame_round_trips_with_its_checksum() -> None:
    frame = UbxMessage(0x01, 0x20, TIMEGPS.to_bytes()).to_bytes()
    assert frame[:2] == b"\xb5\x62"
    assert bytes(fletcher8(frame[2:-2])) == frame[-2:]
    assert GpsStreamParser().feed(frame) == [TIMEGPS]


def test_cfg_msg_enables_timegps_on_both_uarts() -> None:
    frame = cfg_msg_enable_timegps()
    assert frame[2:6] == b"\x06\x01\x08\x00"
    assert frame[6:14] == b"\x01\x20\x00\x01\x01\x00\x00\x00"


def test_nav_timegps_time_since_gps_epoch() -> None:
    utc = datetime(1994, 3, 23, 12, 35, 19, tzinfo=UTC).timestamp()
    assert TIMEGPS.gps_time_s == utc - GPS_EPOCH_UNIX_S + 9


def test_stream_parser_splits_interleaved_nmea_and_ubx_fed_byte_by_byte() -> None:
    stream = (
        b"\x00garbage" + nmea_sentence(RMC) + UbxMessage(1, 0x20, TIMEGPS.to_bytes()).to_bytes()
    )
    stream += nmea_sentence(GGA)
    parser = GpsStreamParser()
    messages = [m for byte in stream for m in parser.feed(bytes((byte,)))]
    assert [type(m) for m in messages] == [Rmc, NavTimeGps, Gga]


def test_corrupt_ubx_frame_is_counted_and_skipped() -> None:
    frame = bytearray(UbxMessage(1, 0x20, TIMEGPS.to_bytes()).to_bytes())
    frame[-1] ^= 0xFF
    parser = GpsStreamParser()
    assert parser.feed(bytes(frame) + nmea_sentence(GGA)) != []
    assert parser.errors == 1


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_first_sync_becomes_the_reference_and_converts_both_ways() -> None:
    ref = GpsTimeReference(Clock())
    assert ref.sync(5_000_000, 1_700_000_000.0, 1_384_035_218.0)
    assert ref.count_us_to_utc(5_500_000) == pytest.approx(1_700_000_000.5)
    assert ref.count_us_to_gps_epoch_us(5_500_000) == 1_384_035_218_500_000
    assert ref.gps_epoch_us_to_count_us(1_384_035_219_000_000) == 6_000_000


def test_sync_within_10_ppm_updates_the_crystal_error() -> None:
    ref = GpsTimeReference(Clock())
    ref.sync(0, 100.0, 10.0)
    assert ref.sync(1_000_005, 101.0, 11.0)
    assert ref.ref.xtal_err == pytest.approx(1.000005)


def test_two_aberrant_points_are_ignored_the_third_resets() -> None:
    ref = GpsTimeReference(Clock())
    ref.sync(0, 100.0, 10.0)
    assert not ref.sync(1_001_000, 101.0, 11.0)
    assert not ref.sync(2_002_000, 102.0, 12.0)
    assert ref.ref.count_us == 0
    assert ref.sync(3_003_000, 103.0, 13.0)
    assert (ref.ref.count_us, ref.ref.xtal_err) == (3_003_000, 1.0)


def test_conversion_survives_the_32_bit_counter_wrap() -> None:
    ref = GpsTimeReference(Clock())
    ref.sync(2**32 - 500_000, 100.0, 10.0)
    assert ref.count_us_to_utc(500_000) == pytest.approx(101.0)
    assert ref.utc_to_count_us(101.0) == 500_000


def test_reference_expires_after_30_s() -> None:
    clock = Clock()
    ref = GpsTimeReference(clock)
    ref.sync(0, 100.0, 10.0)
    clock.now += 30.5
    assert not ref.valid()
    with pytest.raises(SensorError):
        ref.count_us_to_utc(0)


def test_rx_times_use_gps_when_locked_and_the_clock_otherwise() -> None:
    ref = GpsTimeReference(Clock())
    unlocked = ref.rx_times(1000, system_time_s=42.0)
    assert (unlocked.gw_time_s, unlocked.time_since_gps_epoch_s, unlocked.source) == (
        42.0,
        None,
        "system",
    )
    ref.sync(0, 100.0, 10.0)
    locked = ref.rx_times(2_000_000)
    assert (locked.gw_time_s, locked.time_since_gps_epoch_s, locked.source) == (
        pytest.approx(102.0),
        pytest.approx(12.0),
        "gps",
    )


@pytest.fixture
def pty_pair() -> Iterator[tuple[int, str]]:
    master, slave = os.openpty()
    tty.setraw(slave)
    yield master, os.ttyname(slave)
    os.close(master)
    os.close(slave)


def _poll_until(reader: GpsReader, done, timeout_s: float = 3.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done() and time.monotonic() < deadline:
        reader.poll_once()


def test_reader_on_a_pty_syncs_time_and_reports_location(pty_pair: tuple[int, str]) -> None:
    master, path = pty_pair
    counts = iter([1_000_000, 2_000_000])
    reader = GpsReader(path, read_pps_count_us=lambda: next(counts))
    try:
        sent = os.read(master, 64)
        assert sent == cfg_msg_enable_timegps()
        timegps = UbxMessage(1, 0x20, TIMEGPS.to_bytes()).to_bytes()
        os.write(master, nmea_sentence(RMC) + nmea_sentence(GGA) + timegps)
        _poll_until(reader, lambda: reader.reference.ref is not None)
        assert reader.fix
        assert reader.location is not None and reader.location.satellites == 8
        assert reader.location.altitude_m == 545.4
        expected_utc = datetime(1994, 3, 23, 12, 35, 19, tzinfo=UTC).timestamp()
        assert reader.reference.count_us_to_utc(1_000_000) == pytest.approx(expected_utc)
    finally:
        reader.close()


class FakeGpsd:
    """A one-client gpsd on a free loopback port that replies to ?WATCH with fixed reports."""

    def __init__(self, reports: list[dict]) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.watch = b""
        self.reports = reports
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.server.accept()
        with conn:
            self.watch = conn.recv(1024)
            conn.sendall(b"".join(json.dumps(r).encode() + b"\n" for r in self.reports))
            time.sleep(0.5)

    def close(self) -> None:
        self.thread.join(timeout=2)
        self.server.close()


def test_gpsd_client_reads_tpv_and_sky() -> None:
    gpsd = FakeGpsd(
        [
            {"class": "VERSION", "release": "3.25"},
            {"class": "TPV", "mode": 3, "lat": 52.5, "lon": 13.4, "altHAE": 40.0,
             "time": "2024-01-01T00:00:00.000Z", "leapseconds": 18},
            {"class": "SKY", "satellites": [{"used": True}, {"used": True}, {"used": False}]},
        ]
    )  # fmt: skip
    reader = GpsReader(f"gpsd://127.0.0.1:{gpsd.port}", read_pps_count_us=lambda: 7_000_000)
    try:
        _poll_until(reader, lambda: reader.location is not None and reader.location.satellites)
        assert b"?WATCH" in gpsd.watch
        assert reader.location.latitude == 52.5
        assert reader.location.satellites == 2
        utc = datetime(2024, 1, 1, tzinfo=UTC).timestamp()
        assert reader.reference.count_us_to_gps_epoch_us(7_000_000) == round(
            (utc - GPS_EPOCH_UNIX_S + 18) * 1e6
        )
    finally:
        reader.close()
        gpsd.close()
