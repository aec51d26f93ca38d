"""A simulated I2C bus with STTS751 temperature sensors (drivers.stts751.I2cBus).

Registers as ST's datasheet and sx1302_hal loragw_stts751.c use them: PRODUCT_ID 0xFD (0x00 for
the STTS751-0, 0x01 for the -1), MANUFACTURER_ID 0xFE = 0x53, REVISION 0xFF, CONFIG 0x03,
CONVERSION RATE 0x04, TEMP_H 0x00 / TEMP_L 0x02 (int16 / 256 °C). An address with no device
NACKs as the kernel reports it (EREMOTEIO, a ``SensorError``); a write to a register the sensor
does not have is refused loudly.
"""

from __future__ import annotations

from drivers.errors import SensorError

_WRITABLE = frozenset({0x03, 0x04})


class SimStts751:
    """One STTS751 at a fixed temperature (settable), with the registers the HAL touches."""

    def __init__(self, temperature_c: float = 25.0, product_id: int = 0x00) -> None:
        self.registers = {0xFD: product_id, 0xFE: 0x53, 0xFF: 0x01, 0x03: 0x00, 0x04: 0x04}
        self.temperature_c = temperature_c

    def read(self, register: int) -> int:
        """One register byte; the temperature registers follow ``temperature_c``."""
        raw = round(self.temperature_c * 256) & 0xFFFF
        if register == 0x00:
            return raw >> 8
        if register == 0x02:
            return raw & 0xFF
        return self.registers.get(register, 0x00)

    def write(self, register: int, value: int) -> None:
        """Write the configuration or conversion-rate register."""
        if register not in _WRITABLE:
            raise SensorError(f"simulated STTS751: register 0x{register:02x} is not writable")
        self.registers[register] = value & 0xFF


class SimI2cBus:
    """Devices by 7-bit address; counts the transactions each address saw."""

    def __init__(self, devices: dict[int, SimStts751] | None = None) -> None:
        self.devices = dict(devices or {})
        self.transactions: dict[int, int] = {}
        self.closed = False

    def _device(self, address: int) -> SimStts751:
        if self.closed:
            raise SensorError("simulated I2C bus is closed")
        self.transactions[address] = self.transactions.get(address, 0) + 1
        try:
            return self.devices[address]
        except KeyError:
            raise SensorError(f"I2C 0x{address:02x}: Remote I/O error (no device)") from None

    def read_register(self, address: int, register: int) -> int:
        """Read one register of the device at ``address``."""
        return self._device(address).read(register)

    def write_register(self, address: int, register: int, value: int) -> None:
        """Write one register of the device at ``address``."""
        self._device(address).write(register, value)

    def close(self) -> None:
        """Close the bus. Idempotent."""
        self.closed = True
