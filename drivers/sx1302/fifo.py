"""RX FIFO parsing: every good record of a fetch is kept, every bad one counted and skipped.

The reference HAL (``rx_buffer_fetch``/``rx_buffer_pop``) throws a whole fetch away when one
record is bad, and stops the packet forwarder on a semantically invalid record. Here:

- bytes before a sync word, between records or after the last one: skipped, counted ``garbage``;
- a sync word whose record runs past the end of the fetch: ``truncated``;
- a record whose checksum does not match: ``checksum``;
  after either, scanning for the next ``A5 C0`` resumes at the byte after the bad record's first
  byte (its length byte cannot be trusted);
- a well-framed record (checksum OK) that is semantically impossible (modem id > 17; a LoRa
  modem with IF chain > 9 or SF outside 5..12): ``bad_modem_id``/``bad_channel``/``bad_sf``,
  stepped over whole (its framing is sound);
- a CRC-OK LoRa record whose payload CRC16 does not match the stored one: KEPT, with its
  ``crc_error`` flag set, counted ``crc_mismatch``.

``parse_fifo`` does no I/O and never raises.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from drivers.errors import RxDataError
from drivers.sx1302.rx_record import (
    HEAD_SIZE,
    MIN_RECORD_SIZE,
    SYNC,
    TAIL_SIZE,
    RxRecord,
    lora_payload_crc,
)

#: error kinds counted in ``FifoParse.errors``
ERROR_KINDS = (
    "garbage",
    "truncated",
    "checksum",
    "bad_modem_id",
    "bad_channel",
    "bad_sf",
    "crc_mismatch",
)
#: sx1302_hal loragw_sx1302_rx.c: modem ids 0..15 multi-SF, 16 LoRa service, 17 FSK
LORA_STD_MODEM_ID = 16
FSK_MODEM_ID = 17
#: IF chains 0..7 multi-SF and 8 LoRa service are LoRa in hardware; 9 is FSK
LAST_LORA_CHAIN = 8
MAX_IF_CHAIN = 9
SF_RANGE = range(5, 13)


@dataclass(frozen=True, slots=True)
class FifoParse:
    """What one fetch held: the good records in order, and what was skipped."""

    records: tuple[RxRecord, ...] = ()
    errors: dict[str, int] = field(default_factory=dict)
    bytes_read: int = 0
    skipped_bytes: int = 0

    @property
    def error_count(self) -> int:
        """Number of bad records and garbage runs (``crc_mismatch`` records were kept)."""
        return sum(n for kind, n in self.errors.items() if kind != "crc_mismatch")


def _semantic_error(record: RxRecord) -> str | None:
    """The HAL's sanity checks of rx_buffer_pop (sx1302_hal loragw_sx1302_rx.c)."""
    if record.modem_id > FSK_MODEM_ID:
        return "bad_modem_id"
    if record.modem_id <= LORA_STD_MODEM_ID:
        if record.if_chain > MAX_IF_CHAIN:
            return "bad_channel"
        if record.sf not in SF_RANGE:
            return "bad_sf"
    return None


def _crc_mismatch(record: RxRecord) -> bool:
    """sx1302_parse rechecks the CRC of CRC-OK records with a payload on LoRa IF chains."""
    return (
        record.if_chain <= LAST_LORA_CHAIN
        and record.crc_en
        and not record.crc_error
        and bool(record.payload)
        and lora_payload_crc(record.payload) != record.crc16
    )


def _record_end(buf: bytes, start: int) -> int | None:
    """End offset of the record starting at ``start``, or None if it runs past ``buf``."""
    n = len(buf)
    if start + MIN_RECORD_SIZE > n:
        return None
    payload_len = buf[start + 2]
    metrics_at = start + HEAD_SIZE + payload_len + TAIL_SIZE - 2
    if metrics_at >= n:
        return None
    end = metrics_at + 2 + 2 * buf[metrics_at]
    return end if end <= n else None


def parse_fifo(buffer: bytes) -> FifoParse:
    """Split one RX FIFO fetch into records; never raises, counts what it skips."""
    buf = bytes(buffer)
    n = len(buf)
    records: list[RxRecord] = []
    errors: dict[str, int] = {}
    kept_bytes = 0
    pos = 0
    after_bad = False  # bytes after a bad record's first byte belong to it, not to garbage

    def count(kind: str) -> None:
        errors[kind] = errors.get(kind, 0) + 1

    while pos < n:
        start = buf.find(SYNC, pos)
        if start < 0:
            if not after_bad:
                count("garbage")
            break
        if start > pos and not after_bad:
            count("garbage")
        after_bad = False
        end = _record_end(buf, start)
        if end is None:
            count("truncated")
            pos, after_bad = start + 1, True
            continue
        try:
            record = RxRecord.from_bytes(buf[start:end])
        except RxDataError:
            count("checksum")
            pos, after_bad = start + 1, True
            continue
        pos = end
        kind = _semantic_error(record)
        if kind is not None:
            count(kind)
            continue
        if _crc_mismatch(record):
            count("crc_mismatch")
            record = replace(record, crc_error=True)
        records.append(record)
        kept_bytes += end - start
    return FifoParse(tuple(records), errors, n, n - kept_bytes)
