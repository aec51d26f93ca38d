"""``diag temperature`` on the simulated I2C bus: the board's address first, then the HAL's
others, and the detail names the address that answered and those that did not."""

from __future__ import annotations

import pytest

import edge_agent.diag.radio as radio
from drivers.sim.i2c import SimI2cBus, SimStts751
from tests.ops.conftest import run_one


def _diag_bus(monkeypatch: pytest.MonkeyPatch, bus: SimI2cBus) -> list[str]:
    opened: list[str] = []

    def open_bus(path: str) -> SimI2cBus:
        opened.append(path)
        return bus

    monkeypatch.setattr(radio, "open_i2c_bus", open_bus)
    return opened


def test_diag_temperature_names_the_address_that_answered(use_config, monkeypatch) -> None:
    use_config(concentrator={"url": "spi:///dev/spidev0.0", "board": "semtech_corecell"})
    opened = _diag_bus(monkeypatch, SimI2cBus({0x39: SimStts751(36.25)}))
    result = run_one("temperature")
    assert (result.status, result.detail) == (
        "pass",
        "36.2 °C (STTS751 at 0x39 on /dev/i2c-1, no answer at 0x3b)",
    )
    assert opened == ["/dev/i2c-1"]


def test_diag_temperature_without_a_board_probes_the_hal_list(use_config, monkeypatch) -> None:
    use_config(concentrator={"url": "spi:///dev/spidev0.0"})
    _diag_bus(monkeypatch, SimI2cBus({0x38: SimStts751(-5.0)}))
    assert run_one("temperature").detail == (
        "-5.0 °C (STTS751 at 0x38 on /dev/i2c-1, no answer at 0x39, 0x3b)"
    )


def test_diag_temperature_lists_every_address_tried(use_config, monkeypatch) -> None:
    use_config(concentrator={"url": "spi:///dev/spidev0.0", "board": "seeed_wm1302"})
    _diag_bus(monkeypatch, SimI2cBus({}))
    result = run_one("temperature")
    assert result.status == "warn"
    assert result.detail == "no temperature sensor: no STTS751 at 0x39, 0x3b, 0x38 on /dev/i2c-1"


def test_diag_temperature_on_a_board_without_sensor(use_config, monkeypatch) -> None:
    use_config(concentrator={"url": "spi:///dev/spidev0.0", "board": "rak2287"})
    bus = SimI2cBus({0x39: SimStts751(30.0)})
    _diag_bus(monkeypatch, bus)
    result = run_one("temperature")
    assert result.status == "pass"
    assert result.detail.startswith("board rak2287 has no temperature sensor")
    assert bus.transactions == {}
