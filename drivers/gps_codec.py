"""GPS receiver messages: NMEA RMC/GGA with checksum, UBX framing with the Fletcher checksum.

Parsers do no I/O. ``GpsStreamParser`` takes the bytes of a serial stream in which u-blox
receivers interleave NMEA text and UBX binary and returns whole messages (ref/sx1302.md §10,
sx1302_hal loragw_gps.c: RMC 13 fields with mode A/D, GGA 15 fields, NAV-TIMEGPS 0x01/0x20).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import UTC, datetime

UBX_SYNC = b"\xb5\x62"
UBX_NAV = 0x01
UBX_NAV_TIMEGPS = 0x20
UBX_CFG = 0x06
UBX_CFG_MSG = 0x01
MAX_BUFFER = 4096
MAX_NMEA = 120  # NMEA 0183 allows 82 characters; some receivers go slightly over


@dataclass(frozen=True)
class Rmc:
    """Recommended minimum: UTC time and validity."""

    utc: datetime
    valid: bool
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True)
class Gga:
    """Fix data: position, altitude, satellites."""

    fix_quality: int
    satellites: int
    latitude: float | None
    longitude: float | None
    altitude_m: float | None


@dataclass(frozen=True)
class UbxMessage:
    """One UBX frame."""

    msg_class: int
    msg_id: int
    payload: bytes

    def to_bytes(self) -> bytes:
        """The framed message with its checksum."""
        body = struct.pack("<BBH", self.msg_class, self.msg_id, len(self.payload)) + self.payload
        return UBX_SYNC + body + bytes(fletcher8(body))


@dataclass(frozen=True)
class NavTimeGps:
    """UBX NAV-TIMEGPS: GPS week and time of week."""

    itow_ms: int
    ftow_ns: int
    week: int
    leap_s: int
    valid_flags: int
    t_acc_ns: int

    @property
    def valid(self) -> bool:
        """Time of week and week number both valid (bits 0 and 1)."""
        return self.valid_flags & 0x03 == 0x03

    @property
    def gps_time_s(self) -> float:
        """Seconds since the GPS epoch (1980-01-06 00:00:00 UTC)."""
        return self.week * 604800 + self.itow_ms / 1e3 + self.ftow_ns / 1e9

    @classmethod
    def from_bytes(cls, payload: bytes) -> NavTimeGps:
        """Decode the 16-byte payload."""
        if len(payload) != 16:
            raise ValueError(f"NAV-TIMEGPS payload has {len(payload)} bytes, expected 16")
        return cls(*struct.unpack("<IihbBI", payload))

    def to_bytes(self) -> bytes:
        """The 16-byte payload."""
        return struct.pack(
            "<IihbBI",
            self.itow_ms,
            self.ftow_ns,
            self.week,
            self.leap_s,
            self.valid_flags,
            self.t_acc_ns,
        )


def fletcher8(data: bytes) -> tuple[int, int]:
    """The UBX checksum (8-bit Fletcher over class, id, length and payload)."""
    ck_a = ck_b = 0
    for byte in data:
        ck_a = (ck_a + byte) & 0xFF
        ck_b = (ck_b + ck_a) & 0xFF
    return ck_a, ck_b


def cfg_msg_enable_timegps() -> bytes:
    """CFG-MSG: NAV-TIMEGPS once per solution on UART1 and UART2 (what loragw_gps.c sends)."""
    rates = bytes((0, 1, 1, 0, 0, 0))  # I2C, UART1, UART2, USB, SPI, reserved
    return UbxMessage(UBX_CFG, UBX_CFG_MSG, bytes((UBX_NAV, UBX_NAV_TIMEGPS)) + rates).to_bytes()


def nmea_checksum(body: str) -> int:
    """XOR of the characters between ``$`` and ``*``."""
    value = 0
    for char in body.encode("ascii"):
        value ^= char
    return value


def nmea_sentence(body: str) -> bytes:
    """``$body*CS\\r\\n`` (for simulators and tests)."""
    return f"${body}*{nmea_checksum(body):02X}\r\n".encode("ascii")


def _coordinate(value: str, hemisphere: str) -> float | None:
    if not value or not hemisphere:
        return None
    dot = value.index(".") if "." in value else len(value)
    degrees = float(value[: dot - 2]) + float(value[dot - 2 :]) / 60.0
    return -degrees if hemisphere in ("S", "W") else degrees


def _optional_float(value: str) -> float | None:
    return float(value) if value else None


def parse_nmea(line: str) -> Rmc | Gga | None:
    """RMC or GGA from one sentence; None for other or malformed sentences and bad checksums."""
    line = line.strip()
    if not line.startswith("$") or "*" not in line:
        return None
    body, _, checksum = line[1:].partition("*")
    try:
        if int(checksum[:2], 16) != nmea_checksum(body):
            return None
    except (ValueError, UnicodeEncodeError):
        return None
    fields = body.split(",")
    kind = fields[0][2:]
    try:
        if kind == "RMC" and len(fields) >= 13:
            hms, date = fields[1], fields[9]
            utc = datetime.strptime(date + hms.split(".")[0], "%d%m%y%H%M%S").replace(tzinfo=UTC)
            if "." in hms:
                utc = utc.replace(microsecond=round(float("0." + hms.split(".")[1]) * 1e6))
            return Rmc(
                utc=utc,
                valid=fields[2] == "A" and fields[12][:1] in ("A", "D"),
                latitude=_coordinate(fields[3], fields[4]),
                longitude=_coordinate(fields[5], fields[6]),
            )
        if kind == "GGA" and len(fields) >= 15:
            return Gga(
                fix_quality=int(fields[6] or 0),
                satellites=int(fields[7] or 0),
                latitude=_coordinate(fields[2], fields[3]),
                longitude=_coordinate(fields[4], fields[5]),
                altitude_m=_optional_float(fields[9]),
            )
    except ValueError:
        return None
    return None


class GpsStreamParser:
    """Splits a byte stream into NMEA sentences and UBX frames; the buffer is capped."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        #: frames and sentences dropped for bad checksums or garbage
        self.errors = 0

    def feed(self, data: bytes) -> list[Rmc | Gga | UbxMessage | NavTimeGps]:
        """Add bytes; return every complete message they finish (NAV-TIMEGPS decoded)."""
        self._buffer += data
        out: list[Rmc | Gga | UbxMessage | NavTimeGps] = []
        while True:
            consumed, message = self._next()
            if consumed == 0:
                break
            del self._buffer[:consumed]
            if message is not None:
                out.append(message)
        if len(self._buffer) > MAX_BUFFER:
            self.errors += 1
            del self._buffer[:-MAX_BUFFER]
        return out

    def _next(self) -> tuple[int, Rmc | Gga | UbxMessage | NavTimeGps | None]:
        buf = self._buffer
        starts = [i for i in (buf.find(b"$"), buf.find(UBX_SYNC)) if i >= 0]
        if not starts:
            keep = 1 if buf.endswith(UBX_SYNC[:1]) else 0
            return len(buf) - keep, None
        start = min(starts)
        if start:
            return start, None  # skip garbage before a message start
        if buf[:1] == b"$":
            end = buf.find(b"\n")
            if end < 0:
                return (1, None) if len(buf) > MAX_NMEA else (0, None)
            message = parse_nmea(buf[: end + 1].decode("ascii", errors="replace"))
            return end + 1, message
        if len(buf) < 8:
            return 0, None
        length = struct.unpack_from("<H", buf, 4)[0]
        if length > MAX_BUFFER - 8:
            self.errors += 1
            return 2, None
        if len(buf) < 8 + length:
            return 0, None
        body = bytes(buf[2 : 6 + length])
        if bytes(fletcher8(body)) != bytes(buf[6 + length : 8 + length]):
            self.errors += 1
            return 2, None  # resynchronise after the sync bytes
        ubx = UbxMessage(body[0], body[1], body[4:])
        if (ubx.msg_class, ubx.msg_id) == (UBX_NAV, UBX_NAV_TIMEGPS):
            try:
                return 8 + length, NavTimeGps.from_bytes(ubx.payload)
            except ValueError:
                self.errors += 1
        return 8 + length, ubx
