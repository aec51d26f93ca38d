"""Reset and power lines of the concentrator board, through the GPIO character device.

The sequence is sx1302_hal tools/reset_lgw.sh (ref/sx1302.md §8): power enable high, SX1302 reset
pulsed high then low, SX1261 reset (active low) low then high, 100 ms between steps. Pin numbers
are line offsets on a gpiochip (BCM numbers on a Raspberry Pi).

The lines stay requested for as long as ``ResetLines`` lives (the daemon's lifetime), as
reset_lgw.sh's exported pins and concentratord's line handles do: a released line falls back to
an input at its pull, and a pulled-down POWER_EN browns the concentrator out.

There is no sysfs (``/sys/class/gpio``) fallback: the shipped systemd unit mounts ``/sys``
read-only (ProtectKernelTunables), Raspberry Pi kernels >= 6.6 number sysfs GPIOs from a per-chip
base on several gpiochips, and export then direction races udev's permission change. Without the
``gpiod`` bindings, claiming a line fails with a SensorError that says what to install (and
``edge-agent diag`` says the same).
"""

from __future__ import annotations

import logging
import time
from typing import Any, Protocol

from drivers.errors import SensorError

LOGGER = logging.getLogger(__name__)
CONSUMER = "edge-agent"
STEP_S = 0.1
GPIOD_INSTALL_HINT = (
    "install the libgpiod v2 Python bindings into the agent's environment: "
    "sudo /opt/edge-agent/bin/pip install 'gpiod>=2.1' (armv7 builds it: apt install gcc "
    "python3-dev first), or apt install python3-libgpiod on a release that ships version 2 "
    "(Debian 13, Raspberry Pi OS based on it) with a venv made --system-site-packages"
)


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
                f"the gpiod Python package is missing, so the board's reset/power lines cannot "
                f"be driven: {GPIOD_INSTALL_HINT}"
            ) from exc
        if not hasattr(gpiod, "request_lines"):
            version = getattr(gpiod, "__version__", "1.x")
            raise SensorError(
                f"gpiod {version} is the libgpiod v1 API; edge-agent needs v2: {GPIOD_INSTALL_HINT}"
            )
        self._gpiod = gpiod

    def claim(self, chip: str, offset: int) -> GpioLine:
        """Request ``offset`` on ``chip`` as an output driven low."""
        try:
            return _GpiodLine(self._gpiod, chip, offset)
        except OSError as exc:
            raise SensorError(f"cannot claim line {offset} of {chip}: {exc}") from exc


def default_backend() -> GpioBackend:
    """The GPIO character device through ``gpiod``; SensorError naming what to install."""
    return GpiodBackend()


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

    def stop(self) -> None:
        """reset_lgw.sh ``stop``: the reset sequence once more, then give the lines back.

        The chip is left as a reset leaves it: firmware stopped, radios in reset, nothing armed
        to transmit. Call it when the daemon exits, not between radio restarts.
        """
        try:
            if self._lines:
                self.reset()
        finally:
            self.release()

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
