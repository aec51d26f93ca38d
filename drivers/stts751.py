"""STTS751 board temperature sensor over Linux I2C (ref/sx1302.md §9, sx1302_hal loragw_stts751.c).

Probe order 0x39, 0x3B, 0x38, a board's own address first (``probe_order``); PRODUCT_ID (0xFD)
0x00 or 0x01 and MANUFACTURER_ID (0xFE) 0x53;
configuration 0x03 = 0x8C (12-bit), conversion rate 0x04 = 0x04; temperature = int16(TEMP_H,
TEMP_L) / 256 °C. Unlike the C HAL, a missing sensor is not fatal: ``BoardThermometer`` logs a
warning and reports the configured fixed temperature.
"""

from __future__ import annotations

import ctypes
import fcntl
import logging
import os
from typing import Protocol

from drivers.errors import SensorError

LOGGER = logging.getLogger(__name__)

I2C_SLAVE = 0x0703
I2C_RDWR = 0x0707
I2C_M_RD = 0x0001
REG_TEMP_H = 0x00
REG_TEMP_L = 0x02
REG_CONFIG = 0x03
REG_CONV_RATE = 0x04
REG_PRODUCT_ID = 0xFD
REG_MANUFACTURER_ID = 0xFE
MANUFACTURER_ST = 0x53
PRODUCT_IDS = (0x00, 0x01)
CONFIG_12BIT = 0x8C
CONV_RATE_1HZ = 0x04
#: sx1302_hal loragw_stts751.h I2C_PORT_TEMP_SENSOR, probed in this order
ADDRESSES = (0x39, 0x3B, 0x38)


class I2cBus(Protocol):
    """Byte-register access to devices on one I2C bus."""

    def read_register(self, address: int, register: int) -> int: ...
    def write_register(self, address: int, register: int, value: int) -> None: ...
    def close(self) -> None: ...


class _I2cMsg(ctypes.Structure):
    _fields_ = (
        ("addr", ctypes.c_uint16),
        ("flags", ctypes.c_uint16),
        ("len", ctypes.c_uint16),
        ("buf", ctypes.POINTER(ctypes.c_uint8)),
    )


class _I2cRdwr(ctypes.Structure):
    _fields_ = (("msgs", ctypes.POINTER(_I2cMsg)), ("nmsgs", ctypes.c_uint32))


class LinuxI2cBus:
    """``/dev/i2c-N`` through the I2C_RDWR ioctl (write register, repeated start, read)."""

    def __init__(self, path: str = "/dev/i2c-1") -> None:
        self.path = path
        try:
            self._fd: int | None = os.open(path, os.O_RDWR)
        except OSError as exc:
            raise SensorError(f"cannot open {path}: {exc}") from exc

    def _transfer(self, address: int, *messages: tuple[int, bytearray]) -> None:
        if self._fd is None:
            raise SensorError(f"{self.path} is closed")
        buffers = [(ctypes.c_uint8 * len(data)).from_buffer(data) for _, data in messages]
        msgs = (_I2cMsg * len(messages))(
            *(
                _I2cMsg(address, flags, len(data), ctypes.cast(buf, ctypes.POINTER(ctypes.c_uint8)))
                for (flags, data), buf in zip(messages, buffers, strict=True)
            )
        )
        request = _I2cRdwr(msgs, len(messages))
        try:
            fcntl.ioctl(self._fd, I2C_RDWR, request)
        except OSError as exc:
            raise SensorError(f"I2C 0x{address:02x} on {self.path}: {exc}") from exc

    def read_register(self, address: int, register: int) -> int:
        """Write the register number, then read one byte (repeated start)."""
        reply = bytearray(1)
        self._transfer(address, (0, bytearray((register,))), (I2C_M_RD, reply))
        return reply[0]

    def write_register(self, address: int, register: int, value: int) -> None:
        """Write one byte to a register."""
        self._transfer(address, (0, bytearray((register, value))))

    def close(self) -> None:
        """Close the bus. Idempotent."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class Stts751:
    """One configured STTS751."""

    def __init__(self, bus: I2cBus, address: int) -> None:
        self.bus = bus
        self.address = address

    def configure(self) -> None:
        """12-bit resolution, one conversion per second."""
        self.bus.write_register(self.address, REG_CONFIG, CONFIG_12BIT)
        self.bus.write_register(self.address, REG_CONV_RATE, CONV_RATE_1HZ)

    def temperature_c(self) -> float:
        """Read TEMP_L then TEMP_H (the HAL's order) and convert."""
        low = self.bus.read_register(self.address, REG_TEMP_L)
        high = self.bus.read_register(self.address, REG_TEMP_H)
        raw = (high << 8) | low
        if raw & 0x8000:
            raw -= 0x10000
        return raw / 256.0


def probe_order(preferred: tuple[int, ...] = ()) -> tuple[int, ...]:
    """The addresses to probe: ``preferred`` (a board's own) first, then the HAL's others."""
    return tuple(preferred) + tuple(a for a in ADDRESSES if a not in preferred)


def probe_stts751(bus: I2cBus, addresses: tuple[int, ...] = ADDRESSES) -> Stts751 | None:
    """The first address answering with the STTS751 identity, configured; None if none does."""
    for address in addresses:
        try:
            product = bus.read_register(address, REG_PRODUCT_ID)
            maker = bus.read_register(address, REG_MANUFACTURER_ID)
        except SensorError:
            continue
        if product in PRODUCT_IDS and maker == MANUFACTURER_ST:
            sensor = Stts751(bus, address)
            sensor.configure()
            LOGGER.info("STTS751 found at I2C 0x%02x (product id %d)", address, product)
            return sensor
        LOGGER.debug("I2C 0x%02x: ids 0x%02x/0x%02x, not an STTS751", address, product, maker)
    return None


class BoardThermometer:
    """The board temperature: the STTS751 when one answers, else a configured fixed value.

    ``addresses`` are the board's own (probed first, then the HAL's others); () means the board
    has no sensor and nothing is probed.
    """

    def __init__(
        self,
        bus_path: str = "/dev/i2c-1",
        addresses: tuple[int, ...] = ADDRESSES,
        fixed_c: float = 25.0,
        *,
        bus: I2cBus | None = None,
    ) -> None:
        self.fixed_c = fixed_c
        self.sensor: Stts751 | None = None
        self.probed: tuple[int, ...] = ()
        self._warned = False
        if not addresses:
            LOGGER.info("no temperature sensor on this board; using %.1f °C", fixed_c)
            return
        try:
            bus = bus or LinuxI2cBus(bus_path)
        except SensorError as exc:
            LOGGER.warning("temperature sensor unavailable (%s); using %.1f °C", exc, fixed_c)
            return
        self.probed = probe_order(addresses)
        self.sensor = probe_stts751(bus, self.probed)
        if self.sensor is None:
            LOGGER.warning(
                "no STTS751 at %s on %s; using the configured %.1f °C",
                ", ".join(f"0x{a:02x}" for a in self.probed),
                bus_path,
                fixed_c,
            )
            bus.close()

    @property
    def source(self) -> str:
        """Where readings come from: ``stts751@0x39`` or ``fixed``."""
        return f"stts751@0x{self.sensor.address:02x}" if self.sensor else "fixed"

    def temperature_c(self) -> float:
        """The current board temperature; a failed read logs once and returns the fixed value."""
        if self.sensor is None:
            return self.fixed_c
        try:
            value = self.sensor.temperature_c()
        except SensorError as exc:
            if not self._warned:
                LOGGER.warning("temperature read failed (%s); using %.1f °C", exc, self.fixed_c)
                self._warned = True
            return self.fixed_c
        self._warned = False
        return value

    def close(self) -> None:
        """Close the I2C bus. Idempotent."""
        if self.sensor is not None:
            self.sensor.bus.close()
            self.sensor = None
