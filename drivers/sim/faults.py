"""Hardware faults of the simulated concentrator, played from scenario lines, and the world
that outlives a transport.

Scenario fault lines (docs/simulator.md)::

    {"at_ms": N, "fault": "spi_error", "duration_ms": M}   every transfer fails for M ms
    {"at_ms": N, "fault": "chip_reset"}                    power lost and back: a chip fresh
                                                           from reset, configuration gone
    {"at_ms": N, "fault": "unplug", "duration_ms": M}      the device node is gone for M ms:
                                                           opening it fails, transfers fail,
                                                           the chip is unpowered

Times are scenario time (``SimChip.started_at_us``, the first FIFO poll), the simulated world's
clock: it keeps running when the host closes and reopens the device. A ``SimWorld`` handle keeps
one ``SimChip`` and its ``FaultSchedule`` alive across ``open_sim_transport`` calls, so a radio
restart meets the same chip, the same scenario position and the same faults. Packets due while
the chip does not receive (reset, unpowered, firmware not running) are lost, as on air, and
counted in ``SimChip.stats["refused_no_firmware"]``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from drivers.errors import TransportError
from drivers.sim.chip import SimChip
from drivers.sim.scenario import ScenarioFault

LOGGER = logging.getLogger(__name__)


class _ClockAt:
    """``clock`` read at a fixed elapsed time (to play a scenario up to a past instant)."""

    def __init__(self, clock: Any, elapsed_us: int) -> None:
        self._clock = clock
        self._elapsed_us = elapsed_us

    def elapsed_us(self) -> int:
        return self._elapsed_us

    def __getattr__(self, name: str) -> Any:
        return getattr(self._clock, name)


def play_until(chip: SimChip, at_ms: int) -> None:
    """Play the scenario items due up to scenario time ``at_ms`` with the chip's state now
    (the simulator plays lazily, at the next transfer: a fault must not wait for it)."""
    if chip.started_at_us is None:
        return
    clock = chip.clock
    chip.clock = _ClockAt(clock, chip.started_at_us + at_ms * 1000)  # type: ignore[assignment]
    try:
        chip._advance()
    finally:
        chip.clock = clock


def power_off(chip: SimChip, at_ms: int) -> None:
    """The chip loses power at scenario time ``at_ms`` (``SimChip.set_powered``); packets due
    before the cut were received. Powered again, it is fresh from reset: registers at their
    defaults, both MCUs stopped, radios in standby, RX FIFO empty; the counter keeps the
    world's time."""
    with chip._lock:
        play_until(chip, at_ms)
        chip.set_powered(False)
        chip._power_on_reset()  # no supply, no state: packets due now are refused (counted)


class FaultSchedule:
    """The scenario's faults on one chip, applied lazily at each transfer or open."""

    def __init__(self, chip: SimChip, faults: tuple[ScenarioFault, ...]) -> None:
        self.chip = chip
        self.faults = faults
        self._applied: set[int] = set()  # indexes of instants (resets, unplug starts) applied
        self._powered_off: int | None = None  # index of the unplug that holds power off
        self.counts = dict.fromkeys(("spi_errors", "resets", "unplugs", "refused_opens"), 0)

    def now_ms(self) -> int | None:
        """Scenario time now, or None before the scenario clock started."""
        started = self.chip.started_at_us
        if started is None:
            return None
        return (self.chip.clock.elapsed_us() - started) // 1000

    def _active(self, kind: str, now_ms: int) -> bool:
        return any(f.fault == kind and f.at_ms <= now_ms < f.end_ms for f in self.faults)

    def _apply_instants(self, now_ms: int) -> None:
        for index, fault in enumerate(self.faults):
            if fault.at_ms > now_ms or index in self._applied:
                continue
            if fault.fault == "chip_reset":
                self._applied.add(index)
                self.counts["resets"] += 1
                LOGGER.info("simulated fault at %d ms: chip reset", fault.at_ms)
                power_off(self.chip, fault.at_ms)
                self.chip.set_powered(True)
            elif fault.fault == "unplug":
                self._applied.add(index)
                self.counts["unplugs"] += 1
                LOGGER.info("simulated fault at %d ms: device unplugged for %d ms",
                            fault.at_ms, fault.duration_ms)  # fmt: skip
                power_off(
                    self.chip, fault.at_ms
                )  # unpowered until replugged, then fresh from reset
                self._powered_off = index
        if self._powered_off is not None and self.faults[self._powered_off].end_ms <= now_ms:
            play_until(self.chip, self.faults[self._powered_off].end_ms)  # lost: unpowered
            self._powered_off = None
            self.chip.set_powered(True)

    def before_transfer(self) -> None:
        """Apply due faults; raise TransportError while transfers fail."""
        if not self.faults:  # the common case, at every SPI transfer: only the chip's advance
            with self.chip._lock:
                self.chip._advance()
            return
        self._apply(opening=False)

    def check_open(self) -> None:
        """Raise TransportError while the device node is gone (an unplug in progress)."""
        self._apply(opening=True)

    def _apply(self, *, opening: bool) -> None:
        now_ms = self.now_ms()
        if now_ms is None:
            return
        with self.chip._lock:
            self._apply_instants(now_ms)
            if self._active("unplug", now_ms):
                self.counts["refused_opens" if opening else "spi_errors"] += 1
                what = "cannot open the simulated device" if opening else "transfer failed"
                raise TransportError(f"{what}: unplugged")
            if opening:
                return
            if self._active("spi_error", now_ms):
                self.counts["spi_errors"] += 1
                raise TransportError("injected SPI fault (simulated spi_error)")
            # a transfer may change what the chip receives: packets due so far meet the
            # state that held until now (power, firmware, GLOBAL_EN)
            self.chip._advance()

    @property
    def done(self) -> bool:
        """Every fault has started and ended (scenario time)."""
        if not self.faults:
            return True
        now_ms = self.now_ms()
        return now_ms is not None and all(f.end_ms <= now_ms for f in self.faults)


@dataclass
class SimWorld:
    """A handle its owner keeps: ``open_sim_transport(world=...)`` reuses its chip and faults
    while the options stay the same, so the simulated world outlives a closed transport."""

    chip: SimChip | None = None
    faults: FaultSchedule | None = None
    key: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
