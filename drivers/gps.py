"""GPS time and location: a reader over pyserial or gpsd, and the PPS-latched time reference.

Time sync follows sx1302_hal (ref/sx1302.md §10, loragw_gps.c ``lgw_gps_sync``): on every valid
NAV-TIMEGPS the concentrator's PPS-latched counter (``count_us``) is paired with UTC (from the
last RMC) and GPS time. A new pair is accepted when the counter's slope against UTC is within
±10 ppm; one or two aberrant pairs in a row are ignored, a third resets the reference. The
reference is valid for 30 s after its last update.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from drivers.errors import SensorError
from drivers.gps_codec import Gga, GpsStreamParser, NavTimeGps, Rmc, cfg_msg_enable_timegps

LOGGER = logging.getLogger(__name__)

GPS_EPOCH_UNIX_S = 315964800  # 1980-01-06T00:00:00Z
GPS_BAUDRATE = 9600
SLOPE_TOLERANCE = 1e-5  # ±10 ppm
VALIDITY_S = 30.0
MAX_ABERRANT = 2
XTAL_WARMUP = 16
XTAL_IIR = 1 / 256
COUNTER_MOD = 1 << 32


def _delta_us(new: int, old: int) -> int:
    """Signed difference of two 32-bit µs counter values (wrap-safe within ±35 min)."""
    delta = (new - old) % COUNTER_MOD
    return delta - COUNTER_MOD if delta >= COUNTER_MOD // 2 else delta


@dataclass(frozen=True)
class TimeRef:
    """One accepted (counter, UTC, GPS time) triple and the counter's rate error."""

    count_us: int
    utc_s: float  # Unix seconds
    gps_time_s: float  # seconds since the GPS epoch
    xtal_err: float
    updated_monotonic: float

    def utc_at(self, count_us: int) -> float:
        """Unix seconds at which the counter read ``count_us``."""
        return self.utc_s + _delta_us(count_us, self.count_us) / (1e6 * self.xtal_err)

    def gps_epoch_us_at(self, count_us: int) -> int:
        """Microseconds since the GPS epoch at which the counter read ``count_us``."""
        seconds = self.gps_time_s + _delta_us(count_us, self.count_us) / (1e6 * self.xtal_err)
        return round(seconds * 1e6)

    def count_us_at_gps(self, gps_epoch_us: int) -> int:
        """The counter value at ``gps_epoch_us``."""
        offset_us = (gps_epoch_us / 1e6 - self.gps_time_s) * 1e6 * self.xtal_err
        return (self.count_us + round(offset_us)) % COUNTER_MOD


class GpsTimeReference:
    """Converts between the concentrator's ``count_us`` and UTC / GPS-epoch time."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.ref: TimeRef | None = None
        self._aberrant = 0
        self._xtal_samples: list[float] = []
        #: mean counter rate correction (``1/xtal_err`` averaged), for beacon frequencies
        self.xtal_correction = 1.0
        self.xtal_correction_ok = False

    def sync(self, count_us: int, utc_s: float, gps_time_s: float) -> bool:
        """Offer a PPS-latched pair; True when it became the reference."""
        with self._lock:
            ref = self.ref
            slope = None
            if ref is not None and utc_s != ref.utc_s:
                slope = _delta_us(count_us, ref.count_us) / 1e6 / (utc_s - ref.utc_s)
            in_range = slope is not None and abs(slope - 1.0) <= SLOPE_TOLERANCE
            if ref is not None and not in_range:
                self._aberrant += 1
                if self._aberrant <= MAX_ABERRANT:
                    LOGGER.debug("GPS sync point ignored (slope %s)", slope)
                    return False
                LOGGER.warning("GPS reference reset after %d aberrant points", self._aberrant)
            self._aberrant = 0
            xtal_err = slope if in_range and slope is not None else 1.0
            self.ref = TimeRef(count_us % COUNTER_MOD, utc_s, gps_time_s, xtal_err, self._clock())
            if in_range:
                self._track_xtal(xtal_err)
            return True

    def _track_xtal(self, xtal_err: float) -> None:
        if len(self._xtal_samples) < XTAL_WARMUP:
            self._xtal_samples.append(xtal_err)
            if len(self._xtal_samples) == XTAL_WARMUP:
                self.xtal_correction = XTAL_WARMUP / sum(self._xtal_samples)
                self.xtal_correction_ok = True
        else:
            self.xtal_correction += XTAL_IIR * (1 / xtal_err - self.xtal_correction)

    def snapshot(self) -> TimeRef | None:
        """The reference while valid (updated within the last 30 s), else None. One snapshot
        converts a whole RX batch: a reference expiring halfway cannot split it."""
        ref = self.ref
        if ref is None or self._clock() - ref.updated_monotonic > VALIDITY_S:
            return None
        return ref

    def valid(self) -> bool:
        """True while the reference was updated within the last 30 s."""
        return self.snapshot() is not None

    def _require(self) -> TimeRef:
        ref = self.snapshot()
        if ref is None:
            raise SensorError("no valid GPS time reference (no fix or stale PPS sync)")
        return ref

    def count_us_to_utc(self, count_us: int) -> float:
        """Unix seconds at which the counter read ``count_us``."""
        return self._require().utc_at(count_us)

    def count_us_to_gps_epoch_us(self, count_us: int) -> int:
        """Microseconds since the GPS epoch at which the counter read ``count_us``."""
        return self._require().gps_epoch_us_at(count_us)

    def gps_epoch_us_to_count_us(self, gps_epoch_us: int) -> int:
        """The counter value at ``gps_epoch_us`` (for GPS-epoch timed downlinks)."""
        return self._require().count_us_at_gps(gps_epoch_us)

    def gps_to_count_us(self, gps_epoch_us: int) -> int | None:
        """``gps_epoch_us_to_count_us``, or None without a valid reference (GPS_UNLOCKED)."""
        ref = self.snapshot()
        return None if ref is None else ref.count_us_at_gps(gps_epoch_us)

    def utc_to_count_us(self, utc_s: float) -> int:
        """The counter value at Unix time ``utc_s``."""
        ref = self._require()
        return (ref.count_us + round((utc_s - ref.utc_s) * 1e6 * ref.xtal_err)) % COUNTER_MOD

    def rx_times(
        self, count_us: int, system_time_s: float | None = None, ref: TimeRef | None = None
    ) -> RxTimes:
        """``gw_time`` and ``time_since_gps_epoch`` of a packet: GPS when locked, else the clock.
        ``ref``: a ``snapshot()`` taken once for the whole batch (default: one taken now)."""
        ref = ref or self.snapshot()
        if ref is not None:
            return RxTimes(
                gw_time_s=ref.utc_at(count_us),
                time_since_gps_epoch_s=ref.gps_epoch_us_at(count_us) / 1e6,
                source="gps",
            )
        now = time.time() if system_time_s is None else system_time_s
        return RxTimes(gw_time_s=now, time_since_gps_epoch_s=None, source="system")


@dataclass(frozen=True)
class RxTimes:
    """Timestamps of one uplink."""

    gw_time_s: float
    time_since_gps_epoch_s: float | None
    source: str  # "gps" | "system"


@dataclass(frozen=True)
class Location:
    """The receiver's position."""

    latitude: float
    longitude: float
    altitude_m: float
    satellites: int


class GpsReader:
    """Reads a GPS receiver (serial path or ``gpsd://host:port``) and keeps time and location.

    ``read_pps_count_us`` returns the concentrator's PPS-latched counter in µs; it is called
    after each valid NAV-TIMEGPS (or gpsd TPV) to feed ``reference``.
    """

    def __init__(
        self,
        source: str,
        *,
        read_pps_count_us: Callable[[], int] | None = None,
        reference: GpsTimeReference | None = None,
        serial_factory: Callable[[str], Any] | None = None,
    ) -> None:
        self.source = source
        self.reference = reference or GpsTimeReference()
        self.read_pps_count_us = read_pps_count_us
        self.location: Location | None = None
        self.last_rmc: Rmc | None = None
        self.fix = False
        #: messages handled (NMEA sentences, UBX frames, gpsd objects)
        self.messages = 0
        #: why the reader thread ended (None while it runs or before it started)
        self.error: str | None = None
        self._parser = GpsStreamParser()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._gpsd: _GpsdClient | None = None
        self._port: Any = None
        if source.startswith("gpsd://"):
            self._gpsd = _GpsdClient(source)
        else:
            factory = serial_factory or _open_serial
            self._port = factory(source)
            self._port.write(cfg_msg_enable_timegps())

    def poll_once(self) -> int:
        """Read what the receiver sent and apply it; returns the number of messages handled."""
        if self._gpsd is not None:
            messages = self._gpsd.read_messages()
            for message in messages:
                self._apply_gpsd(message)
            self.messages += len(messages)
            return len(messages)
        try:
            data = self._port.read(self._port.in_waiting or 1)
        except OSError as exc:
            raise SensorError(f"GPS {self.source}: {exc}") from exc
        received = self._parser.feed(data) if data else []
        for item in received:
            self._apply(item)
        self.messages += len(received)
        return len(received)

    def _apply(self, message: object) -> None:
        if isinstance(message, Rmc):
            self.last_rmc = message
            self.fix = message.valid
        elif isinstance(message, Gga):
            if message.fix_quality > 0 and message.latitude is not None:
                self.location = Location(
                    message.latitude,
                    message.longitude or 0.0,
                    message.altitude_m or 0.0,
                    message.satellites,
                )
        elif isinstance(message, NavTimeGps) and message.valid:
            rmc = self.last_rmc
            if rmc is not None and rmc.valid:
                utc_s = rmc.utc.timestamp()
            else:  # UTC from GPS time and the receiver's leap seconds
                utc_s = message.gps_time_s + GPS_EPOCH_UNIX_S - message.leap_s
            self._sync(utc_s, message.gps_time_s)

    def _apply_gpsd(self, message: dict[str, Any]) -> None:
        if message.get("class") == "TPV":
            self.fix = int(message.get("mode", 0)) >= 2
            if self.fix and "lat" in message and "lon" in message:
                altitude = message.get("altHAE", message.get("alt", 0.0))
                satellites = self.location.satellites if self.location else 0
                self.location = Location(message["lat"], message["lon"], altitude, satellites)
            if self.fix and "time" in message:
                utc = datetime.fromisoformat(message["time"].replace("Z", "+00:00"))
                leap_s = int(message.get("leapseconds", 18))
                utc_s = utc.astimezone(UTC).timestamp()
                self._sync(utc_s, utc_s - GPS_EPOCH_UNIX_S + leap_s)
        elif message.get("class") == "SKY" and self.location is not None:
            used = message.get("uSat")
            if used is None:
                used = sum(1 for sat in message.get("satellites", []) if sat.get("used"))
            self.location = Location(
                self.location.latitude, self.location.longitude, self.location.altitude_m, used
            )

    def _sync(self, utc_s: float, gps_time_s: float) -> None:
        if self.read_pps_count_us is None:
            return
        try:
            count_us = self.read_pps_count_us()
        except Exception as exc:  # the chip side failed; time sync waits for the next second
            LOGGER.warning("reading the PPS-latched counter failed: %s", exc)
            return
        self.reference.sync(count_us, utc_s, gps_time_s)

    def start(self) -> None:
        """Run ``poll_once`` in a daemon thread until ``close``."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="gps", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except SensorError as exc:
                LOGGER.warning("%s", exc)
                self._stop.wait(1.0)
            except Exception as exc:  # unexpected: the thread ends, its owner restarts it
                self.error = f"{type(exc).__name__}: {exc}"
                LOGGER.exception("GPS reader %s died", self.source)
                return

    @property
    def alive(self) -> bool:
        """True while the reader thread runs."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def close(self) -> None:
        """Stop the thread and close the device. Idempotent."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        if self._port is not None:
            self._port.close()
            self._port = None
        if self._gpsd is not None:
            self._gpsd.close()
            self._gpsd = None


def _open_serial(path: str) -> Any:
    import serial  # lazy: pyserial is only needed when a GPS is configured

    try:
        return serial.serial_for_url(path, baudrate=GPS_BAUDRATE, timeout=0.2)
    except serial.SerialException as exc:
        raise SensorError(f"cannot open GPS {path}: {exc}") from exc


class _GpsdClient:
    """gpsd's JSON protocol: ``?WATCH``, then one JSON object per line (TPV, SKY, ...)."""

    def __init__(self, url: str, timeout_s: float = 0.5) -> None:
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 2947
        try:
            self._sock: socket.socket | None = socket.create_connection((host, port), timeout=2)
            self._sock.settimeout(timeout_s)
            self._sock.sendall(b'?WATCH={"enable":true,"json":true};\n')
        except OSError as exc:
            raise SensorError(f"cannot reach gpsd at {host}:{port}: {exc}") from exc
        self._buffer = b""

    def read_messages(self) -> list[dict[str, Any]]:
        """The complete JSON objects received so far."""
        if self._sock is None:
            return []
        try:
            data = self._sock.recv(4096)
        except TimeoutError:
            return []
        except OSError as exc:
            raise SensorError(f"gpsd connection failed: {exc}") from exc
        if not data:
            raise SensorError("gpsd closed the connection")
        self._buffer = (self._buffer + data)[-65536:]
        *lines, self._buffer = self._buffer.split(b"\n")
        out = []
        for line in lines:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if isinstance(message, dict):
                out.append(message)
        return out

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
