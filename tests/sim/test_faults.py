"""Scenario faults on the simulated concentrator (drivers/sim/faults.py): the world outlives a
closed transport, the scenario clock keeps running, packets due while the chip does not receive
are lost and counted."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest

from drivers.errors import TransportError
from drivers.sim import SimWorld, open_sim_transport
from drivers.sx1302.chip import SX1302
from edge_agent.config import parse_config
from packet_forwarder.concentrator import Concentrator
from tests.outage.helpers import packet


def seq_of_payload(phy: bytes) -> int:
    """The sequence number a scenario packet (tests.outage.helpers.packet) carries."""
    return int.from_bytes(phy[9:13], "big")


def scenario(tmp_path: Path, fault: dict, times_ms: list[int]) -> Path:
    path = tmp_path / "faults.jsonl"
    lines = [packet(i, at) for i, at in enumerate(times_ms)] + [fault]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def started(world: SimWorld, path: Path) -> Concentrator:
    plan = parse_config('[concentrator]\nurl = "sim://"').concentrator.plan
    transport = open_sim_transport("sim://", world=world, scenario=str(path), clock="virtual")
    conc = Concentrator(transport, plan, temperature_c=lambda: 25.0,
                        chip_factory=lambda t: SX1302(t, sleep=lambda _s: None))  # fmt: skip
    conc.start()
    return conc


def test_a_chip_reset_loses_what_is_due_until_the_restart_and_counts_it(tmp_path: Path) -> None:
    world = SimWorld()
    path = scenario(tmp_path, {"at_ms": 200, "fault": "chip_reset"}, [100, 300, 700])
    conc = started(world, path)
    chip = world.chip
    assert conc.poll_once() == []  # the scenario clock starts
    chip.advance_us(150_000)
    assert [seq_of_payload(u.phy_payload) for u in conc.poll_once()] == [0]
    chip.advance_us(200_000)  # 350 ms: reset at 200, packet 1 due at 300 on a reset chip
    assert conc.poll_once() == []
    assert conc.configuration_lost() is not None
    conc.close()
    conc = started(world, path)  # the same chip, the same scenario position
    assert world.chip is chip
    chip.advance_us(400_000)
    assert [seq_of_payload(u.phy_payload) for u in conc.poll_once()] == [2]
    assert chip.stats["received"] == 2 and chip.stats["refused_no_firmware"] == 1
    assert conc.configuration_lost() is None
    conc.close()


def test_unplug_fails_transfers_and_opens_until_the_device_is_back(tmp_path: Path) -> None:
    world = SimWorld()
    path = scenario(tmp_path, {"at_ms": 100, "fault": "unplug", "duration_ms": 300}, [200, 600])
    conc = started(world, path)
    chip = world.chip
    conc.poll_once()
    chip.advance_us(150_000)
    with pytest.raises(TransportError, match="unplugged"):
        conc.poll_once()
    with contextlib.suppress(TransportError):  # its stop fails, the device is closed anyway
        conc.close()
    with pytest.raises(TransportError, match="cannot open the simulated device: unplugged"):
        open_sim_transport("sim://", world=world, scenario=str(path), clock="virtual")
    chip.advance_us(300_000)  # 450 ms: back, fresh from reset
    conc = started(world, path)
    chip.advance_us(300_000)
    assert [seq_of_payload(u.phy_payload) for u in conc.poll_once()] == [1]
    assert chip.stats["refused_no_firmware"] == 1  # the packet at 200 ms: unpowered
    assert world.faults is not None and world.faults.counts["refused_opens"] == 1
    conc.close()


def test_spi_errors_last_their_duration_and_the_fifo_keeps_what_arrived(tmp_path: Path) -> None:
    world = SimWorld()
    path = scenario(tmp_path, {"at_ms": 100, "fault": "spi_error", "duration_ms": 200}, [150])
    conc = started(world, path)
    chip = world.chip
    conc.poll_once()
    chip.advance_us(200_000)
    with pytest.raises(TransportError, match="spi_error"):
        conc.poll_once()
    chip.advance_us(150_000)  # 350 ms: the bus answers again
    assert [seq_of_payload(u.phy_payload) for u in conc.poll_once()] == [0]
    assert conc.configuration_lost() is None  # the chip never lost its setup
    conc.close()
