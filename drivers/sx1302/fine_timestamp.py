"""SX1303 fine timestamps: the PPS history, ``ftime`` from a record's metrics, the count_us shift.

Facts from sx1302_hal 2.1.0 (loragw_sx1302_timestamp.c ``precision_timestamp_correction``,
``timestamp_pps_history_save`` and ``precise_timestamp_calculate``; loragw_sx1302.c
``sx1302_parse`` and ``sx1302_dc_notch_delay``), checked against 876 calls of the HAL's own
function (tests/data/hal/sx1303_ftime.md):

- in fine-timestamp mode the chip latches the timestamp at the end of the header (not the end of
  the packet); count_us is moved to the end of the packet by adding the payload symbols' duration
  and subtracting the filtering delay (``fine_timestamp_correction_us``);
- every distinct PPS-latched counter value (raw 32 MHz ticks) is kept in a ring of 16 slots; no
  ``ftime`` is computed before the ring is full;
- ``ftime`` (ns since the reference PPS) = (end of preamble − reference PPS + mean of the running
  sum of the first 2·n metrics + DC-notch delay) × 31.25 ns × 32e6 / (ticks between the two PPS
  edges of the reference interval); the end of preamble is the header latch moved back by a
  frequency-error-scaled header duration, plus 2138 ticks; n is clipped per SF (SF12: 4 pairs).
  The HAL's quirks are kept: its history search runs in array order, its branch thresholds are
  fixed at 32e6 ticks, a result above 1e9 ns is an error.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

#: sx1302_hal MAX_TIMESTAMP_PPS_HISTORY
PPS_HISTORY_SIZE = 16
TICKS_PER_SECOND = 32_000_000
NS_PER_TICK = 31.25
#: sx1302_hal precise_timestamp_calculate: decimation/filter delay difference, GW v2 vs SX1303
PREAMBLE_END_OFFSET_TICKS = 2138
#: sx1302_hal precise_timestamp_calculate: metric pairs averaged at most, per SF (SF5-SF9: 32)
METRIC_PAIRS_BY_SF = {12: 4, 11: 8, 10: 16}
MAX_METRIC_PAIRS = 32
#: sx1302_hal: the crystal ratio 32e6 / (ticks between two PPS edges) must lie in [0.8, 1.2]
XTAL_CORRECT_RANGE = (0.8, 1.2)
#: sx1302_dc_notch_delay: IF range (kHz, both ends included) and polynomial (f^4 .. f^0)
DC_NOTCH_IF_KHZ = 75.0
DC_NOTCH_POLY = (1.7e-6, 2.4e-6, -0.0101, -0.01275, 10.2922)
MAX_FTIME_NS = 1_000_000_000
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


def header_to_preamble_ticks(sf: int, pkt_freq_error: float = 0.0) -> int:
    """Ticks from the end of the preamble to the fine-mode latch, scaled by the frequency error.

    The 125 kHz duration of 12 symbols (14 at SF5/SF6) plus 2^SF/4 − 1 chips, stretched by the
    packet's relative frequency error exactly as the HAL rounds it: trunc(b + (b·err + 0.5)).
    """
    symbols = 14 if sf in (5, 6) else 12
    base = _TICKS_PER_CHIP * (1 << sf) * symbols + _TICKS_PER_CHIP * ((1 << sf) // 4 - 1)
    return int(base + (base * pkt_freq_error + 0.5)) & _U32


def preamble_end_ticks(ticks: int, sf: int, pkt_freq_error: float = 0.0) -> int:
    """A fine-mode packet timestamp (end of header) moved back to the end of the preamble."""
    offset = header_to_preamble_ticks(sf, pkt_freq_error)
    return (ticks - offset + PREAMBLE_END_OFFSET_TICKS) & _U32


def metric_pairs_used(sf: int, pairs: int) -> int:
    """How many of a record's metric pairs the HAL averages: at most 4 at SF12, 8 at SF11, …"""
    return min(pairs, METRIC_PAIRS_BY_SF.get(sf, MAX_METRIC_PAIRS))


def metrics_mean(ts_metrics: tuple[int, ...] | list[int]) -> float:
    """Mean of the running sum of the signed metrics, in float32 as the HAL (32 MHz ticks)."""
    if not ts_metrics:
        raise ValueError("a fine timestamp needs at least one pair of metrics")
    running = total = 0
    for metric in ts_metrics:
        running += metric
        total += running
    return _f32(_f32(float(total)) / _f32(float(len(ts_metrics))))


def dc_notch_delay_ticks(if_freq_hz: int) -> float:
    """Group delay of the DC notch on a chain near the radio centre (0 beyond ±75 kHz)."""
    f = if_freq_hz / 1e3
    if not -DC_NOTCH_IF_KHZ <= f <= DC_NOTCH_IF_KHZ:
        return 0.0
    a4, a3, a2, a1, a0 = DC_NOTCH_POLY
    return a4 * math.pow(f, 4) + a3 * math.pow(f, 3) + a2 * math.pow(f, 2) + a1 * f + a0


def packet_freq_error(freq_hz: int, freq_offset_hz: int) -> float:
    """Relative frequency error of a packet: (freq + offset) / freq − 1, the sum in uint32."""
    return float((freq_hz + freq_offset_hz) & _U32) / float(freq_hz) - 1.0


class PpsHistory:
    """The HAL's ring of 16 PPS-latched counter values (raw 32 MHz ticks), in array order.

    ``idx`` is the slot written last and ``size`` how many slots hold a value; a value is stored
    only when it differs from the newest one, so one PPS edge read many times is one entry.
    """

    def __init__(self) -> None:
        self.slots = [0] * PPS_HISTORY_SIZE
        self.idx = 0
        self.size = 0
        #: the PPS latch of the last counter read (the register the HAL reads per packet)
        self.latest: int | None = None

    @classmethod
    def from_state(cls, slots: list[int], idx: int, size: int) -> PpsHistory:
        """A history with the given slots, last-written slot and fill level."""
        if len(slots) != PPS_HISTORY_SIZE or not 0 <= idx < PPS_HISTORY_SIZE:
            raise ValueError(f"a PPS history has {PPS_HISTORY_SIZE} slots and idx 0..15")
        if not 0 <= size <= PPS_HISTORY_SIZE:
            raise ValueError(f"a PPS history holds 0..{PPS_HISTORY_SIZE} entries, got {size}")
        history = cls()
        history.slots = [value & _U32 for value in slots]
        history.idx, history.size = idx, size
        history.latest = history.slots[idx] if size else None
        return history

    def reset(self) -> None:
        """Forget every PPS edge (at every chip start: the counter restarts from 0)."""
        type(self).__init__(self)

    @property
    def full(self) -> bool:
        """True once 16 distinct PPS edges were seen: fine timestamps can be computed."""
        return self.size == PPS_HISTORY_SIZE

    @property
    def entries(self) -> tuple[int, ...]:
        """The stored PPS tick values, in array order."""
        return tuple(self.slots[: self.size])

    def save(self, pps_ticks: int) -> bool:
        """Record one read of the PPS-latched counter; True if it was a new edge."""
        pps_ticks &= _U32
        self.latest = pps_ticks
        if self.size and self.slots[self.idx] == pps_ticks:
            return False
        if self.size:
            self.idx = (self.idx + 1) % PPS_HISTORY_SIZE
        self.slots[self.idx] = pps_ticks
        self.size = min(self.size + 1, PPS_HISTORY_SIZE)
        return True

    def reference(self, eop_ticks: int, pps_reg: int) -> tuple[int, int] | None:
        """(reference PPS, ticks to the next edge) for a packet, or None when none fits.

        The latest edge when it is at most 32e6 ticks before the packet (interval that ends at
        it); else the first slot in array order less than 32e6 ticks before (interval that
        starts at it). Both thresholds are the HAL's fixed 32e6, not the measured second.
        """
        if (eop_ticks - pps_reg) & _U32 <= TICKS_PER_SECOND:
            previous = self.slots[(self.idx - 1) % PPS_HISTORY_SIZE]
            return pps_reg, (self.slots[self.idx] - previous) & _U32
        for slot in range(self.size):
            found = self.slots[slot]
            if (eop_ticks - found) & _U32 < TICKS_PER_SECOND:
                following = self.slots[(slot + 1) % PPS_HISTORY_SIZE]
                return found, (following - found) & _U32
        return None


@dataclass(frozen=True)
class FineTimestamp:
    """One fine-timestamp computation: ``ok`` and the ns value; ``error`` says why not."""

    ok: bool
    #: the value the HAL writes (also on the out-of-range error); 0 when nothing was written
    written_ns: int = 0
    error: str = ""

    @property
    def ftime_ns(self) -> int | None:
        """ns after the reference PPS edge, or None when the computation failed."""
        return self.written_ns if self.ok else None


def precise_timestamp(
    history: PpsHistory,
    pps_reg: int | None,
    ts_metrics: tuple[int, ...] | list[int],
    ticks: int,
    sf: int,
    if_freq_hz: int,
    pkt_freq_error: float,
) -> FineTimestamp:
    """The HAL's ``precise_timestamp_calculate`` for one record (updates ``history``).

    ``pps_reg`` is the PPS-latched counter just read; ``ticks`` the record's end-of-header latch;
    ``ts_metrics`` its 2·n signed metrics; ``if_freq_hz`` its IF chain's configured IF.
    """
    if not history.full or pps_reg is None:
        return FineTimestamp(False, error="PPS history too short")
    if len(ts_metrics) < 2:
        return FineTimestamp(False, error="no timestamp metrics")
    pps_reg &= _U32
    eop = preamble_end_ticks(ticks, sf, pkt_freq_error)
    used = 2 * metric_pairs_used(sf, len(ts_metrics) // 2)
    mean = metrics_mean(ts_metrics[:used])
    history.save(pps_reg)
    found = history.reference(eop, pps_reg)
    if found is None:
        return FineTimestamp(False, error="no reference PPS edge in the history")
    reference, second_ticks = found
    xtal_correct = TICKS_PER_SECOND / second_ticks if second_ticks else math.inf
    low, high = XTAL_CORRECT_RANGE
    if not low <= xtal_correct <= high:
        return FineTimestamp(False, error=f"crystal correction {xtal_correct} out of range")
    x = ((eop - reference) & _U32) + mean
    x += dc_notch_delay_ticks(if_freq_hz)
    x *= NS_PER_TICK
    x *= xtal_correct
    # C's (uint32_t) of a double; a negative value wraps as on x86-64 gcc (then fails the check)
    written = int(x) & _U32
    if written > MAX_FTIME_NS:
        return FineTimestamp(False, written, f"fine timestamp {written} ns out of range")
    return FineTimestamp(True, written)
