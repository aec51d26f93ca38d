"""The SX1302 32 MHz counter as 32-bit microseconds (sx1302_hal loragw_sx1302_timestamp.c).

The chip counts 32 MHz ticks in 32 bits; ticks / 32 is a 27-bit µs value that wraps every
2^27 µs (about 134 s). A 5-bit wrap count per counter (free-running and PPS), bumped whenever a
read is lower than the previous one, extends it to 32 bits (wrapping every 2^32 µs, 71.6 min).
The counter must therefore be read at least once per 134 s, or a wrap is missed.
"""

from __future__ import annotations

from drivers.sx1302.fine_timestamp import PpsHistory

US27_BITS = 27
_WRAP_MASK = 0x1F
_TICKS_PER_US = 32


def ticks_to_us27(ticks: int) -> int:
    """32 MHz ticks (u32) -> the chip's 27-bit µs value."""
    return (ticks & 0xFFFFFFFF) // _TICKS_PER_US


class CounterTracker:
    """Wrap tracking of the free-running (``inst``) and PPS-latched counters."""

    def __init__(self) -> None:
        self.inst_wrap = 0
        self.inst_ref = 0
        self.pps_wrap = 0
        self.pps_ref = 0
        #: distinct PPS-latched values (raw ticks) for SX1303 fine timestamps
        self.pps_history = PpsHistory()

    def reset(self) -> None:
        """Forget every wrap (sx1302_hal ``timestamp_counter_new``; on every chip start)."""
        type(self).__init__(self)

    def update(self, pps_ticks: int, inst_ticks: int) -> None:
        """Account for one counter read (both counters, in 32 MHz ticks)."""
        self.pps_history.save(pps_ticks)
        pps, inst = ticks_to_us27(pps_ticks), ticks_to_us27(inst_ticks)
        if pps < self.pps_ref:
            self.pps_wrap = (self.pps_wrap + 1) & _WRAP_MASK
        if inst < self.inst_ref:
            self.inst_wrap = (self.inst_wrap + 1) & _WRAP_MASK
        self.pps_ref, self.inst_ref = pps, inst

    @property
    def inst_us(self) -> int:
        """The free-running counter at the last update, 32-bit µs."""
        return (self.inst_wrap << US27_BITS) | self.inst_ref

    @property
    def pps_us(self) -> int:
        """The counter latched at the last PPS edge, 32-bit µs."""
        return (self.pps_wrap << US27_BITS) | self.pps_ref

    def expand(self, packet_ticks: int) -> int:
        """A packet timestamp (32 MHz ticks) as 32-bit µs.

        A packet latched after the last counter read's wrap point (its 27-bit value is higher
        than the last read) was stored before that wrap: it takes the previous wrap count.
        """
        us27 = ticks_to_us27(packet_ticks)
        wrap = self.inst_wrap - (0 if self.inst_ref >= us27 else 1)
        return ((wrap & _WRAP_MASK) << US27_BITS) | us27
