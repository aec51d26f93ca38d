"""SX1250 command helpers: frequency word, image calibration bands, status chip mode."""

from __future__ import annotations

import pytest

from drivers.errors import RadioError
from drivers.sx1302.sx1250 import (
    ChipMode,
    Opcode,
    Standby,
    Sx1250,
    chip_mode,
    frequency_word,
    image_calibration_band,
)
from drivers.transport import Target
from tests.vectors import rows


@pytest.mark.parametrize("row", rows("tx_frequency_word"), ids=lambda r: str(r["freq_hz"]))
def test_frequency_word_matches_the_hal(row: dict) -> None:
    assert frequency_word(row["freq_hz"]) == row["sx1250_rf_freq_word"].to_bytes(4, "big")


def test_frequency_word_of_867_5_mhz() -> None:
    assert frequency_word(867_500_000) == bytes.fromhex("36380000")


@pytest.mark.parametrize(
    ("freq_hz", "params"),
    [(435_000_000, "6b6f"), (490_000_000, "7581"), (783_000_000, "c1c5"),
     (868_000_000, "d7db"), (915_000_000, "e1e9")],
)  # fmt: skip
def test_image_calibration_band_per_frequency(freq_hz: int, params: str) -> None:
    assert image_calibration_band(freq_hz) == bytes.fromhex(params)


@pytest.mark.parametrize("freq_hz", [863_000_000, 870_000_000, 600_000_000])
def test_image_calibration_bands_are_open_intervals(freq_hz: int) -> None:
    with pytest.raises(RadioError, match="no SX1250 image calibration band"):
        image_calibration_band(freq_hz)


def test_chip_mode_is_status_bits_6_to_4() -> None:
    assert chip_mode(0x22) == ChipMode.STBY_RC
    assert chip_mode(0xB2) == 3
    assert chip_mode(0x52) == ChipMode.RX


class _Recorder:
    def __init__(self, status: int) -> None:
        self.status = status
        self.sent: list[tuple[int, int, bytes, int]] = []

    def command(self, target: int, opcode: int, params: bytes, reply_length: int = 0) -> bytes:
        self.sent.append((target, opcode, params, reply_length))
        return bytes([self.status]) + bytes(len(params) + reply_length - 1)


def test_every_command_waits_1_ms_first() -> None:
    sleeps: list[float] = []
    radio = Sx1250(_Recorder(0x20), Target.RADIO_B, sleep=sleeps.append)
    radio.set_standby(Standby.XOSC)
    radio.set_rx()
    assert sleeps == [0.001, 0.001]
    assert radio.transport.sent == [
        (2, Opcode.SET_STANDBY, b"\x01", 0),
        (2, Opcode.SET_RX, b"\xff\xff\xff", 0),
    ]


def test_write_register_sends_a_big_endian_address() -> None:
    radio = Sx1250(_Recorder(0x20), Target.RADIO_A, sleep=lambda s: None)
    radio.write_register(0x088F, b"\x00\x00\x00")
    assert radio.transport.sent == [(1, 0x0D, bytes.fromhex("088f000000"), 0)]


def test_wrong_mode_error_names_radio_mode_and_command() -> None:
    radio = Sx1250(_Recorder(0x50), Target.RADIO_A, sleep=lambda s: None)
    with pytest.raises(RadioError, match=r"radio A: chip mode 5 \(RX, status byte 0x50\)"):
        radio.expect_mode(ChipMode.STBY_XOSC, "SET_STANDBY(XOSC)")


def test_image_calibration_error_bit_raises() -> None:
    class Failing(_Recorder):
        def command(self, target, opcode, params, reply_length=0):
            return b"\x20\x00\x10"

    radio = Sx1250(Failing(0), Target.RADIO_A, sleep=lambda s: None)
    with pytest.raises(RadioError, match="image calibration failed"):
        radio.check_image_calibration()
