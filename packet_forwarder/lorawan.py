"""The LoRaWAN PHY header, parsed with ``construct`` for logs and filters (no crypto, no MIC check).

PHYPayload = MHDR (1) | MACPayload | MIC (4) (LoRaWAN 1.0.x / 1.1 §4). Multi-byte fields are
little-endian on the air; DevAddr and EUIs are shown big-endian, as network servers do.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from construct import (
    BitsInteger,
    BitStruct,
    Bytes,
    ConstructError,
    Flag,
    GreedyBytes,
    Int8ul,
    Int16ul,
    Int24ul,
    Int32ul,
    Int64ul,
    Optional,
    Struct,
    this,
)

from packet_forwarder.errors import PhyError

MIC_SIZE = 4
DEV_ADDR_BITS = 32
EUI_BITS = 64


class MType(IntEnum):
    """Message type, MHDR bits 7..5."""

    JOIN_REQUEST = 0
    JOIN_ACCEPT = 1
    UNCONFIRMED_DATA_UP = 2
    UNCONFIRMED_DATA_DOWN = 3
    CONFIRMED_DATA_UP = 4
    CONFIRMED_DATA_DOWN = 5
    REJOIN_REQUEST = 6
    PROPRIETARY = 7


DATA_MTYPES = frozenset(
    {
        MType.UNCONFIRMED_DATA_UP,
        MType.UNCONFIRMED_DATA_DOWN,
        MType.CONFIRMED_DATA_UP,
        MType.CONFIRMED_DATA_DOWN,
    }
)
UPLINK_MTYPES = frozenset(
    {
        MType.JOIN_REQUEST,
        MType.UNCONFIRMED_DATA_UP,
        MType.CONFIRMED_DATA_UP,
        MType.REJOIN_REQUEST,
    }
)

_MHDR = BitStruct("mtype" / BitsInteger(3), "rfu" / BitsInteger(3), "major" / BitsInteger(2))
# bit 6 is ADRACKReq on uplinks (RFU down), bit 4 FPending on downlinks (ClassB up, 1.0.2+)
_FCTRL = BitStruct(
    "adr" / Flag,
    "adr_ack_req" / Flag,
    "ack" / Flag,
    "fpending" / Flag,
    "fopts_len" / BitsInteger(4),
)
_DATA = Struct(
    "dev_addr" / Int32ul,
    "fctrl" / _FCTRL,
    "fcnt" / Int16ul,
    "fopts" / Bytes(this.fctrl.fopts_len),
    "fport" / Optional(Int8ul),
    "frm_payload" / GreedyBytes,
)
_JOIN_REQUEST = Struct("join_eui" / Int64ul, "dev_eui" / Int64ul, "dev_nonce" / Int16ul)
# rejoin type 0 and 2 carry the NetID, type 1 the JoinEUI (LoRaWAN 1.1 §6.2.4)
_REJOIN_0_2 = Struct("net_id" / Int24ul, "dev_eui" / Int64ul, "rj_count" / Int16ul)
_REJOIN_1 = Struct("join_eui" / Int64ul, "dev_eui" / Int64ul, "rj_count" / Int16ul)
_DATA_MIN = 7
_JOIN_REQUEST_SIZE = 18
_REJOIN_SIZES = {0: 14, 1: 19, 2: 14}


@dataclass(frozen=True, slots=True)
class FCtrl:
    """Frame control of a data frame (bit 6 ADRACKReq up; bit 4 ClassB up, FPending down)."""

    adr: bool = False
    adr_ack_req: bool = False
    ack: bool = False
    fpending: bool = False
    fopts_len: int = 0


@dataclass(frozen=True, slots=True)
class PhyHeader:
    """The clear-text header fields of a PHYPayload; what a frame type lacks is None."""

    mtype: MType
    major: int = 0
    mic: bytes = b"\x00" * MIC_SIZE
    rfu: int = 0
    dev_addr: int | None = None
    fctrl: FCtrl | None = None
    #: 16 low bits of the frame counter, as sent
    fcnt: int | None = None
    fopts: bytes = b""
    fport: int | None = None
    frm_payload: bytes = b""
    join_eui: int | None = None
    dev_eui: int | None = None
    dev_nonce: int | None = None
    #: rejoin requests: RejoinType, NetID (types 0/2) and RJcount
    rejoin_type: int | None = None
    net_id: int | None = None
    rj_count: int | None = None
    #: join-accept (encrypted) and proprietary frames: the bytes between MHDR and MIC
    payload: bytes = b""

    @property
    def is_uplink(self) -> bool:
        """True for frame types a device sends."""
        return self.mtype in UPLINK_MTYPES

    @property
    def dev_addr_hex(self) -> str | None:
        """DevAddr as 8 hex digits, most significant first."""
        return None if self.dev_addr is None else f"{self.dev_addr:08x}"

    @property
    def join_eui_hex(self) -> str | None:
        """JoinEUI as 16 hex digits, most significant first."""
        return None if self.join_eui is None else f"{self.join_eui:016x}"

    @property
    def dev_eui_hex(self) -> str | None:
        """DevEUI as 16 hex digits, most significant first."""
        return None if self.dev_eui is None else f"{self.dev_eui:016x}"

    @classmethod
    def from_bytes(cls, phy: bytes) -> PhyHeader:
        """Parse a PHYPayload; PhyError if it is too short or malformed for its MType."""
        if len(phy) < 1 + MIC_SIZE:
            raise PhyError(f"PHYPayload too short: {len(phy)} bytes")
        mhdr = _MHDR.parse(phy[:1])
        mtype = MType(mhdr.mtype)
        mac, mic = phy[1:-MIC_SIZE], phy[-MIC_SIZE:]
        head: dict[str, Any] = {
            "mtype": mtype,
            "major": mhdr.major,
            "rfu": mhdr.rfu,
            "mic": bytes(mic),
        }
        try:
            if mtype in DATA_MTYPES:
                return cls(**head, **_parse_data(mac))
            if mtype is MType.JOIN_REQUEST:
                if len(mac) != _JOIN_REQUEST_SIZE:
                    raise PhyError(f"join request must be 23 bytes, got {len(phy)}")
                body = _JOIN_REQUEST.parse(mac)
                return cls(
                    **head, join_eui=body.join_eui, dev_eui=body.dev_eui, dev_nonce=body.dev_nonce
                )
            if mtype is MType.REJOIN_REQUEST:
                return cls(**head, **_parse_rejoin(mac))
        except ConstructError as exc:
            raise PhyError(f"malformed {mtype.name}: {exc}") from exc
        return cls(**head, payload=bytes(mac))

    def to_bytes(self) -> bytes:
        """Encode the header fields back into a PHYPayload (with the stored MIC)."""
        mhdr = _MHDR.build({"mtype": int(self.mtype), "rfu": self.rfu, "major": self.major})
        if self.mtype in DATA_MTYPES:
            fctrl = self.fctrl or FCtrl(fopts_len=len(self.fopts))
            mac = _DATA.build(
                {
                    "dev_addr": self.dev_addr or 0,
                    "fctrl": {
                        "adr": fctrl.adr,
                        "adr_ack_req": fctrl.adr_ack_req,
                        "ack": fctrl.ack,
                        "fpending": fctrl.fpending,
                        "fopts_len": len(self.fopts),
                    },
                    "fcnt": self.fcnt or 0,
                    "fopts": self.fopts,
                    "fport": self.fport,
                    "frm_payload": self.frm_payload if self.fport is not None else b"",
                }
            )
        elif self.mtype is MType.JOIN_REQUEST:
            mac = _JOIN_REQUEST.build(
                {
                    "join_eui": self.join_eui or 0,
                    "dev_eui": self.dev_eui or 0,
                    "dev_nonce": self.dev_nonce or 0,
                }
            )
        elif self.mtype is MType.REJOIN_REQUEST:
            mac = _build_rejoin(self)
        else:
            mac = self.payload
        return mhdr + mac + self.mic


def _parse_data(mac: bytes) -> dict[str, Any]:
    if len(mac) < _DATA_MIN:
        raise PhyError(f"data frame too short: {len(mac) + 1 + MIC_SIZE} bytes")
    fopts_len = mac[4] & 0x0F
    if len(mac) < _DATA_MIN + fopts_len:
        raise PhyError(f"data frame too short for {fopts_len} bytes of FOpts")
    body = _DATA.parse(mac)
    fctrl = body.fctrl
    return {
        "dev_addr": body.dev_addr,
        "fctrl": FCtrl(fctrl.adr, fctrl.adr_ack_req, fctrl.ack, fctrl.fpending, fctrl.fopts_len),
        "fcnt": body.fcnt,
        "fopts": bytes(body.fopts),
        "fport": body.fport,
        "frm_payload": bytes(body.frm_payload),
    }


def _parse_rejoin(mac: bytes) -> dict[str, Any]:
    rejoin_type = mac[0] if mac else -1
    if rejoin_type not in _REJOIN_SIZES or len(mac) != _REJOIN_SIZES[rejoin_type]:
        raise PhyError(f"malformed rejoin request (type {rejoin_type}, {len(mac)} bytes)")
    if rejoin_type == 1:
        body = _REJOIN_1.parse(mac[1:])
        return {
            "rejoin_type": 1,
            "join_eui": body.join_eui,
            "dev_eui": body.dev_eui,
            "rj_count": body.rj_count,
        }
    body = _REJOIN_0_2.parse(mac[1:])
    return {
        "rejoin_type": rejoin_type,
        "net_id": body.net_id,
        "dev_eui": body.dev_eui,
        "rj_count": body.rj_count,
    }


def _build_rejoin(header: PhyHeader) -> bytes:
    rejoin_type = header.rejoin_type or 0
    common = {"dev_eui": header.dev_eui or 0, "rj_count": header.rj_count or 0}
    if rejoin_type == 1:
        return bytes([1]) + _REJOIN_1.build({"join_eui": header.join_eui or 0, **common})
    return bytes([rejoin_type]) + _REJOIN_0_2.build({"net_id": header.net_id or 0, **common})


def parse_prefix(prefix: str, width_bits: int) -> tuple[int, int]:
    """Parse a "HEX/bits" prefix (ChirpStack forwarder filter syntax) into (value, bits)."""
    text, sep, bits_text = prefix.partition("/")
    try:
        value = int(text, 16)
        bits = int(bits_text) if sep else width_bits
    except ValueError as exc:
        raise ValueError(f"prefix {prefix!r} is not HEX/BITS") from exc
    if len(text) != width_bits // 4 or not 0 <= bits <= width_bits:
        raise ValueError(
            f"prefix {prefix!r} needs {width_bits // 4} hex digits and 0..{width_bits} bits"
        )
    return value, bits


def _matches(value: int, prefix: str, width_bits: int) -> bool:
    expected, bits = parse_prefix(prefix, width_bits)
    shift = width_bits - bits
    return (value >> shift) == (expected >> shift)


def dev_addr_matches(dev_addr: int, prefix: str) -> bool:
    """True if the 32-bit DevAddr starts with the prefix, e.g. "0000ff00/24"."""
    return _matches(dev_addr, prefix, DEV_ADDR_BITS)


def eui_matches(eui: int, prefix: str) -> bool:
    """True if the 64-bit EUI starts with the prefix, e.g. "0000ff0000000000/24"."""
    return _matches(eui, prefix, EUI_BITS)


#: NwkID width of each DevAddr type 0..7 (LoRaWAN Backend Interfaces 1.0 §13: the type is the
#: number of leading 1 bits, then a 0; NwkID follows; type 3 has 11 bits since its errata)
NWK_ID_BITS = (6, 6, 9, 11, 12, 13, 15, 17)
NET_ID_BITS = 24


def dev_addr_type(dev_addr: int) -> int | None:
    """The DevAddr's NetID type (0..7: leading 1 bits before the first 0), None for 0xff......"""
    for net_type in range(8):
        if not (dev_addr >> (DEV_ADDR_BITS - 1 - net_type)) & 1:
            return net_type
    return None


def dev_addr_nwk_id(dev_addr: int) -> tuple[int, int] | None:
    """(type, NwkID) of a DevAddr, or None when its prefix is not a NetID type."""
    net_type = dev_addr_type(dev_addr)
    if net_type is None:
        return None
    bits = NWK_ID_BITS[net_type]
    shift = DEV_ADDR_BITS - (net_type + 1) - bits
    return net_type, (dev_addr >> shift) & ((1 << bits) - 1)


def dev_addr_in_net_id(dev_addr: int, net_id: int) -> bool:
    """True if the DevAddr belongs to the 24-bit NetID: same type, NwkID = the NetID's low bits."""
    parts = dev_addr_nwk_id(dev_addr)
    if parts is None:
        return False
    net_type, nwk_id = parts
    if net_id >> (NET_ID_BITS - 3) != net_type:
        return False
    return nwk_id == net_id & ((1 << NWK_ID_BITS[net_type]) - 1)
