"""SX1250 radio commands through the SX1302 SPI mux (sx1302_hal ``loragw_sx1250.c``).

The SX1250 is driven with SX126x commands: ``[mux, opcode, params...]``; replies start with the
status byte, whose bits [6:4] are the chip mode. There is no BUSY line through the mux: the HAL
waits a fixed 1 ms before every command, and so do we.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from enum import IntEnum

from drivers.errors import RadioError
from drivers.transport import Transport

LOGGER = logging.getLogger(__name__)

#: sx1302_hal sx1250_spi.c WAIT_BUSY_SX1250_MS
COMMAND_GAP_S = 0.001
#: SX1250 crystal and the frequency word's scale: word = f * 2^25 / 32 MHz
XTAL_HZ = 32_000_000
RX_CONTINUOUS = 0xFFFFFF
CALIBRATE_ALL = 0x7F


class Opcode(IntEnum):
    """SX1250 command opcodes used for RX (ref/sx1302.md §1)."""

    WRITE_REGISTER = 0x0D
    GET_DEVICE_ERRORS = 0x17
    SET_STANDBY = 0x80
    SET_RX = 0x82
    SET_RF_FREQUENCY = 0x86
    CALIBRATE = 0x89
    CALIBRATE_IMAGE = 0x98
    GET_STATUS = 0xC0


class Standby(IntEnum):
    """SET_STANDBY parameter."""

    RC = 0x00
    XOSC = 0x01


class ChipMode(IntEnum):
    """Status byte bits [6:4]."""

    STBY_RC = 2
    STBY_XOSC = 3
    FS = 4
    RX = 5
    TX = 6


#: CALIBRATE_IMAGE band pairs: (low, high) open interval in Hz -> the two parameter bytes
IMAGE_CALIBRATION_BANDS: tuple[tuple[int, int, bytes], ...] = (
    (430_000_000, 440_000_000, b"\x6b\x6f"),
    (470_000_000, 510_000_000, b"\x75\x81"),
    (779_000_000, 787_000_000, b"\xc1\xc5"),
    (863_000_000, 870_000_000, b"\xd7\xdb"),
    (902_000_000, 928_000_000, b"\xe1\xe9"),
)
#: GET_DEVICE_ERRORS: bit 4 of the third reply byte (sx1302_hal sx1250_calibrate)
_IMAGE_CALIBRATION_ERROR_BIT = 4


def chip_mode(status: int) -> int:
    """Chip mode bits [6:4] of an SX126x status byte."""
    return (status >> 4) & 0x07


def frequency_word(freq_hz: int) -> bytes:
    """SET_RF_FREQUENCY parameter: f * 2^25 / 32 MHz, big-endian (867.5 MHz -> 36 38 00 00)."""
    return ((freq_hz << 25) // XTAL_HZ).to_bytes(4, "big")


def image_calibration_band(freq_hz: int) -> bytes:
    """CALIBRATE_IMAGE parameters for a radio centre frequency; RadioError outside every band."""
    for low, high, params in IMAGE_CALIBRATION_BANDS:
        if low < freq_hz < high:
            return params
    bands = ", ".join(f"{lo / 1e6:g}-{hi / 1e6:g}" for lo, hi, _ in IMAGE_CALIBRATION_BANDS)
    raise RadioError(f"no SX1250 image calibration band for {freq_hz} Hz (bands, MHz: {bands})")


class Sx1250:
    """One SX1250 behind the SX1302 mux (``target`` = Target.RADIO_A or RADIO_B)."""

    def __init__(
        self, transport: Transport, target: int, *, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.transport = transport
        self.target = int(target)
        self.name = "radio A" if self.target == 1 else "radio B"
        self._sleep = sleep

    def command(self, opcode: int, params: bytes = b"", reply_length: int = 0) -> bytes:
        """Send one command after the HAL's fixed 1 ms busy gap."""
        self._sleep(COMMAND_GAP_S)
        return self.transport.command(self.target, opcode, params, reply_length)

    def get_status(self) -> int:
        """The status byte."""
        return self.command(Opcode.GET_STATUS, b"", 1)[0]

    def expect_mode(self, expected: ChipMode, after: str) -> None:
        """Raise RadioError naming this radio and the mode read unless it is ``expected``."""
        status = self.get_status()
        mode = chip_mode(status)
        if mode != expected:
            try:
                got = ChipMode(mode).name
            except ValueError:
                got = "unknown"
            raise RadioError(
                f"SX1250 {self.name}: chip mode {mode} ({got}, status byte {status:#04x}) after "
                f"{after}, expected {int(expected)} ({expected.name}); is the radio powered "
                "and out of reset?"
            )

    def set_standby(self, mode: Standby) -> None:
        """SET_STANDBY(RC or XOSC)."""
        self.command(Opcode.SET_STANDBY, bytes([mode]))

    def calibrate(self, blocks: int = CALIBRATE_ALL) -> None:
        """CALIBRATE the selected blocks (0x7F: all)."""
        self.command(Opcode.CALIBRATE, bytes([blocks]))

    def calibrate_image(self, freq_hz: int) -> None:
        """CALIBRATE_IMAGE for the band holding ``freq_hz``."""
        self.command(Opcode.CALIBRATE_IMAGE, image_calibration_band(freq_hz))

    def get_device_errors(self) -> bytes:
        """GET_DEVICE_ERRORS: status byte then the two error bytes."""
        return self.command(Opcode.GET_DEVICE_ERRORS, b"", 3)

    def check_image_calibration(self) -> None:
        """RadioError if the device reports an image calibration error."""
        errors = self.get_device_errors()
        if errors[2] >> _IMAGE_CALIBRATION_ERROR_BIT & 1:
            raise RadioError(
                f"SX1250 {self.name}: image calibration failed (device errors {errors[1:].hex()})"
            )

    def write_register(self, address: int, data: bytes) -> None:
        """WRITE_REGISTER at a 16-bit radio register address."""
        self.command(Opcode.WRITE_REGISTER, address.to_bytes(2, "big") + bytes(data))

    def set_rf_frequency(self, freq_hz: int) -> None:
        """SET_RF_FREQUENCY."""
        self.command(Opcode.SET_RF_FREQUENCY, frequency_word(freq_hz))

    def set_rx(self, timeout: int = RX_CONTINUOUS) -> None:
        """SET_RX; 0xFFFFFF = continuous (the SX1302 takes its clock from the radio in RX)."""
        self.command(Opcode.SET_RX, timeout.to_bytes(3, "big"))
