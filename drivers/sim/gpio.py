"""A simulated gpiochip whose lines drive a SimChip's power and reset inputs.

It is a ``drivers.gpio`` backend (``claim(chip, offset)``), so ``ResetLines`` runs against it
unchanged. A line that is not requested is an input at its pull: that is what a released line
becomes on mainline kernels and on Raspberry Pi OS with libgpiod (BCM GPIOs 9..27, which every
board preset uses, default to pull-down). So releasing the power line powers the simulated
concentrator off, and the SX1302 reset line (active high) released is out of reset.

    gpio = SimGpioChip.for_board(chip, board_preset("semtech_corecell"))
    lines = ResetLines.for_board(board, backend=gpio, step_s=0)
"""

from __future__ import annotations

import logging
from typing import Any

from drivers.errors import SensorError

LOGGER = logging.getLogger(__name__)


class SimGpioLine:
    """One requested output line of a SimGpioChip."""

    def __init__(self, gpio: SimGpioChip, offset: int) -> None:
        self._gpio = gpio
        self.offset = offset

    def set(self, value: int) -> None:
        """Drive the line (1 = active = high)."""
        self._gpio._drive(self, 1 if value else 0)

    def release(self) -> None:
        """Give the line back: it falls to its pull."""
        self._gpio._release(self)


class SimGpioChip:
    """A gpiochip with the board's power enable, SX1302 reset and SX1261 reset lines."""

    def __init__(
        self,
        chip: Any,
        *,
        power_pin: int | None = None,
        reset_pin: int | None = None,
        sx1261_reset_pin: int | None = None,
        pulls: dict[int, int] | None = None,
    ) -> None:
        self.chip = chip
        self.power_pin = power_pin
        self.reset_pin = reset_pin
        self.sx1261_reset_pin = sx1261_reset_pin
        #: level of a line nobody requested (default 0: pull-down)
        self.pulls = dict(pulls or {})
        #: ("request" | "release", offset, None) and ("set", offset, value), in order
        self.events: list[tuple[str, int, int | None]] = []
        self._requested: dict[int, SimGpioLine] = {}
        self._driven: dict[int, int] = {}
        self._apply()

    @classmethod
    def for_board(cls, chip: Any, board: Any, **kwargs: Any) -> SimGpioChip:
        """The lines of a ``drivers.boards.BoardPreset`` wired to ``chip``."""
        return cls(
            chip,
            power_pin=board.power_pin,
            reset_pin=board.reset_pin,
            sx1261_reset_pin=board.sx1261_reset_pin,
            **kwargs,
        )

    def level(self, offset: int) -> int:
        """The line's level now: driven while requested, else its pull."""
        if offset in self._requested:
            return self._driven[offset]
        return self.pulls.get(offset, 0)

    def requested(self) -> set[int]:
        """Offsets currently requested."""
        return set(self._requested)

    def claim(self, chip: str, offset: int) -> SimGpioLine:
        """Request ``offset`` as an output driven low (inactive), as libgpiod does."""
        if offset in self._requested:
            raise SensorError(f"cannot claim line {offset} of {chip}: Device or resource busy")
        line = SimGpioLine(self, offset)
        self._requested[offset] = line
        self._driven[offset] = 0
        self.events.append(("request", offset, None))
        self._apply()
        return line

    def _drive(self, line: SimGpioLine, value: int) -> None:
        if self._requested.get(line.offset) is not line:
            raise SensorError(f"line {line.offset} was released")
        self._driven[line.offset] = value
        self.events.append(("set", line.offset, value))
        self._apply()

    def _release(self, line: SimGpioLine) -> None:
        if self._requested.get(line.offset) is not line:
            return
        del self._requested[line.offset]
        del self._driven[line.offset]
        self.events.append(("release", line.offset, None))
        self._apply()

    def _apply(self) -> None:
        """Feed the line levels to the chip: power enable, SX1302 reset (active high)."""
        if self.power_pin is not None:
            self.chip.set_powered(self.level(self.power_pin) == 1)
        if self.reset_pin is not None:
            self.chip.set_reset(self.level(self.reset_pin) == 1)
