"""Restarting without a board reset line, and what stop() leaves behind (simulated SX1302).

After a start the AGC firmware owns the radios (HOST_RADIO_CTRL = 0): the simulator then keeps
the host's SX1250 frames from reaching them, as the chip does, so a second start fails at
SET_STANDBY(RC) unless the bring-up takes the radios back first. stop() aborts TX on both RF
chains before reception goes off (sx1302_hal lgw_stop), so neither an armed delayed trigger nor
a packet on air outlives it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from drivers import open_transport
from drivers.sim.tx import SimAbort
from drivers.sx1302.chip import SX1302
from drivers.sx1302.plan import eu868_corecell_plan
from drivers.sx1302.sx1250 import Opcode
from drivers.sx1302.tx import TxRequest, program
from drivers.transport import Target
from packet_forwarder.concentrator import Concentrator


def _no_wait(_s: float) -> None:
    return None


@pytest.fixture
def sim() -> Iterator[Any]:
    """A sim:// transport (SPI framing) on a virtual clock, with one uplink at 100 ms."""
    transport = open_transport("sim://", clock="virtual", plan=eu868_corecell_plan())
    try:
        yield transport
    finally:
        transport.close()


def _driver(transport: Any) -> SX1302:
    return SX1302(transport, sleep=_no_wait)


def test_the_radios_do_not_answer_the_host_once_the_agc_owns_them(sim) -> None:
    _driver(sim).start(eu868_corecell_plan())
    status = sim.command(Target.RADIO_A, Opcode.GET_STATUS, b"\x00")
    assert status == b"\x00"  # MISO stays low: the frame never reached the radio
    assert sim.sim.stats["radio_frames_ignored"] == 1


def test_start_stop_start_without_a_chip_reset(sim) -> None:
    for _ in range(3):
        chip = _driver(sim)
        chip.start(eu868_corecell_plan())
        assert sim.sim.firmware_ready
        chip.stop()
        assert not sim.sim.firmware_ready


def test_a_new_driver_starts_a_chip_left_running_by_a_crashed_one(sim) -> None:
    _driver(sim).start(eu868_corecell_plan())  # never stopped: the process died
    _driver(sim).start(eu868_corecell_plan())
    assert sim.sim.firmware_ready
    assert [r.mode for r in sim.sim.radios] == [5, 5]  # both back in continuous RX


def test_the_daemon_restarts_the_radio_twice_without_gpio(sim) -> None:
    from edge_agent.config import parse_config
    from edge_agent.radio_setup import radio_setup

    cfg = parse_config('[gateway]\nid = "0016c001ff1a08f0"\n[concentrator]\nurl = "sim://"\n')
    assert cfg.concentrator.board is None  # no board preset: nothing resets the chip
    setup = radio_setup(cfg)
    conc = Concentrator(
        sim, eu868_corecell_plan(), temperature_c=lambda: 25.0, chip_factory=setup.new_chip
    )
    sessions = []
    for _ in range(3):
        conc.start()
        sessions.append(conc.session_id)
        assert sim.sim.firmware_ready
        conc.stop()
    assert len(set(sessions)) == 3


def _send(chip: SX1302, sim: Any, mode: str, ahead_us: int = 0) -> int:
    count_us = (chip.read_counter() + ahead_us) & 0xFFFF_FFFF
    request = TxRequest(
        rf_chain=0, freq_hz=868_100_000, payload=b"\x60" + bytes(12), mode=mode, count_us=count_us
    )
    chip.send(program(request))
    return count_us


def test_stop_aborts_an_armed_delayed_trigger(sim) -> None:
    chip = _driver(sim)
    chip.start(eu868_corecell_plan())
    count_us = _send(chip, sim, "TIMESTAMPED", ahead_us=1_000_000)
    assert chip.tx_status(0) == "SCHEDULED"
    chip.stop()
    assert [(a.rf_chain, a.count_us, a.state) for a in sim.sim.transmitter.aborts] == [
        (0, count_us, "SCHEDULED")
    ]
    sim.sim.advance_us(2_000_000)
    assert sim.sim.transmissions == []  # the trigger did not fire after the stop


def test_stop_ends_a_packet_on_air(sim) -> None:
    chip = _driver(sim)
    chip.start(eu868_corecell_plan())
    _send(chip, sim, "IMMEDIATE")
    sim.sim.advance_us(5_000)  # past the 1.5 ms start delay: on air
    assert chip.tx_status(0) == "EMITTING"
    chip.stop()
    (abort,) = sim.sim.transmitter.aborts
    assert isinstance(abort, SimAbort) and abort.state == "EMITTING"
    assert sim.sim.transmitter.status(0) == 0x80  # FREE: nothing left on air


def test_stop_aborts_before_reception_goes_off(sim) -> None:
    chip = _driver(sim)
    chip.start(eu868_corecell_plan())
    writes: list[int] = []
    write = sim.write

    def recording(target: int, address: int, data: bytes) -> None:
        writes.append(address)
        write(target, address, data)

    sim.write = recording
    chip.stop()
    assert writes.index(0x5200) < writes.index(0x5400) < writes.index(0x5605)
