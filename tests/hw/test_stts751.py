"""STTS751 probing and conversion through an injected I2C bus."""

from __future__ import annotations

import pytest

from drivers.errors import SensorError
from drivers.stts751 import BoardThermometer, probe_stts751


class FakeBus:
    """Devices as register dicts; absent addresses NACK like the kernel (EREMOTEIO)."""

    def __init__(self, devices: dict[int, dict[int, int]]) -> None:
        self.devices = devices
        self.writes: list[tuple[int, int, int]] = []
        self.closed = False

    def read_register(self, address: int, register: int) -> int:
        if address not in self.devices:
            raise SensorError(f"I2C 0x{address:02x}: Remote I/O error")
        return self.devices[address].get(register, 0)

    def write_register(self, address: int, register: int, value: int) -> None:
        self.writes.append((address, register, value))

    def close(self) -> None:
        self.closed = True


def stts751(temp_h: int, temp_l: int) -> dict[int, int]:
    return {0xFD: 0x00, 0xFE: 0x53, 0xFF: 0x01, 0x00: temp_h, 0x02: temp_l}


def test_probe_finds_the_sensor_at_0x3b_after_0x39_fails() -> None:
    bus = FakeBus({0x3B: stts751(0x19, 0x80)})
    sensor = probe_stts751(bus)
    assert sensor is not None and sensor.address == 0x3B
    assert bus.writes == [(0x3B, 0x03, 0x8C), (0x3B, 0x04, 0x04)]


def test_temperature_is_the_signed_16_bit_value_over_256() -> None:
    assert probe_stts751(FakeBus({0x39: stts751(0x19, 0x80)})).temperature_c() == 25.5
    assert probe_stts751(FakeBus({0x39: stts751(0xF6, 0x00)})).temperature_c() == -10.0


def test_a_device_with_another_identity_is_not_taken() -> None:
    other = {0xFD: 0x00, 0xFE: 0x11}
    assert probe_stts751(FakeBus({0x39: other, 0x38: stts751(0x14, 0)})).address == 0x38


def test_absent_sensor_means_the_fixed_temperature(caplog: pytest.LogCaptureFixture) -> None:
    bus = FakeBus({})
    thermometer = BoardThermometer(fixed_c=21.0, bus=bus)
    assert thermometer.temperature_c() == 21.0
    assert thermometer.source == "fixed"
    assert "no STTS751" in caplog.text
    assert bus.closed


def test_missing_i2c_device_means_the_fixed_temperature(tmp_path) -> None:
    thermometer = BoardThermometer(str(tmp_path / "i2c-9"), fixed_c=30.0)
    assert thermometer.temperature_c() == 30.0


def test_failed_read_after_probe_falls_back_to_the_fixed_value() -> None:
    bus = FakeBus({0x39: stts751(0x20, 0)})
    thermometer = BoardThermometer(fixed_c=22.0, bus=bus)
    assert thermometer.temperature_c() == 32.0
    del bus.devices[0x39]
    assert thermometer.temperature_c() == 22.0
    assert thermometer.source == "stts751@0x39"
