"""Stand-in for ``drivers.sx1302.convert`` until the branches merge (same names, same signatures).

Chip facts from sx1302_hal 2.1.0 (ref/sx1302.md §3 and §5: ``loragw_sx1302.c sx1302_parse``,
``loragw_sx1302_timestamp.c legacy_timestamp_correction``, ``loragw_hal.c lgw_receive``).
At merge this module is replaced by ``drivers.sx1302.convert``: put nothing else in it.
"""

from __future__ import annotations

import struct

#: IF register resolution: 32 MHz / 2^16 = 15625/32 Hz (sx1302_hal ``sx1302_channelizer_configure``)
_IF_STEP_NUM = 15625
_IF_STEP_DEN = 32
#: single-precision LSB of the 20-bit frequency offset, BW / 2^20 (sx1302_hal ``sx1302_parse``)
_FREQ_OFFSET_LSB = {125_000: 0.11920929, 250_000: 0.238418579, 500_000: 0.476837158}
_BW_FACTOR = {125_000: 1, 250_000: 2, 500_000: 4}


def _f32(value: float) -> float:
    """Round a Python float to IEEE single precision, as the HAL's ``float`` arithmetic does."""
    return struct.unpack("<f", struct.pack("<f", value))[0]


def _trunc_div(num: int, den: int) -> int:
    """C integer division (truncation toward zero)."""
    quotient = abs(num) // abs(den)
    return quotient if (num >= 0) == (den >= 0) else -quotient


def legacy_timestamp_correction_us(
    sf: int, bandwidth_hz: int, coding_rate: int, crc_en: bool, payload_len: int
) -> int:
    """Decoder-pipeline delay (negative µs) to add to a legacy end-of-packet timestamp."""
    if bandwidth_hz not in _BW_FACTOR:
        raise ValueError(f"LoRa bandwidth must be 125/250/500 kHz, got {bandwidth_hz}")
    if not 5 <= sf <= 12 or not 1 <= coding_rate <= 4:
        raise ValueError(f"SF must be 5..12 and CR 1..4, got SF{sf} CR{coding_rate}")
    bw = _BW_FACTOR[bandwidth_hz]
    clk = 250_000 // bw
    ppm = 1 if (bw == 1 and sf >= 11) or (bw == 2 and sf == 12) else 0
    crc = 1 if crc_en else 0
    nibbles = 2 * (payload_len + 2 * crc) + 5
    header_nibbles = sf if sf <= 6 else sf - 2
    width = sf - 2 * ppm
    remainder = (nibbles - header_nibbles) % width or width
    interleave = (sf + 1) // 2
    fits_in_header = 2 * (payload_len + 2 * crc) <= sf - 7 or (payload_len == 0 and crc == 0)
    cr = coding_rate
    dft_peak = True  # sx1302_parse passes the DFT peak mode AUTO
    if fits_in_header:
        dft_peak = False
        cr = 4
        remainder = sf - 2 if sf > 6 else sf
    symbol = 2**sf
    filtering = 16_000_000 // bw + 2_031_250
    if fits_in_header:
        demap = clk * (4 + sf - 2) + symbol * clk * 3 // 4
    else:
        demap = clk * (4 + width) + symbol * clk
    fft_state3 = clk * ((symbol - 6) + 2 * (symbol * (interleave - 1) + 6)) + 4 * clk
    with_peak = (5 - 2 * ppm) * (symbol + 7) * clk + 2 * clk
    fft = with_peak if dft_peak else 2 * symbol * clk + 3 * clk
    decode = 5 * clk + (9 + cr) * clk * remainder + 3 * clk
    total = filtering + fft_state3 + fft + demap + decode
    return -((total + 500_000) // 1_000_000)


def fsk_timestamp_correction_us(bitrate_bps: int) -> int:
    """Decoder delay (negative µs) to add to an FSK timestamp: 680000/bitrate − 20."""
    return 680_000 // bitrate_bps - 20


def freq_offset_hz(raw: int, bandwidth_hz: int) -> int:
    """Frequency offset in Hz of a 20-bit raw value, in the HAL's single precision, truncated."""
    lsb = _f32(_FREQ_OFFSET_LSB[bandwidth_hz])
    return int(_f32(_f32(float(raw)) * lsb))


def if_register_value(if_hz: int) -> int:
    """The 13-bit signed IF register value: trunc(IF · 32 / 15625)."""
    return _trunc_div(if_hz * _IF_STEP_DEN, _IF_STEP_NUM)


def if_quantisation_error_hz(if_hz: int) -> int:
    """The IF the chain is asked for minus the IF the register gives (Hz, truncated)."""
    return if_hz - _trunc_div(if_register_value(if_hz) * _IF_STEP_NUM, _IF_STEP_DEN)


def rssi_temperature_offset_db(
    tcomp: tuple[float, float, float, float, float], temperature_c: float
) -> float:
    """RSSI temperature compensation (a·t⁴ + b·t³ + c·t² + d·t + e) / 2^16 dB."""
    a, b, c, d, e = tcomp
    t = temperature_c
    return _f32((a * t**4 + b * t**3 + c * t**2 + d * t + e) / 65536.0)


def fsk_rssi_linearise(raw: int) -> float:
    """The FSK channel RSSI byte mapped onto the LoRa RSSI scale (before offset and T)."""
    x = float(raw)
    return 90.636423 + 0.420835 * x + 0.007129 * x**2 - 0.000026 * x**3
