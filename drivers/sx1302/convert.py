"""Raw SX1302 RX fields to physical units, as sx1302_hal ``sx1302_parse``/``lgw_receive`` does.

Chip facts shared by the packet forwarder (record -> Uplink) and the simulator. Where the HAL
computes in single precision (frequency offset, RSSI compensation), so do these functions, so
that results agree with the reference vectors.
"""

from __future__ import annotations

import struct

#: IF register resolution: 32 MHz / 2^16 = 15625/32 Hz (sx1302_hal IF_HZ_TO_REG)
IF_STEP_NUM = 15625
IF_STEP_DEN = 32
IF_REGISTER_BITS = 13
#: sx1302_hal FREQ_OFFSET_LSB_*: Hz per LSB of the 20-bit offset, as float32 literals
_FREQ_OFFSET_LSB = {125_000: 0.11920929, 250_000: 0.238418579, 500_000: 0.476837158}
#: sx1302_hal BW_125KHZ/BW_250KHZ/BW_500KHZ
_BANDWIDTH_CODES = {125_000: 4, 250_000: 5, 500_000: 6}
#: sx1302_hal RSSI_FSK_POLY_0..3: linearises the FSK demodulator's raw RSSI
_FSK_RSSI_POLY = (90.636423, 0.420835, 0.007129, -0.000026)


def f32(value: float) -> float:
    """Round to the nearest IEEE single-precision value (C ``float``)."""
    return struct.unpack("<f", struct.pack("<f", value))[0]


def bandwidth_code(bandwidth_hz: int) -> int:
    """HAL bandwidth code: 4/5/6 for 125/250/500 kHz."""
    try:
        return _BANDWIDTH_CODES[bandwidth_hz]
    except KeyError:
        raise ValueError(
            f"LoRa bandwidth must be 125, 250 or 500 kHz, got {bandwidth_hz} Hz"
        ) from None


def bandwidth_from_code(code: int) -> int:
    """Inverse of ``bandwidth_code``: 4/5/6 -> 125000/250000/500000 Hz."""
    for bandwidth_hz, known in _BANDWIDTH_CODES.items():
        if known == code:
            return bandwidth_hz
    raise ValueError(f"bandwidth code must be 4, 5 or 6, got {code}")


def _ppm_offset(sf: int, bandwidth_hz: int) -> int:
    """Low data rate optimisation as the modem applies it (sx1302_hal SET_PPM_ON)."""
    return int(
        (bandwidth_hz == 125_000 and sf in (11, 12)) or (bandwidth_hz == 250_000 and sf == 12)
    )


def legacy_timestamp_correction_us(
    sf: int, bandwidth_hz: int, coding_rate: int, crc_en: bool, payload_len: int
) -> int:
    """Decoder pipeline delay (negative µs) to add to a legacy (end-of-packet) timestamp.

    sx1302_hal ``legacy_timestamp_correction`` with the DFT peak mode AUTO that ``sx1302_parse``
    passes; all intermediate values are in picoseconds-like units of 1e-6 µs.
    """
    bw_pow = bandwidth_hz // 125_000
    if bw_pow not in (1, 2, 4):
        raise ValueError(f"LoRa bandwidth must be 125, 250 or 500 kHz, got {bandwidth_hz} Hz")
    clk = 250_000 // bw_pow
    ppm = _ppm_offset(sf, bandwidth_hz)
    crc = int(bool(crc_en))
    nibbles = (payload_len + 2 * crc) * 2 + 5
    header_nibbles = sf if sf in (5, 6) else sf - 2
    block = sf - 2 * ppm
    last_block = (nibbles - header_nibbles) % block or block
    iterations = (sf + 1) // 2
    dft_peak = 1
    cr = coding_rate
    fits_in_header = 2 * (payload_len + 2 * crc) - (sf - 7) <= 0 or (payload_len == 0 and not crc)
    if fits_in_header:
        dft_peak, cr = 0, 4
        last_block = sf - 2 if sf > 6 else sf
    filtering = 16_000_000 // bw_pow + 2_031_250
    if fits_in_header:
        demap = clk + (1 << sf) * clk * 3 // 4 + 3 * clk + (sf - 2) * clk
    else:
        # the HAL's (1 - ppm / 4) factor is integer arithmetic: always 1
        demap = clk + (1 << sf) * clk + 3 * clk + (sf - 2 * ppm) * clk
    fft_state3 = clk * (((1 << sf) - 6) + 2 * ((1 << sf) * (iterations - 1) + 6)) + 4 * clk
    if dft_peak:
        fft = (5 - 2 * ppm) * ((1 << sf) * clk + 7 * clk) + 2 * clk
    else:
        fft = (1 << sf) * 2 * clk + 3 * clk
    decode = 5 * clk + (9 * clk + clk * cr) * last_block + 3 * clk
    return -((filtering + fft_state3 + fft + demap + decode + 500_000) // 1_000_000)


def fsk_timestamp_correction_us(bitrate_bps: int) -> int:
    """FSK decoder delay (µs) added to the timestamp: 680000 / bitrate - 20 (integer division)."""
    return 680_000 // bitrate_bps - 20


def freq_offset_hz(raw: int, bandwidth_hz: int) -> int:
    """Frequency error of a LoRa packet from its signed 20-bit raw value (IF error not included).

    float32 product, truncated toward zero, as the HAL's ``(int32_t)((float)raw * LSB)``.
    """
    try:
        lsb = f32(_FREQ_OFFSET_LSB[bandwidth_hz])
    except KeyError:
        raise ValueError(
            f"LoRa bandwidth must be 125, 250 or 500 kHz, got {bandwidth_hz} Hz"
        ) from None
    return int(f32(f32(float(raw)) * lsb))


def if_register_value(if_hz: int) -> int:
    """The signed 13-bit IF register value: trunc(IF * 32 / 15625) (C integer division)."""
    magnitude = abs(if_hz) * IF_STEP_DEN // IF_STEP_NUM
    value = -magnitude if if_hz < 0 else magnitude
    if not -(1 << (IF_REGISTER_BITS - 1)) <= value < 1 << (IF_REGISTER_BITS - 1):
        raise ValueError(f"IF {if_hz} Hz does not fit the 13-bit IF register")
    return value


def if_register_bytes(if_hz: int) -> tuple[int, int]:
    """(MSB [4:0], LSB) written to an IF register pair: -400 kHz -> (0x1C, 0xCD)."""
    value = if_register_value(if_hz) & ((1 << IF_REGISTER_BITS) - 1)
    return value >> 8, value & 0xFF


def if_quantisation_error_hz(if_hz: int) -> int:
    """What the IF register misses of ``if_hz``; the HAL adds it to every freq_offset."""
    product = if_register_value(if_hz) * IF_STEP_NUM
    programmed = -(-product // IF_STEP_DEN) if product < 0 else product // IF_STEP_DEN
    return if_hz - programmed


def rssi_temperature_offset_db(
    tcomp: tuple[float, float, float, float, float], temperature_c: float
) -> float:
    """RSSI temperature compensation (a·t⁴ + b·t³ + c·t² + d·t + e) / 2¹⁶ dB, float32 inputs."""
    a, b, c, d, e = (f32(x) for x in tcomp)
    t = f32(temperature_c)
    return f32((a * t**4 + b * t**3 + c * t**2 + d * t + e) / 65536.0)


def fsk_rssi_linearise(raw: int) -> float:
    """The FSK chain's raw RSSI byte, linearised (before offset and temperature compensation)."""
    p0, p1, p2, p3 = _FSK_RSSI_POLY
    x = float(raw)
    return f32(p0 + p1 * x + p2 * x**2 + p3 * x**3)


def rssi_dbm(raw: float, rssi_offset_db: float, temperature_offset_db: float) -> float:
    """Raw RSSI + board offset + temperature offset, added in float32 as lgw_receive does."""
    return f32(f32(f32(raw) + f32(rssi_offset_db)) + f32(temperature_offset_db))
