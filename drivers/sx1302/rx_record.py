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

import binascii
import struct
from dataclasses import dataclass

from construct import (
    Array,
    Bytes,
    Const,
    ConstructError,
    Int8sl,
    Int8ul,
    Int16ul,
    Int24ul,
    Int32ul,
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

# Every field is whole bytes: the bit fields are split arithmetically in ``from_bytes`` (FLAG_*
# and shifts), because a BitStruct turns its byte into a list of bits and back, which cost about
# two thirds of the parse (issue 15: 48 -> 14 µs a record).
_RECORD = Struct(
    "sync" / Const(SYNC),
    "payload_len" / Int8ul,
    "if_chain" / Int8ul,
    "rate" / Int8ul,  # SF [7:4], coding rate [3:1], CRC enabled [0]
    "modem_id" / Int8ul,
    # 20-bit two's complement in bytes 6..8; the upper nibble of byte 8 is not part of it
    "freq_offset_field" / Int24ul,
    "payload" / Bytes(this.payload_len),
    "flags" / Int8ul,  # timing set [4], header error [3], sync error [2], CRC error [0]
    "snr_raw" / Int8sl,
    "rssi_chan_raw" / Int8ul,
    "rssi_sig_raw" / Int8ul,
    "rssi_chan_delta" / Int8ul,  # max positive delta [7:4], max negative delta [3:0]
    "rssi_sig_delta" / Int8ul,
    "timestamp" / Int32ul,
    "crc16" / Int16ul,
    "num_ts_metrics" / Int8ul,
    "ts_metrics" / Array(this.num_ts_metrics * 2, Int8sl),
    "checksum" / Int8ul,
)
#: bits of the flags byte (sx1302_hal rx_buffer_pop); the others are reserved (FLAGS_RESERVED)
FLAG_CRC_ERROR = 0x01
FLAG_SYNC_ERROR = 0x04
FLAG_HEADER_ERROR = 0x08
FLAG_TIMING_SET = 0x10
FLAGS_RESERVED = 0xE2
# compiled once at import: parsing is on the per-packet path (about twice as fast as interpreted)
_CODEC = _RECORD.compile()
# the same layout for the struct encoder: sync, N, IF chain, SF/CR/CRC byte, modem id | flags,
# SNR, RSSI chan, RSSI sig, two delta bytes, timestamp, CRC16, M
_HEAD = struct.Struct("<2sBBBB")
_TAIL = struct.Struct("<BbBBBBIHB")


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
        field = parsed.freq_offset_field
        raw = field & ((1 << FREQ_OFFSET_BITS) - 1)
        if raw & (1 << (FREQ_OFFSET_BITS - 1)):
            raw -= 1 << FREQ_OFFSET_BITS
        rate, flags = parsed.rate, parsed.flags
        chan_delta, sig_delta = parsed.rssi_chan_delta, parsed.rssi_sig_delta
        return cls(
            payload=parsed.payload,
            if_chain=parsed.if_chain,
            sf=rate >> 4,
            coding_rate=(rate >> 1) & 0x07,
            crc_en=bool(rate & 0x01),
            modem_id=parsed.modem_id,
            freq_offset_raw=raw,
            crc_error=bool(flags & FLAG_CRC_ERROR),
            sync_error=bool(flags & FLAG_SYNC_ERROR),
            header_error=bool(flags & FLAG_HEADER_ERROR),
            timing_set=bool(flags & FLAG_TIMING_SET),
            snr_raw=parsed.snr_raw,
            rssi_chan_raw=parsed.rssi_chan_raw,
            rssi_sig_raw=parsed.rssi_sig_raw,
            timestamp=parsed.timestamp,
            crc16=parsed.crc16,
            ts_metrics=tuple(parsed.ts_metrics),
            rssi_chan_max_neg_delta=chan_delta & 0x0F,
            rssi_chan_max_pos_delta=chan_delta >> 4,
            rssi_sig_max_neg_delta=sig_delta & 0x0F,
            rssi_sig_max_pos_delta=sig_delta >> 4,
            flags_reserved=flags & FLAGS_RESERVED,
            freq_offset_reserved=field >> FREQ_OFFSET_BITS,
        )

    def to_bytes(self) -> bytes:
        """Encode the record as the chip writes it, checksum included.

        Packed with ``struct`` along the same layout as the construct schema, because the
        simulator encodes every received packet on its hot path (about 50 times faster than
        the construct build); tests/drivers/test_rx_record.py proves the two encoders equal.
        """
        if len(self.ts_metrics) % 2:
            raise ValueError("ts_metrics holds pairs: its length must be even")
        try:
            head = _HEAD.pack(
                SYNC,
                len(self.payload),
                self.if_chain,
                (self.sf << 4) | (self.coding_rate << 1) | int(self.crc_en),
                self.modem_id,
            )
            freq = (self.freq_offset_raw & ((1 << FREQ_OFFSET_BITS) - 1)) | (
                self.freq_offset_reserved << FREQ_OFFSET_BITS
            )
            flags = (
                (self.flags_reserved & 0xE2)
                | int(self.timing_set) << 4
                | int(self.header_error) << 3
                | int(self.sync_error) << 2
                | int(self.crc_error)
            )
            tail = _TAIL.pack(
                flags,
                self.snr_raw,
                self.rssi_chan_raw,
                self.rssi_sig_raw,
                (self.rssi_chan_max_pos_delta << 4) | self.rssi_chan_max_neg_delta,
                (self.rssi_sig_max_pos_delta << 4) | self.rssi_sig_max_neg_delta,
                self.timestamp,
                self.crc16,
                len(self.ts_metrics) // 2,
            )
            metrics = struct.pack(f"<{len(self.ts_metrics)}b", *self.ts_metrics)
            body = head + freq.to_bytes(3, "little") + self.payload + tail + metrics
        except (struct.error, OverflowError) as exc:
            raise ValueError(f"record field out of range: {exc}") from exc
        if any(
            v > 0x0F
            for v in (
                self.sf,
                self.rssi_chan_max_pos_delta,
                self.rssi_sig_max_pos_delta,
                self.rssi_chan_max_neg_delta,
                self.rssi_sig_max_neg_delta,
            )
        ):
            raise ValueError("a 4-bit record field is out of range")  # fmt: skip
        return body + bytes([checksum(body)])

    def _to_bytes_with_construct(self) -> bytes:
        """The reference encoder: the construct schema's own build (for tests)."""
        body = _CODEC.build(
            {
                "payload_len": len(self.payload),
                "if_chain": self.if_chain,
                "rate": (self.sf << 4) | (self.coding_rate << 1) | int(self.crc_en),
                "modem_id": self.modem_id,
                "freq_offset_field": (self.freq_offset_raw & ((1 << FREQ_OFFSET_BITS) - 1))
                | (self.freq_offset_reserved << FREQ_OFFSET_BITS),
                "payload": self.payload,
                "flags": (self.flags_reserved & FLAGS_RESERVED)
                | (FLAG_TIMING_SET if self.timing_set else 0)
                | (FLAG_HEADER_ERROR if self.header_error else 0)
                | (FLAG_SYNC_ERROR if self.sync_error else 0)
                | (FLAG_CRC_ERROR if self.crc_error else 0),
                "snr_raw": self.snr_raw,
                "rssi_chan_raw": self.rssi_chan_raw,
                "rssi_sig_raw": self.rssi_sig_raw,
                "rssi_chan_delta": (self.rssi_chan_max_pos_delta << 4)
                | self.rssi_chan_max_neg_delta,
                "rssi_sig_delta": (self.rssi_sig_max_pos_delta << 4) | self.rssi_sig_max_neg_delta,
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

    Equivalent to CRC-16/XMODEM over ``payload[:-2]`` xor the last two bytes (ref/sx1302.md §4),
    which ``binascii.crc_hqx`` computes in C (it is on the per-packet path).
    """
    if len(payload) < 2:
        return payload[0] if payload else 0
    return binascii.crc_hqx(payload[:-2], 0) ^ int.from_bytes(payload[-2:], "big")
