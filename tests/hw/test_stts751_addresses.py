"""STTS751 probing order on the simulated I2C bus: sx1302_hal's 0x39, 0x3B, 0x38, the board's own
address first."""

from __future__ import annotations

import pytest

from drivers.boards import board_preset
from drivers.sim.i2c import SimI2cBus, SimStts751
from drivers.stts751 import ADDRESSES, BoardThermometer, probe_order


def test_the_hal_probes_0x39_then_0x3b_then_0x38() -> None:
    assert ADDRESSES == (0x39, 0x3B, 0x38)
    assert probe_order() == (0x39, 0x3B, 0x38)


def test_the_boards_own_address_is_probed_first() -> None:
    assert probe_order((0x3B,)) == (0x3B, 0x39, 0x38)
    assert probe_order((0x38,)) == (0x38, 0x39, 0x3B)


@pytest.mark.parametrize("board", ["semtech_corecell", "seeed_wm1302", "embit_emb_lr1302_mpcie"])
def test_a_board_finds_a_sensor_at_another_hal_address(board: str) -> None:
    # a Corecell-wired board whose sensor strap differs from the preset: 0x38 still answers
    preset = board_preset(board)
    bus = SimI2cBus({0x38: SimStts751(41.5)})
    thermometer = BoardThermometer(fixed_c=25.0, addresses=preset.temp_i2c_addresses, bus=bus)
    assert thermometer.source == "stts751@0x38"
    assert thermometer.temperature_c() == 41.5
    assert thermometer.probed == probe_order(preset.temp_i2c_addresses)


def test_the_preset_address_answers_without_probing_the_others() -> None:
    bus = SimI2cBus({0x3B: SimStts751(30.0), 0x39: SimStts751(99.0)})
    thermometer = BoardThermometer(addresses=(0x3B,), bus=bus)
    assert thermometer.temperature_c() == 30.0
    assert set(bus.transactions) == {0x3B}


def test_a_board_without_a_sensor_probes_nothing() -> None:
    bus = SimI2cBus({0x39: SimStts751(30.0)})
    thermometer = BoardThermometer(addresses=(), fixed_c=21.0, bus=bus)
    assert (thermometer.source, thermometer.temperature_c()) == ("fixed", 21.0)
    assert bus.transactions == {}


def test_no_sensor_anywhere_falls_back_to_the_fixed_value() -> None:
    bus = SimI2cBus({})
    thermometer = BoardThermometer(addresses=(0x39,), fixed_c=22.0, bus=bus)
    assert (thermometer.source, thermometer.temperature_c()) == ("fixed", 22.0)
    assert set(bus.transactions) == {0x39, 0x3B, 0x38}
    assert bus.closed
