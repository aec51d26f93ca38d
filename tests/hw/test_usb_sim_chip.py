"""The USB transport on the simulated SX1302 (through the simulated MCU) answers like SPI does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from drivers import spi
from drivers.firmware import stand_in_images
from drivers.sim import chip as sim_chip
from drivers.sim import parse_scenario, spidev
from drivers.sim_mcu import SimMcu
from drivers.sx1302 import chip as chip_module
from drivers.sx1302.plan import eu868_corecell_plan
from drivers.transport import Target


@pytest.fixture(params=["spi", "usb"])
def pair(request: pytest.FixtureRequest) -> Iterator[tuple[Any, Any]]:
    """(transport, SimChip) over the simulated SPI bus or the simulated USB MCU."""
    scenario = parse_scenario(
        [
            '{"at_ms": 5, "freq_hz": 868300000, "sf": 7, "bw_hz": 125000, "phy": "c0ffee", '
            '"cr": "4/5", "crc": "ok", "rssi_dbm": -60.0, "snr_db": 8.0}'
        ],
        "usb-test.jsonl",
    )
    chip = sim_chip.SimChip(clock="virtual", scenario=scenario)
    if request.param == "usb":
        with SimMcu(chip.xfer) as mcu, mcu.transport(timeout_s=5.0) as transport:
            yield transport, chip
    else:
        with spi.SpiTransport(
            "spi:///dev/spidev0.0", spidev_factory=lambda: spidev.SimSpiDev(chip)
        ) as transport:
            yield transport, chip


def test_version_register_reads_the_simulated_persona(pair: tuple[Any, Any]) -> None:
    transport, chip = pair
    assert transport.read(Target.SX1302, 0x5606, 1) == bytes((chip.version,))


def test_eui_reads_from_otp_byte_by_byte(pair: tuple[Any, Any]) -> None:
    transport, chip = pair
    eui = 0
    for index in range(8):  # ref/sx1302.md §3: OTP address 0..7 at 0x6180, data at 0x6181
        transport.write(Target.SX1302, 0x6180, bytes((index,)))
        eui = eui << 8 | transport.read(Target.SX1302, 0x6181, 1)[0]
    assert eui == chip.eui


def test_driver_identity_and_bring_up(pair: tuple[Any, Any]) -> None:
    transport, sim = pair
    driver = chip_module.SX1302(transport, sleep=lambda _s: None, firmware=stand_in_images())
    assert driver.version() == sim.version
    assert driver.eui() == sim.eui
    driver.start(eu868_corecell_plan())
    assert sim.firmware_ready
    assert bytes(sim.mem[0:8192]) == stand_in_images().agc


def test_full_bring_up_then_rx_poll_receives_the_scenario_packet(pair: tuple[Any, Any]) -> None:
    transport, sim = pair
    driver = chip_module.SX1302(transport, sleep=lambda _s: None, firmware=stand_in_images())
    driver.start(eu868_corecell_plan())
    driver.fetch_rx()  # the first FIFO poll starts the scenario clock
    sim.advance_us(100_000)
    (record,) = driver.fetch_rx().records
    assert (record.payload, record.sf) == (bytes.fromhex("c0ffee"), 7)


def test_firmware_goes_over_in_bursts_of_the_transport_limit(pair: tuple[Any, Any]) -> None:
    transport, sim = pair
    sizes: list[int] = []
    write = transport.write

    def recording_write(target: int, address: int, data: bytes) -> None:
        if target == Target.SX1302 and address < 0x4000:
            sizes.append(len(data))
        write(target, address, data)

    transport.write = recording_write
    driver = chip_module.SX1302(transport, sleep=lambda _s: None, firmware=stand_in_images())
    driver.start(eu868_corecell_plan())
    burst = transport.max_burst
    assert sizes == [burst] * (2 * 8192 // burst)
    assert bytes(sim.mem[0x2000:0x4000]) == stand_in_images().arb
