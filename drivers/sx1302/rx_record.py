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
one codec for both sides. The ``construct`` schema below is the layout's reference; both
directions run on precompiled ``struct`` layouts along it, because they are on the per-packet
path, and ``_to_bytes_with_construct`` / ``_from_bytes_with_construct`` keep the schema's own
build and parse for the tests that prove the two equal. Construct containers never leave this
module.
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
# the parser reads the 24-bit frequency field with the head: as the low 3 bytes of a u32 whose
# top byte (the payload's first, or the flags) is masked off
_HEAD_FREQ = struct.Struct("<2sBBBBI")
_FREQ_MASK = 0xFFFFFF


def record_size(payload_len: int, num_ts_metrics: int) -> int:
    """Total size of a record with this payload length and number of metrics."""
    return MIN_RECORD_SIZE + payload_len + 2 * num_ts_metrics


def checksum(data: bytes) -> int:
    """The record checksum: unsigned 8-bit sum of every byte before it."""
    return sum(data) & 0xFF


def _checked_end(data: bytes) -> int:
    """The record's end in ``data`` once the sync word and every length in it are checked."""
    if len(data) < MIN_RECORD_SIZE:
        raise RxDataError(f"record truncated: {len(data)} bytes < {MIN_RECORD_SIZE}")
    if data[:2] != SYNC:
        raise RxDataError(f"no sync word at record start: {bytes(data[:2]).hex()}")
    payload_len = data[2]
    if len(data) < record_size(payload_len, 0):
        raise RxDataError(f"record truncated: {len(data)} bytes for a {payload_len}-byte payload")
    end = record_size(payload_len, data[HEAD_SIZE + payload_len + TAIL_SIZE - 2])
    if len(data) < end:
        raise RxDataError(f"record truncated: {len(data)} bytes, the record needs {end}")
    return end


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

        Unpacked with precompiled ``struct`` layouts along the construct schema, because this
        runs once per received packet and the compiled construct parse costs about four times
        as much (issue 15). The schema stays the reference: ``_from_bytes_with_construct``
        parses through it, and tests/drivers/test_rx_record.py proves the two equal on any
        well-framed bytes.
        """
        end = _checked_end(data)
        _sync, n, if_chain, rate, modem_id, field = _HEAD_FREQ.unpack_from(data, 0)
        flags, snr, rssi_chan, rssi_sig, chan_delta, sig_delta, timestamp, crc16, pairs = (
            _TAIL.unpack_from(data, HEAD_SIZE + n)
        )
        stored = data[end - 1]
        if checksum(data[: end - 1]) != stored:
            raise RxDataError(
                f"record checksum mismatch: computed {checksum(data[: end - 1]):#04x}, "
                f"stored {stored:#04x}"
            )
        at = HEAD_SIZE + n + TAIL_SIZE - 1
        metrics = struct.unpack_from(f"<{2 * pairs}b", data, at) if pairs else ()
        return cls._from_fields(
            bytes(data[HEAD_SIZE : HEAD_SIZE + n]), if_chain, rate, modem_id,
            field & _FREQ_MASK, flags, snr, rssi_chan, rssi_sig, chan_delta, sig_delta,
            timestamp, crc16, metrics,
        )  # fmt: skip

    @classmethod
    def _from_bytes_with_construct(cls, data: bytes) -> RxRecord:
        """The reference parser: the construct schema's own parse (for tests)."""
        end = _checked_end(data)
        try:
            parsed = _CODEC.parse(data[:end])
        except (ConstructError, struct.error) as exc:  # the compiled parser raises struct.error
            raise RxDataError(f"record unparsable: {exc}") from exc
        if checksum(data[: end - 1]) != parsed.checksum:
            raise RxDataError(
                f"record checksum mismatch: computed {checksum(data[: end - 1]):#04x}, "
                f"stored {parsed.checksum:#04x}"
            )
        return cls._from_fields(
            parsed.payload, parsed.if_chain, parsed.rate, parsed.modem_id,
            parsed.freq_offset_field, parsed.flags, parsed.snr_raw,
            parsed.rssi_chan_raw, parsed.rssi_sig_raw, parsed.rssi_chan_delta,
            parsed.rssi_sig_delta, parsed.timestamp, parsed.crc16, tuple(parsed.ts_metrics),
        )  # fmt: skip

    @classmethod
    def _from_fields(
        cls,
        payload: bytes,
        if_chain: int,
        rate: int,
        modem_id: int,
        field: int,
        flags: int,
        snr_raw: int,
        rssi_chan_raw: int,
        rssi_sig_raw: int,
        chan_delta: int,
        sig_delta: int,
        timestamp: int,
        crc16: int,
        ts_metrics: tuple[int, ...],
    ) -> RxRecord:
        """Split the packed bytes (rate, flags, deltas, 20-bit offset) into the record's fields."""
        raw = field & ((1 << FREQ_OFFSET_BITS) - 1)
        if raw & (1 << (FREQ_OFFSET_BITS - 1)):
            raw -= 1 << FREQ_OFFSET_BITS
        return cls(
            payload=payload,
            if_chain=if_chain,
            sf=rate >> 4,
            coding_rate=(rate >> 1) & 0x07,
            crc_en=bool(rate & 0x01),
            modem_id=modem_id,
            freq_offset_raw=raw,
            crc_error=bool(flags & FLAG_CRC_ERROR),
            sync_error=bool(flags & FLAG_SYNC_ERROR),
            header_error=bool(flags & FLAG_HEADER_ERROR),
            timing_set=bool(flags & FLAG_TIMING_SET),
            snr_raw=snr_raw,
            rssi_chan_raw=rssi_chan_raw,
            rssi_sig_raw=rssi_sig_raw,
            timestamp=timestamp,
            crc16=crc16,
            ts_metrics=ts_metrics,
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
