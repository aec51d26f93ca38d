"""The full SX1302 bring-up (ref/sx1302.md §6) against the enforcing simulator: final register
state for the EU868 and US915 presets, firmware load and handshakes, and every failure of §6."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from drivers import open_transport
from drivers.errors import ChipNotFound, FirmwareError, HandshakeTimeout, TransportError
from drivers.firmware import Firmware, stand_in_images
from drivers.sim import SimUnsupportedError
from drivers.sx1302.chip import SX1302
from packet_forwarder.regions import region_preset

PACKET = (
    '{"at_ms": 5, "freq_hz": 868300000, "sf": 7, "bw_hz": 125000, "phy": "c0ffee", '
    '"cr": "4/5", "crc": "ok", "rssi_dbm": -60.0, "snr_db": 8.0}'
)


def open_chip(tmp_path: Path, query: str = "", **options: object) -> tuple[SX1302, object, Path]:
    """(driver, SimChip, trace path) on ``sim://?clock=virtual&...`` with a trace."""
    trace = tmp_path / "trace.jsonl"
    transport = open_transport(f"sim://?clock=virtual{query}", trace=str(trace), **options)
    return SX1302(transport, sleep=lambda _s: None), transport.sim, trace


def written_image(trace: Path) -> dict[int, int]:
    """Address -> last value written to the SX1302 (target 0), from the JSONL trace."""
    image: dict[int, int] = {}
    for line in trace.read_text().splitlines():
        entry = json.loads(line)
        if entry["target"] == 0 and entry["op"] == "w":
            for i, byte in enumerate(bytes.fromhex(entry["data"])):
                image[entry["addr"] + i] = byte
    return image


def if_bytes(if_hz: int) -> tuple[int, int]:
    """ref/sx1302.md §3: 13-bit signed trunc(IF·32/15625), MSB [4:0] then LSB."""
    value = int(if_hz * 32 / 15625) & 0x1FFF
    return value >> 8, value & 0xFF


@pytest.mark.parametrize("region", ["EU868", "US915"])
def test_bring_up_leaves_the_channel_plan_in_the_registers(tmp_path, region) -> None:
    plan = region_preset(region).plan
    driver, sim, trace = open_chip(tmp_path)
    driver.start(plan)
    image = written_image(trace)
    for n, chan in enumerate(plan.multi_sf):  # IF of multi-SF chains at 0x5800 + 2n
        assert (image[0x5800 + 2 * n] & 0x1F, image[0x5801 + 2 * n]) == if_bytes(chan.if_hz)
    assert image[0x5810] == sum(c.radio << n for n, c in enumerate(plan.multi_sf))
    enabled = sum(int(c.enable) << n for n, c in enumerate(plan.multi_sf))
    assert (image[0x5820], image[0x5821]) == (enabled, enabled)
    assert image[0x5822] == sum(1 << (sf - 5) for sf in plan.spreading_factors)
    peaks = (6, 8) if plan.lorawan_public else (2, 4)
    assert (image[0x588E] & 0x1F, image[0x588F] & 0x1F) == peaks
    assert image[0x5605] & 0x0F == 0x0F  # GLOBAL_EN, FSK, multi-SF, LoRa service
    assert image[0x6100] & 0x03 == 0x03  # PPS latch: GPS_EN, GPS_POL
    assert image[0x5643] == 0x01  # CONFIG_DONE LED last
    assert sim.firmware_ready


def test_bring_up_loads_both_images_into_mcu_memory(tmp_path) -> None:
    driver, sim, _ = open_chip(tmp_path)
    driver.start(region_preset("EU868").plan)
    images = stand_in_images()
    assert bytes(sim.mem[0x0000:0x2000]) == images.agc
    assert bytes(sim.mem[0x2000:0x4000]) == images.arb


def test_agc_handshake_leaves_the_last_parameters_in_the_mailboxes(tmp_path) -> None:
    driver, sim, trace = open_chip(tmp_path)
    driver.start(region_preset("EU868").plan)
    image = written_image(trace)
    assert image[0x5789] == 0x0F  # mailbox 3: configuration finished
    assert image[0x578C] == 0  # mailbox 0: LBT disabled (last step k = 0x0B)
    assert sim.mem[0x5781] == 0x0F  # AGC status after the LBT step
    # ARB: stats for SF7, dual demod off, double-detect filter 3, resumed
    assert [image[a] for a in (0x6089, 0x608A, 0x608B, 0x608C)] == [7, 1, 3, 0]
    assert sim.mem[0x6081] == 0


def test_sim_receives_nothing_before_the_firmware_handshakes(tmp_path) -> None:
    scenario = tmp_path / "one.jsonl"
    scenario.write_text(PACKET + "\n")
    driver, sim, _ = open_chip(tmp_path, scenario=str(scenario))
    driver.fetch_rx()  # starts the scenario clock on an unprogrammed chip
    sim.advance_us(100_000)
    assert driver.fetch_rx().records == ()
    assert sim.stats["refused_no_firmware"] == 1


def test_sim_receives_after_the_full_bring_up(tmp_path) -> None:
    scenario = tmp_path / "one.jsonl"
    scenario.write_text(PACKET + "\n")
    driver, sim, _ = open_chip(tmp_path, scenario=str(scenario))
    driver.start(region_preset("EU868").plan)
    driver.fetch_rx()
    sim.advance_us(100_000)
    (record,) = driver.fetch_rx().records
    assert record.payload == bytes.fromhex("c0ffee")


def test_chip_in_reset_fails_with_chip_not_found(tmp_path) -> None:
    driver, _, _ = open_chip(tmp_path, "&persona=reset")
    with pytest.raises(ChipNotFound, match="0x00: the chip is unpowered or held in reset"):
        driver.start(region_preset("EU868").plan)


@pytest.mark.parametrize(
    ("address", "message"),
    [
        (0x0123, "AGC firmware read-back differs at offset 0x0123"),
        (0x2010, "ARB firmware read-back differs at offset 0x0010"),
    ],
)
def test_bad_read_back_names_the_mcu_and_first_offset(tmp_path, address, message) -> None:
    driver, _, _ = open_chip(tmp_path, f"&readback_error_at={address:#x}")
    with pytest.raises(FirmwareError, match=message):
        driver.start(region_preset("EU868").plan)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("&agc_version=9", "AGC firmware reports version 9, expected 10"),
        ("&arb_version=3", "ARB firmware reports version 3, expected 2"),
    ],
)
def test_wrong_firmware_version_is_refused(tmp_path, query, message) -> None:
    driver, _, _ = open_chip(tmp_path, query)
    with pytest.raises(FirmwareError, match=message):
        driver.start(region_preset("EU868").plan)


@pytest.mark.parametrize(
    ("hang", "message"),
    [
        ("agc_start", r"AGC start: timed out .* status 0x01 .* last read 0x00"),
        ("agc_mailbox", r"AGC radio A gains: timed out .* status 0x02 .* last read 0x01"),
        ("arb_start", r"ARB start: timed out .* status 0x01 .* last read 0x00"),
        ("arb_resume", r"ARB resume: timed out .* status 0x00 .* last read 0x01"),
    ],
)
def test_handshake_that_never_completes_times_out_naming_the_step(tmp_path, hang, message):
    driver, _, _ = open_chip(tmp_path, f"&hang={hang}")
    with pytest.raises(HandshakeTimeout, match=message):
        driver.start(region_preset("EU868").plan)


def test_parity_error_after_load_is_refused(tmp_path) -> None:
    driver, _, _ = open_chip(tmp_path, "&parity_error=agc")
    with pytest.raises(FirmwareError, match="AGC firmware parity error"):
        driver.start(region_preset("EU868").plan)


def test_wrong_image_size_is_refused_before_loading(tmp_path) -> None:
    driver, _, _ = open_chip(tmp_path)
    bad = Firmware(agc=b"\x00" * 100, arb=stand_in_images().arb)
    with pytest.raises(FirmwareError, match="AGC firmware has 100 bytes, expected 8192"):
        driver.start(region_preset("EU868").plan, bad)


def test_spi_error_during_bring_up_surfaces_as_transport_error(tmp_path) -> None:
    driver, sim, _ = open_chip(tmp_path)
    sim.inject_fault("error")
    with pytest.raises(TransportError, match="injected SPI fault"):
        driver.start(region_preset("EU868").plan)


def test_restart_after_stop_reloads_the_firmware(tmp_path) -> None:
    driver, sim, _ = open_chip(tmp_path)
    plan = region_preset("EU868").plan
    driver.start(plan)
    driver.stop()
    assert not sim.firmware_ready
    driver.start(plan)
    assert sim.firmware_ready


def test_mcu_memory_write_without_host_prog_is_refused(tmp_path) -> None:
    driver, _, _ = open_chip(tmp_path)
    with pytest.raises(SimUnsupportedError, match="HOST_PROG is 0"):
        driver.mem_write(0x0000, b"\x01")


def test_strict_sim_refuses_a_write_outside_the_register_table(tmp_path) -> None:
    driver, _, _ = open_chip(tmp_path, "&strict=1")
    with pytest.raises(SimUnsupportedError, match="0x7000: not a register"):
        driver.transport.write(0, 0x7000, b"\x01")


def test_default_sim_warns_once_per_unknown_address_and_counts(tmp_path, caplog) -> None:
    driver, sim, _ = open_chip(tmp_path)
    with caplog.at_level(logging.WARNING, logger="drivers.sim.chip"):
        for _ in range(3):
            driver.transport.write(0, 0x7000, b"\x01")
    assert sim.stats["unknown_writes"] == 3
    assert sum("0x7000" in r.getMessage() for r in caplog.records) == 1


def test_full_eu868_bring_up_writes_only_known_addresses(tmp_path) -> None:
    driver, sim, _ = open_chip(tmp_path, "&strict=1")
    driver.start(region_preset("EU868").plan)
    assert sim.stats["unknown_writes"] == 0
