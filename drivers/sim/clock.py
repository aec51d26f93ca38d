"""The simulated SX1302's 32 MHz counter, on real (monotonic) time or on virtual time."""

from __future__ import annotations

import time

#: the SX1302 counter runs at 32 MHz (ref/sx1302.md §5): 32 ticks per microsecond
TICKS_PER_US = 32
COUNTER_MASK = 0xFFFF_FFFF


class SimClock:
    """Time since construction, and the 32-bit 32 MHz counter the chip exposes at 0x6101.

    ``virtual=True`` freezes time until a test calls ``advance_us``; otherwise time follows
    ``time.monotonic_ns``. ``start_ticks`` is the counter value at construction, so a test can
    start a few seconds before the 2^32-tick wrap.
    """

    def __init__(self, *, virtual: bool = False, start_ticks: int = 0) -> None:
        self.virtual = virtual
        self.start_ticks = start_ticks & COUNTER_MASK
        self._origin_ns = time.monotonic_ns()
        self._virtual_us = 0

    def elapsed_us(self) -> int:
        """Microseconds since construction (never wraps)."""
        if self.virtual:
            return self._virtual_us
        return (time.monotonic_ns() - self._origin_ns) // 1000

    def advance_us(self, us: int) -> None:
        """Move virtual time forward by ``us`` microseconds (virtual clocks only)."""
        if not self.virtual:
            raise RuntimeError("advance_us needs a virtual clock (clock='virtual')")
        if us < 0:
            raise ValueError(f"time only moves forward, got {us} µs")
        self._virtual_us += us

    def ticks_at(self, elapsed_us: int) -> int:
        """The 32-bit counter value ``elapsed_us`` after construction."""
        return (self.start_ticks + elapsed_us * TICKS_PER_US) & COUNTER_MASK

    def ticks(self) -> int:
        """The 32-bit counter value now."""
        return self.ticks_at(self.elapsed_us())
