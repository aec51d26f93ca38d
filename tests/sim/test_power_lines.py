"""Board power and reset lines on the simulated GPIO chip (drivers/sim/gpio.py).

A released line falls back to its pull (pull-down on the BCM pins the presets use): a released
POWER_EN powers the simulated SX1302 off, which then reads version 0x00 (ChipNotFound). The
daemon (edge_agent.radio_setup) must therefore hold the lines from the first start until close.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from drivers import open_transport
from drivers.boards import board_preset
from drivers.errors import ChipNotFound
from drivers.gpio import ResetLines
from drivers.sim.gpio import SimGpioChip
from drivers.sx1302.chip import SX1302
from drivers.sx1302.plan import eu868_corecell_plan
from packet_forwarder.concentrator import Concentrator

BOARD = board_preset("semtech_corecell")  # power 18, reset 23, SX1261 reset 22


def _no_wait(_s: float) -> None:
    return None


@pytest.fixture
def sim() -> Iterator[Any]:
    transport = open_transport("sim://", clock="virtual", plan=eu868_corecell_plan())
    try:
        yield transport
    finally:
        transport.close()


def test_an_unpowered_chip_reads_version_0x00(sim) -> None:
    sim.sim.set_powered(False)
    with pytest.raises(ChipNotFound, match="0x00"):
        SX1302(sim, sleep=_no_wait).version()


def test_power_up_is_fresh_from_reset(sim) -> None:
    SX1302(sim, sleep=_no_wait).start(eu868_corecell_plan())
    assert sim.sim.firmware_ready
    sim.sim.set_powered(False)
    sim.sim.set_powered(True)
    assert not sim.sim.firmware_ready
    assert sim.sim.mem[0x5601] & 0x08  # HOST_RADIO_CTRL back at its reset value
    assert bytes(sim.sim.mem[0:16]) == bytes(16)  # AGC firmware gone
    assert [r.mode for r in sim.sim.radios] == [2, 2]  # radios in STDBY_RC
    assert SX1302(sim, sleep=_no_wait).version() == 0x10


def test_a_held_reset_line_silences_the_chip_until_released(sim) -> None:
    sim.sim.set_reset(True)
    assert sim.read(0, 0x5606, 1) == b"\x00"
    sim.sim.set_reset(False)
    assert sim.read(0, 0x5606, 1) == b"\x10"


def test_an_unrequested_power_line_leaves_the_chip_off(sim) -> None:
    SimGpioChip.for_board(sim.sim, BOARD)
    assert not sim.sim.powered


def test_a_released_power_line_powers_the_simulated_concentrator_off(sim) -> None:
    gpio = SimGpioChip.for_board(sim.sim, BOARD)
    lines = ResetLines.for_board(BOARD, backend=gpio, step_s=0)
    lines.reset()
    chip = SX1302(sim, sleep=_no_wait)
    assert chip.version() == 0x10
    lines.release()
    assert gpio.level(BOARD.power_pin) == 0
    with pytest.raises(ChipNotFound):
        chip.version()


def _setup(sim: Any, gpio: SimGpioChip) -> Any:
    from edge_agent.radio_setup import RadioSetup

    return RadioSetup(
        BOARD,
        None,
        lambda: 25.0,
        sleep=_no_wait,
        url="spi:///dev/spidev0.0",
        gpio_options={"backend": gpio, "step_s": 0},
    )


def test_the_daemon_holds_the_board_lines_while_the_radio_runs(sim) -> None:
    gpio = SimGpioChip.for_board(sim.sim, BOARD)
    setup = _setup(sim, gpio)
    conc = Concentrator(sim, eu868_corecell_plan(), temperature_c=lambda: 25.0,
                        chip_factory=setup.new_chip, on_close=setup.close)  # fmt: skip
    conc.start()  # the old code released the lines after the pulse: ChipNotFound here
    assert gpio.requested() == {18, 22, 23}
    assert sim.sim.powered and sim.sim.firmware_ready
    conc.stop()
    conc.start()  # a radio restart pulses the same requests (a second request would be EBUSY)
    assert [e for e in gpio.events if e[0] == "request"] == [
        ("request", 18, None), ("request", 23, None), ("request", 22, None)
    ]  # fmt: skip
    conc.close()
    assert gpio.requested() == set()
    assert not sim.sim.powered  # released: POWER_EN at its pull-down


def test_close_resets_the_chip_before_giving_the_lines_back(sim) -> None:
    gpio = SimGpioChip.for_board(sim.sim, BOARD)
    setup = _setup(sim, gpio)
    setup.new_chip(sim).start(eu868_corecell_plan())
    gpio.events.clear()
    setup.close()
    setup.close()  # idempotent
    kinds = [(kind, pin, value) for kind, pin, value in gpio.events]
    assert kinds[:5] == [("set", 18, 1), ("set", 23, 1), ("set", 23, 0), ("set", 22, 0),
                         ("set", 22, 1)]  # fmt: skip
    assert {pin for kind, pin, _ in kinds[5:] if kind == "release"} == {18, 22, 23}
