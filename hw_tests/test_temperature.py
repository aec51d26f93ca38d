"""Board temperature: STTS751 on SPI boards, the MCU on USB boards."""

from __future__ import annotations

from typing import Any

import pytest


def test_board_temperature_is_plausible(hw: Any, transport: Any) -> None:
    if hw.url.startswith("usb"):
        value = transport.temperature_c()
    else:
        from drivers.stts751 import BoardThermometer

        if hw.board is None or not hw.board.temp_i2c_addresses:
            pytest.skip("the board preset lists no temperature sensor")
        thermometer = BoardThermometer(hw.board.i2c_bus, hw.board.temp_i2c_addresses)
        try:
            assert thermometer.sensor is not None, f"no STTS751 on {hw.board.i2c_bus}"
            value = thermometer.temperature_c()
        finally:
            thermometer.close()
    assert -40.0 <= value <= 85.0
