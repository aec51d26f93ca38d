"""The simulator's GPS persona: a u-blox-like receiver on an in-process serial port, its PPS
tied to the simulated counter.

``[gps] tty = "sim://gps"`` (on a ``sim://`` concentrator) gives ``drivers.gps.GpsReader`` a
``SimGpsPort`` instead of a serial device. Every whole second of the simulated clock is a PPS
edge: the chip latches its counter there (``SimChip.gps_pps``, register 0x6101..0x6104) and the
port then delivers that second's RMC, GGA and UBX NAV-TIMEGPS. GPS time at the clock's origin is
a whole second (the system clock, floored), so the counter value of any GPS-epoch instant is
known exactly: ``count_us = start_ticks / 32 + (gps_epoch_us - origin_gps_epoch_us)``.

Options in the URL query: ``fix=false`` (a receiver without a fix: RMC void, no NAV-TIMEGPS,
so never a time lock), ``lat``, ``lon``, ``alt`` (metres), ``sats``.
"""

from __future__ import annotations

import math
import threading
import time
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

from drivers.errors import SensorError
from drivers.gps_codec import NavTimeGps, UbxMessage, nmea_sentence
from drivers.sim.chip import SimChip

GPS_EPOCH_UNIX_S = 315964800
LEAP_S = 18
SECONDS_PER_WEEK = 604800
#: how long ``read`` waits for the next second's messages (the reader's serial timeout)
READ_TIMEOUT_S = 0.2


def _nmea_coordinate(value: float, width: int, hemispheres: str) -> str:
    degrees = int(abs(value))
    minutes = (abs(value) - degrees) * 60
    return f"{degrees:0{width}d}{minutes:06.3f},{hemispheres[value < 0]}"


class SimGpsPort:
    """A pyserial-like port (``read``, ``in_waiting``, ``write``, ``close``) on the simulated
    receiver of ``chip``'s world."""

    def __init__(self, chip: SimChip, url: str = "sim://gps") -> None:
        options = dict(parse_qsl(urlsplit(url).query))
        try:
            self.fix = options.get("fix", "true").lower() not in ("0", "false", "no", "off")
            self.latitude = float(options.get("lat", 48.1173))
            self.longitude = float(options.get("lon", 11.5167))
            self.altitude_m = float(options.get("alt", 545.4))
            self.satellites = int(options.get("sats", 8))
        except ValueError as exc:
            raise SensorError(f"simulated GPS {url}: {exc}") from exc
        self.chip = chip
        chip.gps_pps = True  # type: ignore[attr-defined]  # the chip latches a PPS every second
        chip.gps_persona = self  # type: ignore[attr-defined]  # for tests: the time origin
        elapsed_s = chip.clock.elapsed_us() / 1e6
        #: Unix time at the simulated clock's origin: a whole second, so PPS edges are too
        self.origin_utc_s = math.floor(time.time() - elapsed_s)
        self.written = b""
        self._buffer = b""
        self._last_second = -1
        self._closed = False
        self._lock = threading.Lock()

    @property
    def origin_gps_epoch_us(self) -> int:
        """GPS-epoch µs at the simulated clock's origin (elapsed 0, counter ``start_ticks``)."""
        return (self.origin_utc_s - GPS_EPOCH_UNIX_S + LEAP_S) * 1_000_000

    def _epoch(self, second: int) -> bytes:
        utc_s = self.origin_utc_s + second
        stamp = datetime.fromtimestamp(utc_s, UTC)
        hms, dmy = stamp.strftime("%H%M%S.00"), stamp.strftime("%d%m%y")
        lat = _nmea_coordinate(self.latitude, 2, "NS")
        lon = _nmea_coordinate(self.longitude, 3, "EW")
        if not self.fix:
            return nmea_sentence(f"GPRMC,{hms},V,,,,,,,{dmy},,,N") + nmea_sentence(
                f"GPGGA,{hms},,,,,0,00,99.9,,M,,M,,"
            )
        rmc = nmea_sentence(f"GPRMC,{hms},A,{lat},{lon},0.0,0.0,{dmy},,,A")
        gga = nmea_sentence(
            f"GPGGA,{hms},{lat},{lon},1,{self.satellites:02d},0.9,{self.altitude_m:.1f},M,46.9,M,,"
        )
        gps_s = utc_s - GPS_EPOCH_UNIX_S + LEAP_S
        nav = NavTimeGps(
            itow_ms=(gps_s % SECONDS_PER_WEEK) * 1000,
            ftow_ns=0,
            week=gps_s // SECONDS_PER_WEEK,
            leap_s=LEAP_S,
            valid_flags=0x07,
            t_acc_ns=20,
        )
        return rmc + gga + UbxMessage(0x01, 0x20, nav.to_bytes()).to_bytes()

    def _fill(self) -> None:
        """Queue the messages of the latest PPS second not yet delivered."""
        second = self.chip.clock.elapsed_us() // 1_000_000
        if second >= 1 and second != self._last_second:
            self._last_second = second
            self._buffer += self._epoch(second)

    @property
    def in_waiting(self) -> int:
        """Bytes ready to read now."""
        with self._lock:
            self._check_open()
            self._fill()
            return len(self._buffer)

    def read(self, size: int = 1) -> bytes:
        """Up to ``size`` bytes; waits up to READ_TIMEOUT_S for the next second's messages."""
        deadline = time.monotonic() + READ_TIMEOUT_S
        while True:
            with self._lock:
                self._check_open()
                self._fill()
                if self._buffer:
                    data, self._buffer = self._buffer[:size], self._buffer[size:]
                    return data
            if time.monotonic() >= deadline:
                return b""
            time.sleep(0.02)

    def write(self, data: bytes) -> int:
        """The host's configuration messages (CFG-MSG): recorded, accepted."""
        self.written += bytes(data)
        return len(data)

    def _check_open(self) -> None:
        if self._closed:
            raise SensorError("simulated GPS port is closed")

    def close(self) -> None:
        """Close the port. Idempotent."""
        self._closed = True


def open_sim_gps(chip: SimChip, url: str) -> SimGpsPort:
    """The GPS persona's port for ``url`` (``sim://gps[?fix=false&lat=..&lon=..]``)."""
    return SimGpsPort(chip, url)
