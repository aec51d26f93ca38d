"""TX programming agrees with the register values sx1302_send wrote (reference vectors)."""

from __future__ import annotations

import pytest

from drivers.sx1302.tx import (
    TxRequest,
    freq_to_reg,
    program,
    program_tx,
    sx1250_freq_to_reg,
    tx_start_delay,
    tx_status_from_register,
)
from drivers.sx1302.tx_registers import reset_image
from tests.vectors import conversions, rows


class Memory:
    """A register file seeded with the TX_TOP reset image of both chains."""

    def __init__(self) -> None:
        self.regs: dict[int, int] = {}
        for base in (0x5200, 0x5400):
            for offset, value in reset_image().items():
                self.regs[base + offset] = value
        self.bursts: list[tuple[int, bytes]] = []

    def write(self, address: int, value: int) -> None:
        self.regs[address] = value

    def burst(self, address: int, data: bytes) -> None:
        self.bursts.append((address, data))

    def apply(self, req: TxRequest) -> None:
        program_tx(self.write, self.burst, program(req))

    def u16(self, address: int) -> int:
        return self.regs[address] << 8 | self.regs[address + 1]


def vector_request(row: dict, **overrides: object) -> TxRequest:
    """The request the vector harness sent: 868.1 MHz, CR 4/5, preamble 8, 4 bytes, inverted."""
    fields = dict(
        rf_chain=0, freq_hz=868_100_000, payload=b"\x01\x02\x03\x04", sf=row["sf"],
        bandwidth_hz=row["bandwidth_hz"], count_us=row["count_us"], coding_rate=1, preamble=8,
        invert_pol=True, no_crc=True, lorawan_public=True,
    )  # fmt: skip
    fields.update(overrides)
    return TxRequest(**fields)  # type: ignore[arg-type]


def test_frequency_words_match_every_row() -> None:
    table = rows("tx_frequency_word")
    for row in table:
        mem = Memory()
        mem.apply(TxRequest(rf_chain=0, freq_hz=row["freq_hz"], payload=b"x"))
        regs = (mem.regs[0x5225], mem.regs[0x5226], mem.regs[0x5227])
        assert regs == (row["reg_0x5225"], row["reg_0x5226"], row["reg_0x5227"]), row
        assert freq_to_reg(row["freq_hz"]) == row["sx1302_tx_freq_reg"]
        assert sx1250_freq_to_reg(row["freq_hz"]) == row["sx1250_rf_freq_word"]


def test_lora_timestamped_registers_match_every_row() -> None:
    names = ("reg_0x5260", "reg_0x5261", "reg_0x5262", "reg_0x5269", "reg_0x526d", "reg_0x526e")
    for row in rows("tx_lora_timestamped"):
        mem = Memory()
        mem.apply(vector_request(row))
        trigger = int.from_bytes(bytes(mem.regs[a] for a in range(0x5201, 0x5205)), "big")
        got = {
            "tx_start_delay": mem.u16(0x5205),
            "delayed_trigger": trigger,
            "freq_dev_reg": (mem.regs[0x5228] & 0x0F) << 8 | mem.regs[0x5229],
            **{name: mem.regs[int(name[4:], 16)] for name in names},
        }
        assert got == {key: row[key] for key in got}, row


def test_radio_b_uses_registers_0x200_higher() -> None:
    row = rows("tx_lora_timestamped")[9]
    mem = Memory()
    mem.apply(vector_request(row, rf_chain=1))
    assert mem.regs[0x5460] == row["reg_0x5260"]
    assert mem.u16(0x5405) == row["tx_start_delay"]
    assert mem.bursts == [(0x5500, b"\x01\x02\x03\x04")]


def test_start_delay_matches_every_row() -> None:
    for row in rows("tx_start_delay"):
        got = tx_start_delay(row["bandwidth_hz"], row["chirp_lowpass"], row["radio_type"])
        assert got == row["tx_start_delay"], row


def test_fsk_after_lora_keeps_start_delay_and_triggers_without_it() -> None:
    want = conversions()["tx_fsk_after_lora"]["value"]
    mem = Memory()
    mem.apply(TxRequest(rf_chain=0, freq_hz=868_100_000, payload=b"ab", sf=12, count_us=5))
    assert mem.u16(0x5205) == want["start_delay_before"]
    fsk = TxRequest(
        rf_chain=0, freq_hz=868_800_000, payload=b"abc", modulation="FSK", count_us=1_000_000,
        datarate_bps=50_000, freq_deviation_hz=25_000,
    )  # fmt: skip
    mem.apply(fsk)
    assert mem.u16(0x5205) == want["start_delay_after"]
    trigger = int.from_bytes(bytes(mem.regs[a] for a in range(0x5201, 0x5205)), "big")
    assert trigger == want["trig"]
    assert (mem.regs[0x5228], mem.regs[0x5229]) == (want["fdev_h"], want["fdev_l"])
    assert (mem.regs[0x5244], mem.regs[0x5245]) == (want["br_msb"], want["br_lsb"])


def test_fsk_buffer_starts_with_the_length_byte() -> None:
    prog = program(TxRequest(rf_chain=0, freq_hz=868_800_000, payload=b"abc", modulation="FSK"))
    assert prog.buffer == b"\x03abc"
    assert prog.start_delay is None


def test_power_register_comes_from_the_lut_entry() -> None:
    mem = Memory()
    mem.apply(TxRequest(rf_chain=0, freq_hz=868_100_000, payload=b"x", pa_gain=1, pwr_idx=6))
    assert mem.regs[0x520D] == 0x46
    assert mem.regs[0x520C] == 0x04


def test_trigger_resets_the_state_machine_then_fires() -> None:
    prog = program(TxRequest(rf_chain=0, freq_hz=868_100_000, payload=b"x", count_us=1000))
    assert prog.trigger[-2:] == ((0x5200, 0x00), (0x5200, 0x02))
    assert prog.writes[-1] == (0x5207, 1)
    assert prog.trigger[0] == (0x5207, 0)


def test_immediate_mode_fires_bit_zero_without_trigger_time() -> None:
    prog = program(TxRequest(rf_chain=0, freq_hz=868_100_000, payload=b"x", mode="IMMEDIATE"))
    assert prog.trigger[-1] == (0x5200, 0x01)
    assert prog.trigger_ticks is None


@pytest.mark.parametrize(
    ("value", "status"),
    [(0x80, "FREE"), (0x30, "EMITTING"), (0x70, "EMITTING"), (0x91, "SCHEDULED"),
     (0x92, "SCHEDULED"), (0x00, "UNKNOWN")],
)  # fmt: skip
def test_tx_status_decoding(value: int, status: str) -> None:
    assert tx_status_from_register(value) == status


def test_oversized_payload_is_refused() -> None:
    with pytest.raises(ValueError, match="at most 255"):
        program(TxRequest(rf_chain=0, freq_hz=868_100_000, payload=bytes(256)))
