"""Plain data passed between the radio engine and the daemon. No protobuf, no MQTT here."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import Enum

from packet_forwarder.errors import ContextError

COUNT_US_MASK = 0xFFFF_FFFF


class CrcStatus(Enum):
    """Payload CRC status of a received packet."""

    OK = "ok"
    BAD = "bad"
    NONE = "none"


class Modulation(Enum):
    LORA = "LORA"
    FSK = "FSK"


class TxStatus(Enum):
    """Outcome of one downlink item; names match ChirpStack's ``gw.TxAckStatus``."""

    IGNORED = "IGNORED"
    OK = "OK"
    TOO_LATE = "TOO_LATE"
    TOO_EARLY = "TOO_EARLY"
    COLLISION_PACKET = "COLLISION_PACKET"
    COLLISION_BEACON = "COLLISION_BEACON"
    TX_FREQ = "TX_FREQ"
    TX_POWER = "TX_POWER"
    GPS_UNLOCKED = "GPS_UNLOCKED"
    QUEUE_FULL = "QUEUE_FULL"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    DUTY_CYCLE_OVERFLOW = "DUTY_CYCLE_OVERFLOW"


@dataclass(frozen=True, slots=True)
class Uplink:
    """One received radio packet, in physical units."""

    phy_payload: bytes
    freq_hz: int
    modulation: Modulation
    bandwidth_hz: int
    #: spreading factor (LoRa); 0 for FSK
    sf: int
    #: "4/5" … "4/8" (LoRa); "" for FSK
    code_rate: str
    #: channel RSSI in dBm, with the board offset and temperature compensation applied
    rssi_dbm: float
    snr_db: float
    #: IF chain that received it (0..7 multi-SF, 8 LoRa service, 9 FSK)
    channel: int
    rf_chain: int
    crc_status: CrcStatus
    #: 32-bit concentrator counter in µs at reception (wrap-extended, decoder delay corrected)
    count_us: int
    #: concentrator session that produced ``count_us`` (changes at every concentrator start)
    session_id: int
    #: reception time, seconds since the Unix epoch (GPS when locked, else the system clock)
    gw_time: float
    rssi_sig_dbm: float | None = None
    freq_offset_hz: int | None = None
    modem_id: int | None = None
    #: FSK bit rate in bit/s; None for LoRa
    datarate_bps: int | None = None
    #: seconds since the GPS epoch, only while GPS time is locked
    time_since_gps_epoch: float | None = None
    #: nanoseconds since the last PPS (SX1303 fine timestamp), when available
    fine_timestamp_ns: int | None = None

    @property
    def context(self) -> bytes:
        """The opaque context echoed by the network server on Class A downlinks."""
        return make_context(self.count_us, self.session_id)


#: context = count_us (u32 big-endian, what ChirpStack tools expect first) + session id (u32 BE)
CONTEXT_FORMAT = ">II"
CONTEXT_LENGTH = struct.calcsize(CONTEXT_FORMAT)


def make_context(count_us: int, session_id: int) -> bytes:
    """Encode the uplink context: 4-byte big-endian count_us, then 4-byte session id."""
    return struct.pack(CONTEXT_FORMAT, count_us & COUNT_US_MASK, session_id & 0xFFFF_FFFF)


def parse_context(context: bytes) -> tuple[int, int | None]:
    """Return (count_us, session_id); session_id is None for a bare 4-byte legacy context."""
    if len(context) == 4:
        return struct.unpack(">I", context)[0], None
    if len(context) != CONTEXT_LENGTH:
        raise ContextError(f"context must be 4 or {CONTEXT_LENGTH} bytes, got {len(context)}")
    count_us, session_id = struct.unpack(CONTEXT_FORMAT, context)
    return count_us, session_id


class Timing(Enum):
    IMMEDIATELY = "immediately"
    DELAY = "delay"
    GPS_EPOCH = "gps_epoch"


@dataclass(frozen=True, slots=True)
class DownlinkRequest:
    """One item of a network server's downlink frame, in physical units."""

    downlink_id: int
    phy_payload: bytes
    freq_hz: int
    #: requested EIRP in dBm (antenna gain is subtracted before the TX gain table lookup)
    power_dbm: float
    modulation: Modulation
    timing: Timing
    bandwidth_hz: int = 125_000
    sf: int = 7
    code_rate: str = "4/5"
    iq_inverted: bool = True
    preamble: int = 0
    no_crc: bool = True
    datarate_bps: int | None = None
    freq_deviation_hz: int | None = None
    #: Timing.DELAY: the uplink context and the delay after it
    context: bytes = b""
    delay_us: int = 0
    #: Timing.GPS_EPOCH: µs since the GPS epoch
    gps_epoch_us: int | None = None
    board: int = 0
    antenna: int = 0


@dataclass(frozen=True, slots=True)
class TxAck:
    """The answer to one downlink frame: one status per item, in request order."""

    downlink_id: int
    statuses: tuple[TxStatus, ...]


@dataclass(slots=True)
class GatewayStats:
    """Counters for one stats interval (reset after each report)."""

    rx_packets_received: int = 0
    rx_packets_received_ok: int = 0
    tx_packets_received: int = 0
    tx_packets_emitted: int = 0
    #: CRC_OK packets per frequency and per modulation key (as concentratord counts them)
    rx_packets_per_frequency: dict[int, int] = field(default_factory=dict)
    rx_packets_per_modulation: dict[str, int] = field(default_factory=dict)
    tx_packets_per_frequency: dict[int, int] = field(default_factory=dict)
    tx_packets_per_status: dict[str, int] = field(default_factory=dict)
    #: emitted packets per modulation key ('LORA/SF7/BW125000/4/5', 'FSK/50000')
    tx_packets_per_modulation: dict[str, int] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    #: where the gateway location of this report comes from: "GPS" (a fix) or "CONFIG"
    location_source: str = "CONFIG"
