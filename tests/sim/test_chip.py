"""SimChip: SPI framing, identity per persona, counter, SX1250 commands, refusals and faults."""

from __future__ import annotations

import pytest

from drivers.errors import ChipError, TransportError
from drivers.sim import SimChip, SimConfigError, SimUnsupportedError
from tests.sim.frames import Bus, command_frame, read_frame, write_frame


def chip(**options: object) -> SimChip:
    """A low-level chip: frames written by hand, no firmware handshakes (enforce=False)."""
    options.setdefault("clock", "virtual")
    options.setdefault("enforce", False)
    return SimChip(**options)  # type: ignore[arg-type]


def otp(bus: Bus, address: int) -> int:
    bus.write(0x6180, address)
    return bus.read(0x6181)[0]


def test_single_write_then_single_read_returns_the_byte():
    bus = Bus(chip())
    bus.write(0x5643, 0x5A)
    assert bus.read(0x5643) == b"\x5a"


def test_miso_has_the_frame_length_and_data_after_four_header_bytes():
    sim = chip()
    sim.xfer(write_frame(0, 0x5641, b"\x7f\x00\x01"))
    miso = sim.xfer(read_frame(0, 0x5641, 3))
    assert len(miso) == 7
    assert miso == b"\x00\x00\x00\x00\x7f\x00\x01"


def test_burst_write_advances_the_address():
    bus = Bus(chip())
    bus.write(0x0000, bytes(range(16)))
    assert bus.read(0x0008, 4) == bytes([8, 9, 10, 11])


@pytest.mark.parametrize(("persona", "version"), [("sx1302", 0x10), ("sx1303", 0x12)])
def test_version_register_follows_persona(persona, version):
    assert Bus(chip(persona=persona)).read(0x5606) == bytes([version])


@pytest.mark.parametrize(("persona", "model"), [("sx1302", 0x00), ("sx1303", 0x03)])
def test_otp_model_byte_follows_persona(persona, model):
    assert otp(Bus(chip(persona=persona)), 0xD0) == model


def test_otp_bytes_0_to_7_give_the_eui_msb_first():
    bus = Bus(chip(eui=0x0016C001FF1A08F0))
    assert bytes(otp(bus, n) for n in range(8)) == bytes.fromhex("0016c001ff1a08f0")


def test_reset_persona_answers_zero_to_every_read():
    bus = Bus(chip(persona="reset"))
    bus.write(0x5643, 0x12)
    assert bus.read(0x5606) == b"\x00"
    assert otp(bus, 0) == 0
    assert bus.read(0x5643) == b"\x00"


def test_version_register_is_read_only_and_counted():
    sim = chip()
    Bus(sim).write(0x5606, 0x42)
    assert Bus(sim).read(0x5606) == b"\x10"
    assert sim.stats["read_only_writes"] == 1


def test_write_outside_modelled_blocks_is_counted():
    sim = chip()
    Bus(sim).write(0x7000, b"\x01\x02")
    assert sim.stats["unknown_writes"] == 2


def test_counter_block_is_pps_then_inst_big_endian_ticks():
    sim = chip(counter_start_ticks=0x01020304)
    sim.advance_us(10)  # 320 ticks
    block = Bus(sim).read(0x6101, 8)
    assert block[:4] == bytes(4)
    assert int.from_bytes(block[4:], "big") == 0x01020304 + 320


def test_counter_wraps_at_2_pow_32_ticks_on_virtual_time():
    sim = chip(counter_start_ticks=0xFFFF_FFFF - 31)
    sim.advance_us(2)  # 64 ticks: 32 before the wrap, 32 after
    assert int.from_bytes(Bus(sim).read(0x6105, 4), "big") == 32


def test_virtual_counter_stands_still_until_advanced():
    sim = chip(counter_start_ticks=1000)
    assert int.from_bytes(Bus(sim).read(0x6105, 4), "big") == 1000


def test_radio_reset_mode_is_rc_standby():
    status = Bus(chip()).command(0, 0xC0, b"\x00")
    assert (status[0] >> 4) & 0x7 == 2


@pytest.mark.parametrize(
    ("opcode", "params", "mode"), [(0x80, b"\x00", 2), (0x80, b"\x01", 3), (0x82, b"\xff" * 3, 5)]
)
def test_sx1250_commands_set_the_chip_mode(opcode, params, mode):
    bus = Bus(chip())
    bus.command(1, opcode, params)
    assert (bus.command(1, 0xC0, b"\x00")[0] >> 4) & 0x7 == mode


def test_set_rf_frequency_stores_the_frequency_per_radio():
    sim = chip()
    Bus(sim).command(0, 0x86, bytes.fromhex("36380000"))  # 867.5 MHz (ref §1)
    assert sim.radios[0].freq_hz == 867_500_000
    assert sim.radios[1].freq_hz is None


def test_get_device_errors_reports_none():
    assert Bus(chip()).command(0, 0x17, b"", 3)[1:] == b"\x00\x00"


def test_radio_reset_bit_returns_the_radio_to_power_on_state():
    sim = chip()
    bus = Bus(sim)
    bus.command(0, 0x82, b"\xff" * 3)
    bus.write(0x5783, 0x0C)  # RADIO_RST | RADIO_EN
    assert sim.radios[0].mode == 2


def test_unknown_sx1250_opcode_is_refused_as_a_chip_error():
    with pytest.raises(SimUnsupportedError, match="0x99") as info:
        chip().xfer(command_frame(1, 0x99, b"\x00"))
    assert isinstance(info.value, ChipError)


def test_unknown_mux_target_is_refused():
    with pytest.raises(SimUnsupportedError, match="mux"):
        chip().xfer(bytes([3, 0, 0, 0, 0]))


def test_short_sx1302_read_frame_is_refused():
    with pytest.raises(SimUnsupportedError):
        chip().xfer(bytes([0, 0x56, 0x06, 0x00]))


def test_injected_error_raises_transport_error_once_without_executing():
    sim = chip()
    sim.inject_fault("error")
    with pytest.raises(TransportError):
        sim.xfer(write_frame(0, 0x5643, b"\x33"))
    assert Bus(sim).read(0x5643) == b"\x00"


def test_injected_corruption_inverts_the_answer_of_the_next_transfers():
    sim = chip()
    sim.inject_fault("corrupt", count=2)
    assert Bus(sim).read(0x5606) == b"\xef"
    assert Bus(sim).read(0x5606) == b"\xef"
    assert Bus(sim).read(0x5606) == b"\x10"


def test_injected_zeros_answer_zero_like_a_stuck_miso():
    sim = chip()
    sim.inject_fault("zeros")
    assert Bus(sim).read(0x5606) == b"\x00"


def test_unknown_fault_kind_is_refused():
    with pytest.raises(SimConfigError):
        chip().inject_fault("gremlins")


def test_unknown_persona_is_refused():
    with pytest.raises(SimConfigError, match="persona"):
        SimChip(persona="sx1301")
