"""Hardware around the chip for the daemon: board preset, reset GPIOs, thermometer, firmware.

``open_concentrator`` (edge_agent.service) calls ``radio_setup(cfg)``: it resolves the
``[concentrator] board`` preset (with ``[concentrator.board_overrides]``), gives the
Concentrator a chip factory (``new_chip``) that resets the board before every start (GPIOs on
``spi://``, the MCU on ``usb://``; the GPIO lines are requested at the first start and held until
``close``, so POWER_EN stays driven), opens the board thermometer (an absent
sensor is a warning and ``[concentrator] temperature_c``), loads the AGC/ARB firmware from
``firmware_dir`` (on ``sim://`` without it: the simulator's stand-in images) and, with a
``[gps] tty`` (or the board's GNSS), wraps the concentrator for GPS time (edge_agent.radio_gps).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from drivers.boards import BoardPreset, apply_overrides, board_preset
from drivers.errors import DriverError, FirmwareError
from drivers.firmware import Firmware, load_firmware, missing_firmware_help
from edge_agent.config import AgentConfig

LOGGER = logging.getLogger(__name__)


@dataclass
class RadioSetup:
    """What the concentrator needs besides its transport."""

    board: BoardPreset | None
    firmware: Firmware | None  # None: the transport's default (simulator stand-ins)
    temperature_c: Callable[[], float]
    #: the driver's waits (radio resets, calibrations): return at once on ``sim://``
    sleep: Callable[[float], None] = time.sleep
    url: str = "sim://"
    #: options for ``drivers.gpio.ResetLines`` (``backend``, ``step_s``): tests, the simulator
    gpio_options: dict[str, Any] = field(default_factory=dict)
    #: the board's reset/power lines, requested at the first start and held until ``close``
    lines: Any = field(default=None, init=False)

    def new_chip(self, transport: Any) -> Any:
        """A fresh SX1302 driver after a board reset; the Concentrator calls it at every start.

        The reset is the board preset's power/reset GPIOs on ``spi://`` and the MCU's GPIO
        sequence on ``usb://`` (``Transport.reset``; nothing on ``sim://``).
        """
        from drivers.sx1302.chip import SX1302

        if self.lines is None:
            self.lines = reset_board(self.board, self.url, **self.gpio_options)
        else:
            self.lines.reset()  # the same requests: the lines never float between starts
        transport.reset()
        return SX1302(transport, firmware=self.firmware, sleep=self.sleep)

    def temperature_for(self, transport: Any, url: str) -> Callable[[], float]:
        """On ``usb://`` the MCU's GET_STATUS temperature; otherwise ``temperature_c``."""
        if url_scheme(url) != "usb" or not callable(getattr(transport, "temperature_c", None)):
            return self.temperature_c
        return McuThermometer(transport.temperature_c, self.temperature_c).temperature_c

    def close(self) -> None:
        """Leave the chip reset and give the board lines back (reset_lgw.sh ``stop``), release
        the board thermometer's I2C bus. Idempotent."""
        lines, self.lines = self.lines, None
        if lines is not None:
            try:
                lines.stop()
            except DriverError as exc:
                LOGGER.warning("board reset at stop failed: %s", exc)
        close = getattr(getattr(self.temperature_c, "__self__", None), "close", None)
        if callable(close):
            close()

    def wrap(self, concentrator: Any, cfg: AgentConfig) -> Any:
        """``concentrator`` with GPS time and location when a GPS source is configured."""
        from edge_agent.radio_gps import GpsConcentrator, gps_source

        source = gps_source(cfg.gps, self.board)
        return concentrator if source is None else GpsConcentrator(concentrator, source)


class McuThermometer:
    """The USB bridge MCU's temperature; a failed read logs once and uses the fallback."""

    def __init__(self, read: Callable[[], float], fallback: Callable[[], float]) -> None:
        self._read = read
        self._fallback = fallback
        self._warned = False

    def temperature_c(self) -> float:
        """The MCU's reading, or the fallback when GET_STATUS fails."""
        try:
            value = self._read()
        except DriverError as exc:
            if not self._warned:
                LOGGER.warning("MCU temperature read failed (%s); using the fallback", exc)
                self._warned = True
            return self._fallback()
        self._warned = False
        return value


def url_scheme(url: str) -> str:
    """The transport scheme of ``url`` without a ``spy+`` prefix."""
    return urlsplit(url).scheme.removeprefix("spy+")


def resolve_board(cfg: AgentConfig) -> BoardPreset | None:
    """The ``[concentrator] board`` preset with ``[concentrator.board_overrides]`` applied."""
    conc = cfg.concentrator
    if conc.board is None:
        return None
    preset = board_preset(conc.board)
    overrides: dict[str, Any] = getattr(conc, "board_overrides", None) or {}
    return apply_overrides(preset, overrides) if overrides else preset


def resolve_firmware(cfg: AgentConfig) -> Firmware | None:
    """The AGC/ARB images of ``firmware_dir``; None on ``sim://`` without one."""
    conc = cfg.concentrator
    if conc.firmware_dir:
        return load_firmware(conc.firmware_dir)
    if url_scheme(conc.url) == "sim":
        return None
    raise FirmwareError(f"[concentrator] firmware_dir is not set.\n{missing_firmware_help(None)}")


def reset_board(board: BoardPreset | None, url: str, **gpio_options: Any) -> Any:
    """Request the board's power/reset lines and pulse them before a start on ``spi://``
    (reset_lgw.sh); the ``ResetLines``, still holding the lines (the caller releases them), or
    None when there is nothing to drive."""
    if board is None or url_scheme(url) != "spi":
        return None
    from drivers.gpio import ResetLines

    lines = ResetLines.for_board(board, **gpio_options)
    if lines is None:
        return None
    try:
        lines.reset()
    except BaseException:
        lines.release()
        raise
    LOGGER.info("board %s: SX1302 reset through %s (lines held)", board.name, board.gpiochip)
    return lines


def thermometer(cfg: AgentConfig, board: BoardPreset | None) -> Callable[[], float]:
    """The board temperature source: STTS751 on ``spi://`` boards that have one, else fixed."""
    fixed = cfg.concentrator.temperature_c
    if board is None or url_scheme(cfg.concentrator.url) != "spi" or not board.temp_i2c_addresses:
        return lambda: fixed
    from drivers.stts751 import BoardThermometer

    thermo = BoardThermometer(board.i2c_bus, board.temp_i2c_addresses, fixed)
    LOGGER.info("board temperature from %s", thermo.source)
    return thermo.temperature_c


def radio_setup(cfg: AgentConfig) -> RadioSetup:
    """Board preset, thermometer and firmware for the concentrator (the reset is ``new_chip``'s)."""
    board = resolve_board(cfg)
    firmware = resolve_firmware(cfg)
    url = cfg.concentrator.url
    sleep = _no_wait if url_scheme(url) == "sim" else time.sleep
    return RadioSetup(board, firmware, thermometer(cfg, board), sleep, url)


def _no_wait(_seconds: float) -> None:
    """The simulated radios settle at once."""
