"""ChirpStack v4 ``gw`` messages, protobuf or JSON: uplinks, stats, connection state, downlink
frames (decoded into ``DownlinkRequest``) and their acks. The only module that knows them.

JSON is proto3-JSON with camelCase names: ChirpStack treats a payload as JSON iff it contains
the substring ``gatewayId`` (chirpstack ``gateway/backend/mqtt.rs``), so snake_case would be
mis-read as protobuf.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Mapping
from typing import Any

from chirpstack_api import common, gw
from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message

from packet_forwarder.model import (
    CrcStatus,
    DownlinkRequest,
    GatewayStats,
    Modulation,
    Timing,
    TxAck,
    Uplink,
)

CODE_RATES = {"4/5": gw.CR_4_5, "4/6": gw.CR_4_6, "4/7": gw.CR_4_7, "4/8": gw.CR_4_8}
_CODE_RATE_NAMES = {value: name for name, value in CODE_RATES.items()}
CRC_STATUS = {CrcStatus.OK: gw.CRC_OK, CrcStatus.BAD: gw.BAD_CRC, CrcStatus.NONE: gw.NO_CRC}
BUFFERED_KEY = "buffered"


#: uplink ids only need to be unpredictable enough to tell copies apart, not secret: a PRNG seeded
#: from the OS once, instead of an os.urandom syscall per uplink (this is on the per-packet path)
_UPLINK_IDS = random.Random()


def _set_seconds(target: Any, value: float) -> None:
    """Fill a Timestamp/Duration from float seconds without losing the fraction to rounding."""
    whole = math.floor(value)
    nanos = round((value - whole) * 1e9)
    if nanos >= 1_000_000_000:
        whole, nanos = whole + 1, nanos - 1_000_000_000
    target.seconds, target.nanos = whole, nanos


def uplink_frame(
    uplink: Uplink, gateway_id: str, *, uplink_id: int | None = None
) -> gw.UplinkFrame:
    """Build the ``gw.UplinkFrame`` of one received packet."""
    frame = gw.UplinkFrame(phy_payload=uplink.phy_payload)
    tx = frame.tx_info
    tx.frequency = uplink.freq_hz
    if uplink.modulation is Modulation.LORA:
        lora = tx.modulation.lora
        lora.bandwidth = uplink.bandwidth_hz
        lora.spreading_factor = uplink.sf
        lora.code_rate = CODE_RATES.get(uplink.code_rate, gw.CR_UNDEFINED)
    else:
        tx.modulation.fsk.datarate = uplink.datarate_bps or 0
    rx = frame.rx_info
    rx.gateway_id = gateway_id
    rx.uplink_id = uplink_id if uplink_id is not None else _UPLINK_IDS.getrandbits(32) or 1
    _set_seconds(rx.gw_time, uplink.gw_time)
    if uplink.time_since_gps_epoch is not None:
        _set_seconds(rx.time_since_gps_epoch, uplink.time_since_gps_epoch)
        if uplink.fine_timestamp_ns is not None:
            whole_s = int(uplink.time_since_gps_epoch)
            rx.fine_time_since_gps_epoch.FromNanoseconds(
                whole_s * 1_000_000_000 + uplink.fine_timestamp_ns
            )
    rx.rssi = round(uplink.rssi_dbm)
    rx.snr = uplink.snr_db
    rx.channel = uplink.channel
    rx.rf_chain = uplink.rf_chain
    rx.context = uplink.context
    rx.crc_status = CRC_STATUS[uplink.crc_status]
    return frame


def mark_buffered(payload: bytes) -> bytes:
    """Return the stored ``UplinkFrame`` bytes with ``rx_info.metadata["buffered"] = "true"``.

    Decoded, marked and encoded again: ONE well-formed message. Appending a second encoded
    ``rx_info`` would rely on protobuf's merge of repeated singular message fields, which
    google-protobuf (the JavaScript ``@chirpstack/chirpstack-api``) does not apply: it keeps
    the last ``rx_info`` only, with an empty gateway id and context. ``gw_time`` stays the
    reception time.
    """
    frame = gw.UplinkFrame.FromString(payload)
    frame.rx_info.metadata[BUFFERED_KEY] = "true"
    marked: bytes = frame.SerializeToString()
    return marked


def gateway_stats(
    stats: GatewayStats, gateway_id: str, now: float, location: tuple[float, float, float] | None
) -> gw.GatewayStats:
    """Build ``gw.GatewayStats`` for one stats interval."""
    msg = gw.GatewayStats(
        gateway_id=gateway_id,
        rx_packets_received=stats.rx_packets_received,
        rx_packets_received_ok=stats.rx_packets_received_ok,
        tx_packets_received=stats.tx_packets_received,
        tx_packets_emitted=stats.tx_packets_emitted,
    )
    _set_seconds(msg.time, now)
    msg.rx_packets_per_frequency.update(stats.rx_packets_per_frequency)
    for key, count in stats.rx_packets_per_modulation.items():
        _per_modulation(msg.rx_packets_per_modulation.add(count=count), key)
    msg.tx_packets_per_frequency.update(stats.tx_packets_per_frequency)
    msg.tx_packets_per_status.update(stats.tx_packets_per_status)
    for key, count in stats.tx_packets_per_modulation.items():
        _per_modulation(msg.tx_packets_per_modulation.add(count=count), key)
    msg.metadata.update(stats.metadata)
    if location is not None:
        msg.location.latitude, msg.location.longitude, msg.location.altitude = location
        # common.LocationSource: GPS = 1, CONFIG = 2
        msg.location.source = 1 if stats.location_source == "GPS" else 2
    return msg


def _per_modulation(entry: Any, key: str) -> None:
    """Fill a ``gw.PerModulationCount`` from 'LORA/SF7/BW125000/4/5' or 'FSK/50000'."""
    parts = key.split("/")
    if parts[0] == "LORA":
        lora = entry.modulation.lora
        lora.spreading_factor = int(parts[1].removeprefix("SF"))
        lora.bandwidth = int(parts[2].removeprefix("BW"))
        lora.code_rate = gw.CodeRate.Value(f"CR_{parts[3]}_{parts[4]}")
    else:
        entry.modulation.fsk.datarate = int(parts[1])


def conn_state(gateway_id: str, online: bool) -> gw.ConnState:
    """``gw.ConnState`` ONLINE or OFFLINE."""
    state = gw.ConnState.ONLINE if online else gw.ConnState.OFFLINE
    return gw.ConnState(gateway_id=gateway_id, state=state)


def encode(message: Message, marshaler: str, *, all_fields: bool = False) -> bytes:
    """Serialise ``message`` as protobuf or camelCase proto3-JSON.

    ``all_fields`` prints default values too (``ConnState`` OFFLINE is 0 and would vanish).
    """
    if marshaler == "json":
        text = json_format.MessageToJson(
            message, indent=None, always_print_fields_with_no_presence=all_fields
        )
        return text.encode()
    return message.SerializeToString()


def uplink_payload(payload: bytes, marshaler: str, *, buffered: bool) -> bytes:
    """Wire bytes of a stored protobuf ``UplinkFrame``: marked when buffered, re-marshalled."""
    if buffered:
        payload = mark_buffered(payload)
    if marshaler == "json":
        return encode(gw.UplinkFrame.FromString(payload), "json")
    return payload


def decode(payload: bytes, message: Message) -> Message:
    """Parse protobuf or JSON (``gatewayId`` present, as ChirpStack detects it) into ``message``."""
    if b"gatewayId" in payload:
        return json_format.Parse(payload.decode(), message, ignore_unknown_fields=True)
    message.ParseFromString(payload)
    return message


def metadata_strings(values: Mapping[str, object]) -> dict[str, str]:
    """Stats metadata values as strings (protobuf ``map<string,string>``)."""
    return {key: str(value) for key, value in values.items()}


def fill_duty_cycle(msg: gw.GatewayStats, stats: Any) -> None:
    """Set ``msg.duty_cycle_stats`` from a ``packet_forwarder.dutycycle.DutyCycleStats``."""
    dc = msg.duty_cycle_stats
    if "300_220" in stats.regulation:
        dc.regulation = common.Regulation.ETSI_EN_300_220
    dc.window.FromMicroseconds(stats.window_us)
    for band in stats.bands:
        out = dc.bands.add(name=band.name, frequency_min=band.frequency_min,
                           frequency_max=band.frequency_max)  # fmt: skip
        out.load_max.FromMicroseconds(band.load_max_us)
        out.load_tracked.FromMicroseconds(band.load_tracked_us)


# -- downlinks -------------------------------------------------------------------------------


class FrameError(ValueError):
    """A downlink frame item that cannot be turned into a DownlinkRequest."""


def decode_frame(payload: bytes, marshaler: str) -> gw.DownlinkFrame:
    """Parse a ``command/down`` payload (protobuf, or JSON when the agent marshals JSON)."""
    frame = gw.DownlinkFrame()
    if marshaler == "json" or payload.lstrip().startswith(b"{"):
        json_format.Parse(payload.decode(), frame, ignore_unknown_fields=True)
    else:
        frame.ParseFromString(payload)
    return frame


#: what ``decode_frame`` raises on a payload that is neither valid protobuf nor JSON
DECODE_ERRORS = (DecodeError, json_format.ParseError, UnicodeDecodeError, ValueError)


def downlink_garbage(payload: bytes, marshaler: str) -> str | None:
    """Why a ``command/down`` payload cannot be answered (None when it can): not a
    DownlinkFrame, an empty one (empty bytes, unknown fields only) or one without downlink id.
    ChirpStack logs an error for an ack of a downlink it never sent, so these get none."""
    try:
        frame = decode_frame(payload, marshaler)
    except DECODE_ERRORS as exc:
        return f"not a DownlinkFrame: {exc}"
    if not frame.ListFields():
        return "an empty DownlinkFrame" if not payload else "a DownlinkFrame of unknown fields only"
    if frame.downlink_id == 0:
        return "a DownlinkFrame without downlink id"
    return None


def item_to_request(downlink_id: int, item: gw.DownlinkFrameItem) -> DownlinkRequest:
    """One ``DownlinkFrameItem`` as a DownlinkRequest; FrameError when it cannot be."""
    info = item.tx_info
    fields: dict[str, Any] = dict(
        downlink_id=downlink_id,
        phy_payload=bytes(item.phy_payload),
        freq_hz=info.frequency,
        power_dbm=float(info.power),
        board=info.board,
        antenna=info.antenna,
    )
    mod = info.modulation.WhichOneof("parameters")
    if mod == "lora":
        lora = info.modulation.lora
        if lora.code_rate not in _CODE_RATE_NAMES:
            raise FrameError(f"unsupported code rate {gw.CodeRate.Name(lora.code_rate)}")
        fields.update(
            modulation=Modulation.LORA,
            bandwidth_hz=lora.bandwidth,
            sf=lora.spreading_factor,
            code_rate=_CODE_RATE_NAMES[lora.code_rate],
            iq_inverted=lora.polarization_inversion,
            preamble=lora.preamble,
            no_crc=lora.no_crc,
        )
    elif mod == "fsk":
        fsk = info.modulation.fsk
        fields.update(
            modulation=Modulation.FSK,
            sf=0,
            code_rate="",
            datarate_bps=fsk.datarate,
            freq_deviation_hz=fsk.frequency_deviation,
            no_crc=False,
        )
    else:
        raise FrameError(f"unsupported modulation {mod!r}")
    timing = info.timing.WhichOneof("parameters")
    if timing == "delay":
        delay = info.timing.delay.delay
        delay_us = delay.seconds * 1_000_000 + delay.nanos // 1000
        return DownlinkRequest(
            **fields, timing=Timing.DELAY, context=bytes(info.context), delay_us=delay_us
        )
    if timing == "immediately":
        return DownlinkRequest(**fields, timing=Timing.IMMEDIATELY)
    if timing == "gps_epoch":
        since = info.timing.gps_epoch.time_since_gps_epoch
        gps_us = since.seconds * 1_000_000 + since.nanos // 1000
        return DownlinkRequest(**fields, timing=Timing.GPS_EPOCH, gps_epoch_us=gps_us)
    raise FrameError("no timing")


def tx_ack(ack: TxAck, gateway_id: str, marshaler: str) -> bytes:
    """One ``gw.DownlinkTxAck`` (one item per frame item, in order), marshalled."""
    msg = gw.DownlinkTxAck(gateway_id=gateway_id, downlink_id=ack.downlink_id)
    for status in ack.statuses:
        msg.items.add(status=gw.TxAckStatus.Value(status.value))
    return encode(msg, marshaler, all_fields=True)


def record_to_json(payload: bytes) -> dict[str, Any] | None:
    """A stored protobuf ``UplinkFrame`` as a dict (``spool export``), or None if it is not one."""
    frame = gw.UplinkFrame()
    try:
        frame.ParseFromString(payload)
    except DecodeError:
        return None
    if not frame.phy_payload and not frame.HasField("rx_info"):
        return None
    result: dict[str, Any] = json.loads(
        json_format.MessageToJson(frame, preserving_proto_field_name=True)
    )
    return result
