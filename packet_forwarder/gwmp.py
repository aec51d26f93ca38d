"""Semtech UDP packet-forwarder protocol (GWMP, PROTOCOL.TXT version 2): datagrams and JSON.

Datagram = version (1) | random token (2) | identifier (1) | [gateway EUI (8, big-endian)] | [JSON].
PUSH_DATA, PULL_DATA and TX_ACK carry the gateway EUI; PUSH_DATA, PULL_RESP and TX_ACK carry JSON
(TX_ACK's is optional: empty means success). Here the token is the two bytes read big-endian.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

from construct import ConstructError, Int8ul, Int16ub, Int64ub, Struct

from packet_forwarder.errors import GwmpError
from packet_forwarder.model import (
    COUNT_US_MASK,
    CrcStatus,
    DownlinkRequest,
    GatewayStats,
    Modulation,
    Timing,
    TxStatus,
    Uplink,
)

PROTOCOL_VERSION = 2
#: versions we accept on input (version 1 differs only in fields we do not use)
ACCEPTED_VERSIONS = frozenset({1, 2})

_HEADER = Struct("version" / Int8ul, "token" / Int16ub, "identifier" / Int8ul)
_EUI = Int64ub
HEADER_SIZE = 4
EUI_SIZE = 8


class Identifier(IntEnum):
    """GWMP datagram identifiers (byte 3)."""

    PUSH_DATA = 0x00
    PUSH_ACK = 0x01
    PULL_DATA = 0x02
    PULL_RESP = 0x03
    PULL_ACK = 0x04
    TX_ACK = 0x05


def _header(token: int, identifier: Identifier, version: int) -> bytes:
    return _HEADER.build({"version": version, "token": token, "identifier": int(identifier)})


def _json_bytes(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        obj = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise GwmpError(f"{what}: JSON payload is not valid: {exc}") from exc
    if not isinstance(obj, dict):
        raise GwmpError(f"{what}: JSON payload must be an object")
    return obj


@dataclass(frozen=True, slots=True)
class PushData:
    """Gateway → server: received packets (``rxpk``) and/or status (``stat``)."""

    token: int
    gateway_eui: int
    payload: dict[str, Any] = field(default_factory=dict)
    version: int = PROTOCOL_VERSION

    def to_bytes(self) -> bytes:
        """Encode the datagram."""
        head = _header(self.token, Identifier.PUSH_DATA, self.version)
        return head + _EUI.build(self.gateway_eui) + _json_bytes(self.payload)


@dataclass(frozen=True, slots=True)
class PushAck:
    """Server → gateway: PUSH_DATA received."""

    token: int
    version: int = PROTOCOL_VERSION

    def to_bytes(self) -> bytes:
        """Encode the datagram."""
        return _header(self.token, Identifier.PUSH_ACK, self.version)


@dataclass(frozen=True, slots=True)
class PullData:
    """Gateway → server: keep-alive that opens the downlink path."""

    token: int
    gateway_eui: int
    version: int = PROTOCOL_VERSION

    def to_bytes(self) -> bytes:
        """Encode the datagram."""
        return _header(self.token, Identifier.PULL_DATA, self.version) + _EUI.build(
            self.gateway_eui
        )


@dataclass(frozen=True, slots=True)
class PullAck:
    """Server → gateway: PULL_DATA received."""

    token: int
    version: int = PROTOCOL_VERSION

    def to_bytes(self) -> bytes:
        """Encode the datagram."""
        return _header(self.token, Identifier.PULL_ACK, self.version)


@dataclass(frozen=True, slots=True)
class PullResp:
    """Server → gateway: one downlink (``txpk``)."""

    token: int
    payload: dict[str, Any] = field(default_factory=dict)
    version: int = PROTOCOL_VERSION

    def to_bytes(self) -> bytes:
        """Encode the datagram."""
        return _header(self.token, Identifier.PULL_RESP, self.version) + _json_bytes(self.payload)


@dataclass(frozen=True, slots=True)
class TxAck:
    """Gateway → server: outcome of a PULL_RESP (same token); no payload means success."""

    token: int
    gateway_eui: int
    payload: dict[str, Any] | None = None
    version: int = PROTOCOL_VERSION

    def to_bytes(self) -> bytes:
        """Encode the datagram."""
        head = _header(self.token, Identifier.TX_ACK, self.version) + _EUI.build(self.gateway_eui)
        return head + (_json_bytes(self.payload) if self.payload is not None else b"")


Datagram = PushData | PushAck | PullData | PullAck | PullResp | TxAck


def parse_datagram(data: bytes) -> Datagram:
    """Decode any GWMP datagram; GwmpError if it is malformed."""
    if len(data) < HEADER_SIZE:
        raise GwmpError(f"datagram too short: {len(data)} bytes")
    try:
        head = _HEADER.parse(data[:HEADER_SIZE])
    except ConstructError as exc:  # pragma: no cover - 4 bytes always parse
        raise GwmpError(str(exc)) from exc
    if head.version not in ACCEPTED_VERSIONS:
        raise GwmpError(f"unsupported protocol version {head.version}")
    try:
        ident = Identifier(head.identifier)
    except ValueError as exc:
        raise GwmpError(f"unknown identifier {head.identifier:#04x}") from exc
    token, version, body = head.token, head.version, data[HEADER_SIZE:]
    if ident in (Identifier.PUSH_ACK, Identifier.PULL_ACK):
        cls = PushAck if ident is Identifier.PUSH_ACK else PullAck
        return cls(token, version=version)
    if ident is Identifier.PULL_RESP:
        return PullResp(token, _json_object(body, ident.name), version=version)
    if len(body) < EUI_SIZE:
        raise GwmpError(f"{ident.name}: gateway EUI missing ({len(body)} bytes)")
    eui, rest = _EUI.parse(body[:EUI_SIZE]), body[EUI_SIZE:]
    if ident is Identifier.PULL_DATA:
        return PullData(token, eui, version=version)
    if ident is Identifier.PUSH_DATA:
        return PushData(token, eui, _json_object(rest, ident.name), version=version)
    payload = _json_object(rest, ident.name) if rest.strip(b"\x00 ") else None
    return TxAck(token, eui, payload, version=version)


_STAT_CODE = {CrcStatus.OK: 1, CrcStatus.BAD: -1, CrcStatus.NONE: 0}


def format_time_us(epoch_s: float) -> str:
    """UTC time as compact ISO 8601 with microseconds, e.g. 2013-03-31T16:21:17.528002Z."""
    total_us = round(epoch_s * 1_000_000)
    seconds, micros = divmod(total_us, 1_000_000)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{micros:06d}Z"


def datarate_string(sf: int, bandwidth_hz: int) -> str:
    """LoRa datarate identifier, e.g. SF7BW125."""
    return f"SF{sf}BW{bandwidth_hz // 1000}"


def uplink_to_rxpk(uplink: Uplink) -> dict[str, Any]:
    """One ``rxpk`` object for an uplink (lora_pkt_fwd field order and rounding)."""
    rxpk: dict[str, Any] = {
        "time": format_time_us(uplink.gw_time),
        "tmst": uplink.count_us,
    }
    if uplink.time_since_gps_epoch is not None:
        rxpk["tmms"] = round(uplink.time_since_gps_epoch * 1000)
    if uplink.fine_timestamp_ns is not None:
        rxpk["ftime"] = uplink.fine_timestamp_ns
    rxpk.update(
        chan=uplink.channel,
        rfch=uplink.rf_chain,
        freq=round(uplink.freq_hz / 1e6, 6),
    )
    if uplink.modem_id is not None:
        rxpk["mid"] = uplink.modem_id
    rxpk["stat"] = _STAT_CODE[uplink.crc_status]
    if uplink.modulation is Modulation.LORA:
        rxpk.update(
            modu="LORA",
            datr=datarate_string(uplink.sf, uplink.bandwidth_hz),
            codr=uplink.code_rate,
        )
        if uplink.rssi_sig_dbm is not None:
            rxpk["rssis"] = round(uplink.rssi_sig_dbm)
        rxpk["lsnr"] = round(uplink.snr_db, 1)
        if uplink.freq_offset_hz is not None:
            rxpk["foff"] = uplink.freq_offset_hz
    else:
        rxpk.update(modu="FSK", datr=uplink.datarate_bps)
    rxpk.update(
        rssi=round(uplink.rssi_dbm),
        size=len(uplink.phy_payload),
        data=base64.b64encode(uplink.phy_payload).decode(),
    )
    return rxpk


def stats_to_stat(
    stats: GatewayStats,
    *,
    time_s: float,
    rx_forwarded: int | None = None,
    ack_ratio_pct: float = 0.0,
    temperature_c: float | None = None,
    location: tuple[float, float, int] | None = None,
) -> dict[str, Any]:
    """The ``stat`` object for one stats interval (rxfw defaults to rxnb)."""
    stat: dict[str, Any] = {
        "time": datetime.fromtimestamp(math.floor(time_s), UTC).strftime("%Y-%m-%d %H:%M:%S GMT")
    }
    if location is not None:
        stat.update(lati=round(location[0], 5), long=round(location[1], 5), alti=location[2])
    stat.update(
        rxnb=stats.rx_packets_received,
        rxok=stats.rx_packets_received_ok,
        rxfw=stats.rx_packets_received if rx_forwarded is None else rx_forwarded,
        ackr=round(ack_ratio_pct, 1),
        dwnb=stats.tx_packets_received,
        txnb=stats.tx_packets_emitted,
    )
    if temperature_c is not None:
        stat["temp"] = round(temperature_c, 1)
    return stat


_LORA_DATR = re.compile(r"^SF(\d{1,2})BW(\d{2,3})$")
_CODE_RATES = frozenset({"4/5", "4/6", "4/7", "4/8"})
#: protocol defaults when ``prea`` is absent, and the minimum lora_pkt_fwd accepts
_PREAMBLE = {Modulation.LORA: (8, 6), Modulation.FSK: (5, 3)}


def _require(txpk: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    value = txpk.get(key)
    if value is None:
        raise GwmpError(f"txpk: '{key}' is required")
    if isinstance(value, bool) or not isinstance(value, kind):
        raise GwmpError(f"txpk: '{key}' has the wrong type: {value!r}")
    return value


def _decode_data(txpk: dict[str, Any]) -> bytes:
    text = _require(txpk, "data", str)
    try:
        payload = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except binascii.Error as exc:
        raise GwmpError(f"txpk: 'data' is not base64: {exc}") from exc
    if "size" in txpk and txpk["size"] != len(payload):
        raise GwmpError(f"txpk: size {txpk['size']} but data holds {len(payload)} bytes")
    return payload


def _timing(txpk: dict[str, Any]) -> dict[str, Any]:
    if txpk.get("imme") is True:
        return {"timing": Timing.IMMEDIATELY}
    if "tmst" in txpk:
        tmst = _require(txpk, "tmst", int)
        if not 0 <= tmst <= COUNT_US_MASK:
            raise GwmpError(f"txpk: tmst must be a 32-bit counter value, got {tmst}")
        # a bare 4-byte count_us context (no session id): parse_context returns session None
        return {"timing": Timing.DELAY, "context": tmst.to_bytes(4, "big"), "delay_us": 0}
    if "tmms" in txpk:
        return {"timing": Timing.GPS_EPOCH, "gps_epoch_us": _require(txpk, "tmms", int) * 1000}
    raise GwmpError("txpk: one of 'imme', 'tmst' or 'tmms' is required")


def txpk_to_downlink(txpk: dict[str, Any], downlink_id: int) -> DownlinkRequest:
    """Turn a PULL_RESP ``txpk`` into a DownlinkRequest; GwmpError if it is malformed."""
    if txpk.get("nhdr") is True:
        raise GwmpError("txpk: implicit-header downlinks ('nhdr') are not supported")
    modu = _require(txpk, "modu", str)
    try:
        modulation = Modulation(modu)
    except ValueError as exc:
        raise GwmpError(f"txpk: unknown modulation {modu!r}") from exc
    default_preamble, min_preamble = _PREAMBLE[modulation]
    preamble = txpk.get("prea", default_preamble)
    if not isinstance(preamble, int) or preamble < min_preamble:
        raise GwmpError(f"txpk: preamble must be an integer >= {min_preamble}, got {preamble!r}")
    fields: dict[str, Any] = {
        "downlink_id": downlink_id,
        "phy_payload": _decode_data(txpk),
        "freq_hz": round(_require(txpk, "freq", (int, float)) * 1e6),
        "power_dbm": float(_require(txpk, "powe", (int, float))),
        "modulation": modulation,
        "iq_inverted": bool(txpk.get("ipol", False)),
        "preamble": preamble,
        "no_crc": bool(txpk.get("ncrc", False)),
        "board": int(txpk.get("brd", 0)),
        "antenna": int(txpk.get("ant", 0)),
        **_timing(txpk),
    }
    if modulation is Modulation.LORA:
        match = _LORA_DATR.match(_require(txpk, "datr", str))
        if not match:
            raise GwmpError(f"txpk: LoRa datr must look like SF7BW125, got {txpk['datr']!r}")
        codr = _require(txpk, "codr", str)
        if codr not in _CODE_RATES:
            raise GwmpError(f"txpk: codr must be one of {sorted(_CODE_RATES)}, got {codr!r}")
        fields.update(
            sf=int(match.group(1)), bandwidth_hz=int(match.group(2)) * 1000, code_rate=codr
        )
    else:
        fields.update(
            datarate_bps=_require(txpk, "datr", int),
            freq_deviation_hz=_require(txpk, "fdev", int),
        )
    return DownlinkRequest(**fields)


def txpk_ack(status: TxStatus, *, power_dbm: float | None = None) -> dict[str, Any]:
    """The TX_ACK JSON: ``error`` NONE on success, else the status name.

    TX_POWER with ``power_dbm`` means "sent, at this power" (protocol v1.5+ ``warn``); without
    it, the downlink was refused (``error`` TX_POWER, as up to protocol v1.4).
    """
    if status is TxStatus.OK:
        return {"txpk_ack": {"error": "NONE"}}
    if status is TxStatus.TX_POWER and power_dbm is not None:
        return {"txpk_ack": {"warn": "TX_POWER", "value": power_dbm}}
    return {"txpk_ack": {"error": status.value}}
