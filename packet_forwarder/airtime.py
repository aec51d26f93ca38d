"""LoRa and FSK time on air, as sx1302_hal computes it for the JIT queue.

sx1302_hal ``lora_packet_time_on_air`` / ``lgw_time_on_air`` (loragw_hal.c): the symbol time is
an integer number of µs, LDRO is assumed for SF11/SF12 at every bandwidth (the modem itself
only enables it for BW125 SF11/12 and BW250 SF12), SF5/SF6 have 6.25 sync symbols instead of
4.25 and no 8-bit header compensation, and the result is truncated to whole µs. The JIT queue
reserves ``toa_ms * 1000`` µs after the start of a packet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

LORA_BANDWIDTHS_HZ = (125_000, 250_000, 500_000)
LORA_SPREADING_FACTORS = range(5, 13)
#: sx1302_hal default FSK sync word size in bytes (lgw_conf ``fsk_sync_word_size``)
FSK_SYNC_WORD_BYTES = 3


@dataclass(frozen=True, slots=True)
class LoraAirtime:
    """Time on air of one LoRa packet and the symbol counts it comes from."""

    toa_us: int
    n_symbols: float
    n_symbols_payload: int
    t_symbol_us: int

    @property
    def toa_ms(self) -> int:
        """Rounded milliseconds, what ``lgw_time_on_air`` returns (jitqueue.c uses ×1000)."""
        return int(self.toa_us / 1000 + 0.5)


def lora_airtime(
    sf: int,
    bandwidth_hz: int,
    coding_rate: int,
    payload_len: int,
    preamble: int = 8,
    implicit_header: bool = False,
    no_crc: bool = False,
) -> LoraAirtime:
    """Time on air of a LoRa packet; ``coding_rate`` 1..4 means 4/5..4/8."""
    if sf not in LORA_SPREADING_FACTORS:
        raise ValueError(f"spreading factor must be 5..12, got {sf}")
    if bandwidth_hz not in LORA_BANDWIDTHS_HZ:
        raise ValueError(f"LoRa bandwidth must be one of {LORA_BANDWIDTHS_HZ}, got {bandwidth_hz}")
    if not 1 <= coding_rate <= 4:
        raise ValueError(f"coding rate must be 1..4 (4/5..4/8), got {coding_rate}")
    if not 0 <= payload_len <= 255:
        raise ValueError(f"payload length must be 0..255, got {payload_len}")
    t_symbol_us = (1 << sf) * 8 // (bandwidth_hz // 125_000)
    header = 0 if implicit_header else 1
    ldro = 1 if sf >= 11 else 0
    crc_bits = 0 if no_crc else 16
    bits = 8 * payload_len + crc_bits - 4 * sf + (8 if sf >= 7 else 0) + 20 * header
    blocks = math.ceil(max(bits, 0) / (4 * (sf - 2 * ldro)))
    n_symbols_payload = blocks * (coding_rate + 4)
    n_symbols = preamble + (4.25 if sf >= 7 else 6.25) + 8.0 + n_symbols_payload
    return LoraAirtime(
        toa_us=int(n_symbols * t_symbol_us),
        n_symbols=n_symbols,
        n_symbols_payload=n_symbols_payload,
        t_symbol_us=t_symbol_us,
    )


def fsk_airtime_ms(
    datarate_bps: int, payload_len: int, preamble: int = 5, no_crc: bool = False
) -> int:
    """FSK time on air in ms as ``lgw_time_on_air``: preamble, sync, length byte, payload, CRC."""
    if datarate_bps <= 0:
        raise ValueError(f"FSK datarate must be positive, got {datarate_bps}")
    n_bytes = preamble + FSK_SYNC_WORD_BYTES + 1 + payload_len + (0 if no_crc else 2)
    return int(8 * n_bytes / datarate_bps * 1000) + 1


def code_rate_index(code_rate: str) -> int:
    """'4/5'..'4/8' -> 1..4 (the HAL's CR codes)."""
    table = {"4/5": 1, "4/6": 2, "4/7": 3, "4/8": 4}
    try:
        return table[code_rate]
    except KeyError:
        raise ValueError(f"code rate must be one of {sorted(table)}, got {code_rate!r}") from None


def time_on_air_us(
    *,
    modulation: str,
    payload_len: int,
    sf: int = 7,
    bandwidth_hz: int = 125_000,
    code_rate: str = "4/5",
    preamble: int = 8,
    implicit_header: bool = False,
    no_crc: bool = False,
    datarate_bps: int | None = None,
) -> int:
    """µs the JIT queue reserves after a packet starts: the HAL's rounded ms × 1000."""
    if modulation == "LORA":
        airtime = lora_airtime(
            sf, bandwidth_hz, code_rate_index(code_rate), payload_len, preamble,
            implicit_header, no_crc,
        )  # fmt: skip
        return airtime.toa_ms * 1000
    if modulation == "FSK":
        if datarate_bps is None:
            raise ValueError("FSK time on air needs datarate_bps")
        return fsk_airtime_ms(datarate_bps, payload_len, preamble, no_crc) * 1000
    raise ValueError(f"unknown modulation {modulation!r}")
