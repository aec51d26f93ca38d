"""SimClock: the 32 MHz counter on virtual and real time."""

from __future__ import annotations

import pytest

from drivers.sim import SimClock


def test_virtual_clock_counts_32_ticks_per_microsecond():
    clock = SimClock(virtual=True, start_ticks=100)
    clock.advance_us(1_000)
    assert clock.ticks() == 100 + 32_000


def test_virtual_clock_wraps_at_2_pow_32():
    clock = SimClock(virtual=True, start_ticks=2**32 - 32)
    clock.advance_us(3)
    assert clock.ticks() == 64


def test_time_does_not_go_backwards():
    with pytest.raises(ValueError):
        SimClock(virtual=True).advance_us(-1)


def test_real_clock_cannot_be_advanced_by_hand():
    with pytest.raises(RuntimeError, match="virtual"):
        SimClock().advance_us(10)


def test_real_clock_is_monotonic():
    clock = SimClock()
    first = clock.elapsed_us()
    assert clock.elapsed_us() >= first
