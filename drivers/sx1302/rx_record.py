"""The SX1302 RX buffer record: its ``construct`` schema and a frozen dataclass around it.

Layout (sx1302_hal ``loragw_sx1302_rx.c``; ref/sx1302.md §4), offsets from the record start, N =
payload length, M = number of fine-timestamp metrics, multi-byte fields little-endian:

    0  A5 C0 sync              9+N   flags            15+N  timestamp (u32, 32 MHz ticks)
    2  N                       10+N  SNR (s8, /4 dB)  19+N  payload CRC16 (u16)
    3  IF chain                11+N  RSSI channel     21+N  M
    4  SF:4 CR:3 CRC_EN:1      12+N  RSSI signal      22+N  2*M signed metrics
    5  modem id                13+N  chan RSSI deltas 22+N+2M  checksum (sum of all bytes before)
    6  freq offset (20 bit)    14+N  sig RSSI deltas

The simulator builds records with ``to_bytes`` and the driver parses them with ``from_bytes``:
one codec for both sides. Construct containers never leave this module.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from construct import (
    Array,
    BitsInteger,
    BitStruct,
    Bytes,
    Const,
    ConstructError,
    Flag,
    Int8sl,
    Int8ul,
    Int16ul,
    Int24ul,
    Int32ul,
    Padding,
    Struct,
    this,
)

from drivers.errors import RxDataError

SYNC = b"\xa5\xc0"
#: bytes before the payload, and after it without the metrics (sx1302_hal: 9 and 14)
HEAD_SIZE = 9
TAIL_SIZE = 14
MIN_RECORD_SIZE = HEAD_SIZE + TAIL_SIZE
FREQ_OFFSET_BITS = 20

_RECORD = Struct(
    "sync" / Const(SYNC),
    "payload_len" / Int8ul,
    "if_chain" / Int8ul,
    "rate" / BitStruct("sf" / BitsInteger(4), "coding_rate" / BitsInteger(3), "crc_en" / Flag),
    "modem_id" / Int8ul,
    # 20-bit two's complement in bytes 6..8; the upper nibble of byte 8 is not part of it
    "freq_offset_field" / Int24ul,
    "payload" / Bytes(this.payload_len),
    "flags"
    / BitStruct(
        "unused_hi" / BitsInteger(3),
        "timing_set" / Flag,
        "header_error" / Flag,
        "sync_error" / Flag,
        "unused_lo" / Flag,
        "crc_error" / Flag,
    ),
    "snr_raw" / Int8sl,
    "rssi_chan_raw" / Int8ul,
    "rssi_sig_raw" / Int8ul,
    "rssi_chan_delta" / BitStruct("pos" / BitsInteger(4), "neg" / BitsInteger(4)),
    "rssi_sig_delta" / BitStruct("pos" / BitsInteger(4), "neg" / BitsInteger(4)),
    "timestamp" / Int32ul,
    "crc16" / Int16ul,
    "num_ts_metrics" / Int8ul,
    "ts_metrics" / Array(this.num_ts_metrics * 2, Int8sl),
    "checksum" / Int8ul,
    Padding(0),
)
# compiled once at import: parsing is on the per-packet path (about twice as fast as interpreted)
_CODEC = _RECORD.compile()


def record_size(payload_len: int, num_ts_metrics: int) -> int:
    """Total size of a record with this payload length and number of metrics."""
    return MIN_RECORD_SIZE + payload_len + 2 * num_ts_metrics


def checksum(data: bytes) -> int:
    """The record checksum: unsigned 8-bit sum of every byte before it."""
    return sum(data) & 0xFF


@dataclass(frozen=True, slots=True)
class RxRecord:
    """One record of the RX FIFO, fields raw as the chip wrote them."""

    payload: bytes
    if_chain: int
    sf: int
    coding_rate: int
    crc_en: bool
    modem_id: int
    freq_offset_raw: int
    crc_error: bool
    sync_error: bool
    header_error: bool
    timing_set: bool
    snr_raw: int
    rssi_chan_raw: int
    rssi_sig_raw: int
    timestamp: int
    crc16: int
    ts_metrics: tuple[int, ...] = ()
    rssi_chan_max_neg_delta: int = 0
    rssi_chan_max_pos_delta: int = 0
    rssi_sig_max_neg_delta: int = 0
    rssi_sig_max_pos_delta: int = 0
    #: bits the chip writes but the HAL ignores (flag bits 1 and 5..7, the top nibble of byte 8);
    #: kept so that a record re-encodes to the very same bytes
    flags_reserved: int = 0
    freq_offset_reserved: int = 0

    @property
    def size(self) -> int:
        """Bytes this record takes in the FIFO."""
        return record_size(len(self.payload), len(self.ts_metrics) // 2)

    @classmethod
    def from_bytes(cls, data: bytes) -> RxRecord:
        """Parse one record starting at ``data[0]``; raises RxDataError if it is not one.

        Checks the sync word, the length against ``data``, and the checksum. Trailing bytes
        after the record are ignored (use ``size`` to step over it).
        """
        if len(data) < MIN_RECORD_SIZE:
            raise RxDataError(f"record truncated: {len(data)} bytes < {MIN_RECORD_SIZE}")
        if data[:2] != SYNC:
            raise RxDataError(f"no sync word at record start: {data[:2].hex()}")
        payload_len = data[2]
        if len(data) < record_size(payload_len, 0):
            raise RxDataError(
                f"record truncated: {len(data)} bytes for a {payload_len}-byte payload"
            )
        end = record_size(payload_len, data[HEAD_SIZE + payload_len + TAIL_SIZE - 2])
        if len(data) < end:
            raise RxDataError(f"record truncated: {len(data)} bytes, the record needs {end}")
        try:
            parsed = _CODEC.parse(data[:end])
        except (ConstructError, struct.error) as exc:  # the compiled parser raises struct.error
            raise RxDataError(f"record unparsable: {exc}") from exc
        if checksum(data[: end - 1]) != parsed.checksum:
            raise RxDataError(
                f"record checksum mismatch: computed {checksum(data[: end - 1]):#04x}, "
                f"stored {parsed.checksum:#04x}"
            )
        raw = parsed.freq_offset_field & ((1 << FREQ_OFFSET_BITS) - 1)
        if raw & (1 << (FREQ_OFFSET_BITS - 1)):
            raw -= 1 << FREQ_OFFSET_BITS
        return cls(
            payload=bytes(parsed.payload),
            if_chain=parsed.if_chain,
            sf=parsed.rate.sf,
            coding_rate=parsed.rate.coding_rate,
            crc_en=bool(parsed.rate.crc_en),
            modem_id=parsed.modem_id,
            freq_offset_raw=raw,
            crc_error=bool(parsed.flags.crc_error),
            sync_error=bool(parsed.flags.sync_error),
            header_error=bool(parsed.flags.header_error),
            timing_set=bool(parsed.flags.timing_set),
            snr_raw=parsed.snr_raw,
            rssi_chan_raw=parsed.rssi_chan_raw,
            rssi_sig_raw=parsed.rssi_sig_raw,
            timestamp=parsed.timestamp,
            crc16=parsed.crc16,
            ts_metrics=tuple(parsed.ts_metrics),
            rssi_chan_max_neg_delta=parsed.rssi_chan_delta.neg,
            rssi_chan_max_pos_delta=parsed.rssi_chan_delta.pos,
            rssi_sig_max_neg_delta=parsed.rssi_sig_delta.neg,
            rssi_sig_max_pos_delta=parsed.rssi_sig_delta.pos,
            flags_reserved=(parsed.flags.unused_hi << 5) | (int(parsed.flags.unused_lo) << 1),
            freq_offset_reserved=parsed.freq_offset_field >> FREQ_OFFSET_BITS,
        )

    def to_bytes(self) -> bytes:
        """Encode the record as the chip writes it, checksum included."""
        if len(self.ts_metrics) % 2:
            raise ValueError("ts_metrics holds pairs: its length must be even")
        body = _CODEC.build(
            {
                "payload_len": len(self.payload),
                "if_chain": self.if_chain,
                "rate": {"sf": self.sf, "coding_rate": self.coding_rate, "crc_en": self.crc_en},
                "modem_id": self.modem_id,
                "freq_offset_field": (self.freq_offset_raw & ((1 << FREQ_OFFSET_BITS) - 1))
                | (self.freq_offset_reserved << FREQ_OFFSET_BITS),
                "payload": self.payload,
                "flags": {
                    "unused_hi": self.flags_reserved >> 5,
                    "timing_set": self.timing_set,
                    "header_error": self.header_error,
                    "sync_error": self.sync_error,
                    "unused_lo": bool(self.flags_reserved & 0x02),
                    "crc_error": self.crc_error,
                },
                "snr_raw": self.snr_raw,
                "rssi_chan_raw": self.rssi_chan_raw,
                "rssi_sig_raw": self.rssi_sig_raw,
                "rssi_chan_delta": {
                    "pos": self.rssi_chan_max_pos_delta,
                    "neg": self.rssi_chan_max_neg_delta,
                },
                "rssi_sig_delta": {
                    "pos": self.rssi_sig_max_pos_delta,
                    "neg": self.rssi_sig_max_neg_delta,
                },
                "timestamp": self.timestamp,
                "crc16": self.crc16,
                "num_ts_metrics": len(self.ts_metrics) // 2,
                "ts_metrics": list(self.ts_metrics),
                "checksum": 0,
            }
        )
        return body[:-1] + bytes([checksum(body[:-1])])


def lora_payload_crc(payload: bytes) -> int:
    """The payload CRC the SX1302 stores: CRC-16 poly 0x1021, init 0, non-augmented.

    Equivalent to CRC-16/XMODEM over ``payload[:-2]`` xor the last two bytes (ref/sx1302.md §4).
    """
    if not payload:
        return 0
    if len(payload) == 1:
        return payload[0]
    crc = 0
    for byte in payload[:-2]:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc ^ ((payload[-2] << 8) | payload[-1])
