"""Reset and power lines of the concentrator board: GPIO character device, sysfs as a fallback.

The sequence is sx1302_hal tools/reset_lgw.sh (ref/sx1302.md §8): power enable high, SX1302 reset
pulsed high then low, SX1261 reset (active low) low then high, 100 ms between steps. Pin numbers
are line offsets on a gpiochip (BCM numbers on a Raspberry Pi). Recent kernels number sysfs GPIOs
from a per-chip base (e.g. 512 or 571), so the sysfs backend adds the base it reads from
``/sys/class/gpio/gpiochipN/base``.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any, Protocol

from drivers.errors import SensorError

LOGGER = logging.getLogger(__name__)
CONSUMER = "edge-agent"
STEP_S = 0.1


class GpioLine(Protocol):
    """One claimed output line."""

    def set(self, value: int) -> None: ...
    def release(self) -> None: ...


class GpioBackend(Protocol):
    """Claims output lines on a gpiochip."""

    def claim(self, chip: str, offset: int) -> GpioLine: ...


class _GpiodLine:
    def __init__(self, gpiod: Any, chip: str, offset: int) -> None:
        self._gpiod = gpiod
        self._offset = offset
        settings = gpiod.LineSettings(
            direction=gpiod.line.Direction.OUTPUT, output_value=gpiod.line.Value.INACTIVE
        )
        self._request = gpiod.request_lines(chip, consumer=CONSUMER, config={offset: settings})

    def set(self, value: int) -> None:
        level = self._gpiod.line.Value.ACTIVE if value else self._gpiod.line.Value.INACTIVE
        self._request.set_value(self._offset, level)

    def release(self) -> None:
        self._request.release()


class GpiodBackend:
    """libgpiod v2 Python bindings (PyPI ``gpiod``)."""

    def __init__(self) -> None:
        try:
            import gpiod
        except ImportError as exc:
            raise SensorError(
                "the gpiod package is not installed (pip install gpiod); "
                "falling back to sysfs needs /sys/class/gpio"
            ) from exc
        self._gpiod = gpiod

    def claim(self, chip: str, offset: int) -> GpioLine:
        """Request ``offset`` on ``chip`` as an output driven low."""
        try:
            return _GpiodLine(self._gpiod, chip, offset)
        except OSError as exc:
            raise SensorError(f"cannot claim line {offset} of {chip}: {exc}") from exc


class _SysfsLine:
    def __init__(self, root: Path, number: int) -> None:
        self._root = root
        self._number = number
        self._dir = root / f"gpio{number}"
        if not self._dir.exists():
            (root / "export").write_text(str(number))
        (self._dir / "direction").write_text("out")

    def set(self, value: int) -> None:
        (self._dir / "value").write_text("1" if value else "0")

    def release(self) -> None:
        if self._dir.exists():
            (self._root / "unexport").write_text(str(self._number))


class SysfsBackend:
    """The deprecated ``/sys/class/gpio`` interface, with the chip's base offset applied."""

    def __init__(self, root: str | Path = "/sys/class/gpio") -> None:
        self.root = Path(root)

    def chip_base(self, chip: str) -> int:
        """The sysfs number of line 0 of ``chip`` (``/dev/gpiochip0`` → e.g. 512 on 6.6 kernels)."""
        name = os.path.basename(chip)
        candidates = sorted(self.root.glob("gpiochip*"))
        for entry in candidates:
            device = entry / "device"
            if device.exists() and os.path.basename(os.path.realpath(device)) == name:
                return int((entry / "base").read_text().strip())
        if len(candidates) == 1:
            return int((candidates[0] / "base").read_text().strip())
        if (self.root / name / "base").exists():
            return int((self.root / name / "base").read_text().strip())
        raise SensorError(f"no sysfs gpiochip for {chip} under {self.root}")

    def claim(self, chip: str, offset: int) -> GpioLine:
        """Export ``base + offset`` and make it an output."""
        try:
            return _SysfsLine(self.root, self.chip_base(chip) + offset)
        except OSError as exc:
            raise SensorError(f"cannot export line {offset} of {chip} via sysfs: {exc}") from exc


def default_backend() -> GpioBackend:
    """``gpiod`` when importable, else sysfs."""
    try:
        return GpiodBackend()
    except SensorError:
        LOGGER.info("gpiod Python bindings not installed; using /sys/class/gpio")
        return SysfsBackend()


class ResetLines:
    """The concentrator's power-enable, SX1302 reset and SX1261 reset lines."""

    def __init__(
        self,
        chip: str,
        reset_pin: int | None,
        power_pin: int | None = None,
        sx1261_reset_pin: int | None = None,
        *,
        backend: GpioBackend | None = None,
        step_s: float = STEP_S,
    ) -> None:
        self.chip = chip
        self.pins = {"power": power_pin, "reset": reset_pin, "sx1261_reset": sx1261_reset_pin}
        self._backend = backend
        self._step_s = step_s
        self._lines: dict[str, GpioLine] = {}

    @classmethod
    def for_board(cls, board: Any, **kwargs: Any) -> ResetLines | None:
        """The lines of a ``drivers.boards.BoardPreset``; None for USB boards or without a reset."""
        if board.usb or board.reset_pin is None:
            return None
        return cls(
            board.gpiochip, board.reset_pin, board.power_pin, board.sx1261_reset_pin, **kwargs
        )

    def _line(self, role: str) -> GpioLine | None:
        pin = self.pins[role]
        if pin is None:
            return None
        if role not in self._lines:
            if self._backend is None:
                self._backend = default_backend()
            self._lines[role] = self._backend.claim(self.chip, pin)
        return self._lines[role]

    def _drive(self, role: str, *values: int) -> None:
        line = self._line(role)
        if line is None:
            return
        for value in values:
            LOGGER.debug("GPIO %s (%s line %s) = %d", role, self.chip, self.pins[role], value)
            line.set(value)
            time.sleep(self._step_s)

    def reset(self) -> None:
        """Power on, pulse the SX1302 reset, release the SX1261 (reset_lgw.sh order)."""
        self._drive("power", 1)
        self._drive("reset", 1, 0)
        self._drive("sx1261_reset", 0, 1)

    def release(self) -> None:
        """Give every claimed line back. Idempotent."""
        lines, self._lines = self._lines, {}
        for line in lines.values():
            try:
                line.release()
            except OSError as exc:
                LOGGER.warning("releasing GPIO line failed: %s", exc)

    def __enter__(self) -> ResetLines:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
