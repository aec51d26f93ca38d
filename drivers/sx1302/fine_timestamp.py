"""SX1303 fine timestamps: the PPS history, ``ftime`` from a record's metrics, the count_us shift.

Facts from sx1302_hal (loragw_sx1302_timestamp.c ``precision_timestamp_correction``,
``timestamp_counter_get`` and ``precise_timestamp_calculate``; loragw_sx1302.c ``sx1302_parse``):

- in fine-timestamp mode the chip latches the timestamp at the end of the header (not the end of
  the packet); count_us is moved to the end of the packet by adding the payload symbols' duration
  and subtracting the filtering delay (``fine_timestamp_correction_us``);
- every distinct PPS-latched counter value (raw 32 MHz ticks) is kept in a ring of 16 entries; no
  ``ftime`` is computed before the ring is full;
- ``ftime`` (ns since the last PPS) = (packet ticks moved to the end of the preamble − the PPS
  ticks of the same second + the mean of the cumulative sum of the record's metrics) × 31.25 ns,
  divided by the crystal correction (1.0 here: the daemon has no crystal-error estimate).
"""

from __future__ import annotations

import math
import struct

#: sx1302_hal MAX_TIMESTAMP_PPS_HISTORY
PPS_HISTORY_SIZE = 16
TICKS_PER_SECOND = 32_000_000
NS_PER_TICK = 31.25
#: sx1302_hal precise_timestamp_calculate: constant added after the header→preamble shift
PREAMBLE_END_OFFSET_TICKS = 2137
#: 32 MHz ticks per 125 kHz chip (multi-SF chains, the only fine-timestamping ones)
_TICKS_PER_CHIP = 256
_U32 = 0xFFFFFFFF


def _f32(value: float) -> float:
    return struct.unpack("<f", struct.pack("<f", value))[0]


def symbol_time_us(sf: int, bandwidth_hz: int) -> int:
    """LoRa symbol duration in whole µs: 2^SF / BW (sx1302_hal ``lora_packet_time_on_air``)."""
    return (1 << sf) * 8 // (bandwidth_hz // 125_000)


def payload_symbols(sf: int, coding_rate: int, crc_en: bool, payload_len: int) -> int:
    """Symbols after the 8 header symbols (explicit header; LDRO assumed for SF11/SF12)."""
    ldro = 1 if sf >= 11 else 0
    bits = 8 * payload_len + (16 if crc_en else 0) - 4 * sf + (8 if sf >= 7 else 0) + 20
    return math.ceil(max(bits, 0) / (4 * (sf - 2 * ldro))) * (coding_rate + 4)


def fine_timestamp_correction_us(
    sf: int, bandwidth_hz: int, coding_rate: int, crc_en: bool, payload_len: int
) -> int:
    """µs to add to a fine-mode (end-of-header) count_us: payload time − filtering delay.

    sx1302_hal ``precision_timestamp_correction``: the integer payload duration minus
    (16e6 / B + 2031250 + 500000) / 1e6 as a double, truncated toward zero into an int32.
    """
    bw_pow = bandwidth_hz // 125_000
    if bw_pow not in (1, 2, 4) or bandwidth_hz % 125_000:
        raise ValueError(f"LoRa bandwidth must be 125, 250 or 500 kHz, got {bandwidth_hz} Hz")
    filtering = 16_000_000 // bw_pow + 2_031_250
    payload_us = payload_symbols(sf, coding_rate, crc_en, payload_len) * symbol_time_us(
        sf, bandwidth_hz
    )
    return int(payload_us - (filtering + 500_000) / 1e6)


def preamble_end_ticks(ticks: int, sf: int) -> int:
    """A fine-mode packet timestamp (end of header) moved back to the end of the preamble."""
    symbols = 8 + 4 + (2 if sf in (5, 6) else 0)
    offset = _TICKS_PER_CHIP * (1 << sf) * symbols + _TICKS_PER_CHIP * ((1 << sf) // 4 - 1)
    return (ticks - offset + PREAMBLE_END_OFFSET_TICKS) & _U32


def metrics_mean(ts_metrics: tuple[int, ...] | list[int]) -> float:
    """Mean of the running sum of the signed metrics, in float32 as the HAL (32 MHz ticks)."""
    if not ts_metrics:
        raise ValueError("a fine timestamp needs at least one pair of metrics")
    running = total = 0
    for metric in ts_metrics:
        running += metric
        total += running
    return _f32(_f32(float(total)) / _f32(float(len(ts_metrics))))


class PpsHistory:
    """The last 16 distinct PPS-latched counter values (raw 32 MHz ticks), oldest overwritten."""

    def __init__(self) -> None:
        self._entries: list[int] = []
        self._next = 0
        self.latest: int | None = None

    def reset(self) -> None:
        """Forget every PPS edge (at every chip start)."""
        type(self).__init__(self)

    @property
    def full(self) -> bool:
        """True once 16 distinct PPS edges were seen: fine timestamps can be computed."""
        return len(self._entries) == PPS_HISTORY_SIZE

    @property
    def entries(self) -> tuple[int, ...]:
        """The stored PPS tick values, in ring order."""
        return tuple(self._entries)

    def save(self, pps_ticks: int) -> bool:
        """Record one read of the PPS-latched counter; True if it was a new edge."""
        pps_ticks &= _U32
        self.latest = pps_ticks
        if self._entries and self._entries[self._next - 1] == pps_ticks:
            return False
        if len(self._entries) < PPS_HISTORY_SIZE:
            self._entries.append(pps_ticks)
        else:
            self._entries[self._next] = pps_ticks
        self._next = (self._next + 1) % PPS_HISTORY_SIZE
        return True

    def reference(self, ticks: int) -> int | None:
        """The PPS edge of the second ``ticks`` lies in: the latest one, or one from history."""
        if self.latest is not None and (ticks - self.latest) & _U32 <= TICKS_PER_SECOND:
            return self.latest
        for pps in self._entries:
            if (ticks - pps) & _U32 < TICKS_PER_SECOND:
                return pps
        return None


def fine_timestamp_ns(
    history: PpsHistory,
    ticks: int,
    sf: int,
    ts_metrics: tuple[int, ...] | list[int],
    xtal_correction: float = 1.0,
) -> int | None:
    """ns since the last PPS of a fine-mode packet, or None (history not full, no PPS found)."""
    if not history.full or not ts_metrics:
        return None
    start = preamble_end_ticks(ticks, sf)
    pps = history.reference(start)
    if pps is None:
        return None
    ftime = ((start - pps) & _U32) + metrics_mean(ts_metrics)
    value = int(ftime * NS_PER_TICK / xtal_correction)
    if not 0 <= value <= 1_000_000_000:
        return None
    return value
