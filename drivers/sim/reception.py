"""Which IF chain of the simulated SX1302 receives a packet, and the RX record it writes.

Reception follows what the driver programmed, read back from the register file (addresses from
sx1302_hal ``loragw_reg.c``; ref/sx1302.md §3):

- radio centres from SET_RF_FREQUENCY, and the radio must be in RX (SX1250 chip mode 5);
- multi-SF chains n = 0..7: IF 0x5800+2n (MSB [4:0]) / 0x5801+2n, 13-bit signed, x 15625/32 Hz;
  radio = bit n of 0x5810; enabled = bit n of 0x5821 (correlators); SFs = 0x5822 (bit0 = SF5);
  BW 125 kHz only;
- LoRa-service chain 8: IF 0x5B00/0x5B01, radio 0x5B02 bit0, BW code 0x5B21[7:4] (4/5/6 =
  125/250/500 kHz), SF 0x5B21[3:0]; enabled by 0x5605 bit0 (MBWSSF_MODEM_ENABLE), or by
  ``plan.lora_std.enable`` when a plan is given (the HAL sets every modem-enable bit whatever the
  plan, so the register alone cannot say whether chain 8 is in use).

A packet is received by the first enabled chain whose centre is within IF quantisation + 1 kHz of
its frequency, with the same BW and an enabled SF. FSK (chain 9) is not modelled: scenario packets
are LoRa.

Fine timestamps (SX1303, when the driver enabled them; ``FineTiming``): the packet's scenario time
is its end on air (what count_us reports in both modes). The record stores the end-of-header latch
that the host's fine-mode correction brings back to that time, ``timing_set`` and metrics whose
running-sum mean (over the pairs the HAL averages at that SF) carries the host's frequency-error
and DC-notch terms, so that the host's ``ftime`` is the end of preamble after the last PPS
(``preamble_end_elapsed_ticks``). Dual-demodulator duplicates are not modelled.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from functools import lru_cache

from drivers.sim.scenario import ScenarioPacket
from drivers.sx1302.convert import (
    freq_offset_hz,
    if_quantisation_error_hz,
    legacy_timestamp_correction_us,
    rssi_temperature_offset_db,
)
from drivers.sx1302.fine_timestamp import (
    PREAMBLE_END_OFFSET_TICKS,
    TICKS_PER_SECOND,
    dc_notch_delay_ticks,
    fine_timestamp_correction_us,
    header_to_preamble_ticks,
    metric_pairs_used,
    packet_freq_error,
    preamble_end_ticks,
)
from drivers.sx1302.plan import ChipPlan
from drivers.sx1302.rx_record import RxRecord, lora_payload_crc

LOGGER = logging.getLogger(__name__)

#: IF register resolution: 15625/32 Hz per LSB (ref/sx1302.md §3)
IF_STEP_HZ = 15625 / 32
#: tolerance on a packet's frequency beyond the IF quantisation
FREQ_TOLERANCE_HZ = 1000
#: SX1250 chip mode of continuous RX (GET_STATUS bits 6:4)
RADIO_MODE_RX = 5
BW_CODES = {125_000: 4, 250_000: 5, 500_000: 6}
LORA_SERVICE_MODEM_ID = 16
MULTI_SF_DEMODULATORS = 16

_REG_IF_BASE = 0x5800
_REG_RADIO_SELECT = 0x5810
_REG_CORR_EN = 0x5821
_REG_CORR_SF_EN = 0x5822
_REG_MODEM_ENABLE = 0x5605
_REG_LS_IF = 0x5B00
_REG_LS_RADIO = 0x5B02
_REG_LS_BW_SF = 0x5B21


@dataclass(frozen=True, slots=True)
class Chain:
    """One IF chain as programmed: where it listens and what it demodulates."""

    if_chain: int
    rf_chain: int
    centre_hz: float
    bw_hz: int
    sfs: frozenset[int]
    #: the programmed IF (register value x 15625/32 Hz)
    if_hz: float = 0.0


def _signed13(msb: int, lsb: int) -> int:
    value = ((msb & 0x1F) << 8) | lsb
    return value - (1 << 13) if value & (1 << 12) else value


def programmed_chains(
    mem: bytes | bytearray,
    radio_freqs_hz: tuple[int | None, int | None],
    radio_modes: tuple[int, int],
    plan: ChipPlan | None = None,
) -> list[Chain]:
    """The LoRa IF chains that can receive now, from the register file and the radio states."""

    def radio_ok(rf: int) -> bool:
        return radio_freqs_hz[rf] is not None and radio_modes[rf] == RADIO_MODE_RX

    chains: list[Chain] = []
    enabled = mem[_REG_CORR_EN]
    sfs = frozenset(sf for sf in range(5, 13) if mem[_REG_CORR_SF_EN] & (1 << (sf - 5)))
    for n in range(8):
        rf = (mem[_REG_RADIO_SELECT] >> n) & 1
        if not enabled & (1 << n) or not radio_ok(rf):
            continue
        if_hz = _signed13(mem[_REG_IF_BASE + 2 * n], mem[_REG_IF_BASE + 2 * n + 1]) * IF_STEP_HZ
        chains.append(Chain(n, rf, radio_freqs_hz[rf] + if_hz, 125_000, sfs, if_hz))  # type: ignore[operator]
    ls_enabled = plan.lora_std.enable if plan is not None else bool(mem[_REG_MODEM_ENABLE] & 1)
    rf = mem[_REG_LS_RADIO] & 1
    if ls_enabled and radio_ok(rf):
        bw_code, sf = mem[_REG_LS_BW_SF] >> 4, mem[_REG_LS_BW_SF] & 0x0F
        bw_hz = {code: hz for hz, code in BW_CODES.items()}.get(bw_code)
        if bw_hz is not None:
            if_hz = _signed13(mem[_REG_LS_IF], mem[_REG_LS_IF + 1]) * IF_STEP_HZ
            centre = radio_freqs_hz[rf] + if_hz  # type: ignore[operator]
            chains.append(Chain(8, rf, centre, bw_hz, frozenset({sf}), if_hz))
    return chains


def select_chain(chains: list[Chain], packet: ScenarioPacket) -> Chain | None:
    """The chain that demodulates ``packet``, or None when it is off the programmed plan."""
    for chain in chains:
        if (
            abs(chain.centre_hz - packet.freq_hz) <= IF_STEP_HZ + FREQ_TOLERANCE_HZ
            and chain.bw_hz == packet.bw_hz
            and packet.sf in chain.sfs
        ):
            return chain
    return None


@dataclass(frozen=True, slots=True)
class RadioCalibration:
    """What the host will add to raw RSSI: the radio's offset and temperature compensation."""

    rssi_offset_db: float = -215.4
    rssi_tcomp: tuple[float, float, float, float, float] = (0.0, 0.0, 20.41, 2162.56, 0.0)
    temperature_c: float = 25.0

    def raw_rssi(self, rssi_dbm: float) -> int:
        """The raw RSSI byte the host turns back into ``rssi_dbm`` (clipped to 0..255)."""
        t_db = _temperature_offset_db(self.rssi_tcomp, self.temperature_c)
        return max(0, min(255, round(rssi_dbm - self.rssi_offset_db - t_db)))


# Both depend on a handful of plan values, and the simulator needs them for every packet: they
# are computed once per distinct argument set (a few dozen in any scenario).
_temperature_offset_db = lru_cache(maxsize=64)(rssi_temperature_offset_db)
_legacy_correction_us = lru_cache(maxsize=1024)(legacy_timestamp_correction_us)


def latch_delay_us(packet: ScenarioPacket) -> int:
    """How long after the packet's count_us the chip latches its timestamp (end of packet)."""
    crc_en = packet.crc != "none"
    return -_legacy_correction_us(
        packet.sf, packet.bw_hz, packet.coding_rate, crc_en, len(packet.phy)
    )


@dataclass(frozen=True, slots=True)
class FineTiming:
    """Fine-timestamp mode of the simulated SX1303: metric pairs per record, PPS edge times."""

    #: metric pairs stored per record (RX_TOP_RX_BUFFER_TIMESTAMP_CFG_MAX_TS_METRICS)
    pairs: int
    #: counter ticks elapsed (not wrapped) from the clock origin to the packet's count_ticks
    elapsed_ticks: int
    #: clock origin's counter value (ticks), to turn elapsed ticks into register values
    start_ticks: int


def preamble_end_elapsed_ticks(packet: ScenarioPacket, end_elapsed_ticks: int) -> int:
    """The packet's end of preamble as an SX1303 reports it, in elapsed ticks.

    The fine-mode latch (end − the host's fine correction) moved back by the HAL's header →
    preamble shift at zero frequency error. It is about 94 µs later than end − (payload + 12.25)
    symbols at BW125 (the HAL's 19 µs filtering delay, 256 and 2138 ticks): a real SX1303 cannot
    report that distance through the metrics (at most ±571 ticks over SF12's 4 pairs).
    """
    crc_en = packet.crc != "none"
    correction_us = fine_timestamp_correction_us(
        packet.sf, packet.bw_hz, packet.coding_rate, crc_en, len(packet.phy)
    )
    shift = header_to_preamble_ticks(packet.sf) - PREAMBLE_END_OFFSET_TICKS
    return end_elapsed_ticks - correction_us * 32 - shift


def pps_ticks_before(elapsed_ticks: int, start_ticks: int) -> int:
    """The PPS-latched register value for a PPS edge every whole second of elapsed time."""
    edge = elapsed_ticks // TICKS_PER_SECOND * TICKS_PER_SECOND
    return (start_ticks + edge) & 0xFFFF_FFFF


def metrics_for_mean(target_sum: int, values: int) -> tuple[int, ...]:
    """int8 metrics whose running-sum total is ``target_sum`` (mean = target_sum / values)."""
    metrics, remaining = [], target_sum
    for index in range(values):
        weight = values - index  # metric i is in the running sums i..values-1
        metric = max(-128, min(127, round(remaining / weight)))
        metrics.append(metric)
        remaining -= weight * metric
    if remaining:
        raise ValueError(f"fine-timing offset {target_sum / values} ticks out of the metric range")
    return tuple(metrics)


def _fine_latch(packet: ScenarioPacket, count_ticks: int) -> int:
    """End-of-header latch that the host's fine-mode correction brings back to ``count_ticks``."""
    crc_en = packet.crc != "none"
    correction = fine_timestamp_correction_us(
        packet.sf, packet.bw_hz, packet.coding_rate, crc_en, len(packet.phy)
    )
    return (count_ticks - correction * 32) & 0xFFFF_FFFF


def _host_freq_error(packet: ScenarioPacket, chain: Chain) -> tuple[float, int]:
    """(relative frequency error, configured IF) as the host derives them for ``packet``.

    The configured IF is taken as the packet's distance to the radio centre (scenario packets
    sit on their channel's frequency).
    """
    if_hz = round(packet.freq_hz - (chain.centre_hz - chain.if_hz))
    raw = _freq_offset_raw(packet.freq_hz - chain.centre_hz, chain.bw_hz)
    offset_hz = freq_offset_hz(raw, chain.bw_hz) + if_quantisation_error_hz(if_hz)
    return packet_freq_error(round(packet.freq_hz), offset_hz), if_hz


def _fine_fields(packet: ScenarioPacket, count_ticks: int, fine: FineTiming, chain: Chain) -> dict:
    latch = _fine_latch(packet, count_ticks)
    true_elapsed = preamble_end_elapsed_ticks(packet, fine.elapsed_ticks)
    freq_error, if_hz = _host_freq_error(packet, chain)
    coarse = preamble_end_ticks(latch, packet.sf, freq_error)
    offset = (true_elapsed + fine.start_ticks - coarse) & 0xFFFF_FFFF
    offset -= 1 << 32 if offset >= 1 << 31 else 0
    residual = offset - dc_notch_delay_ticks(if_hz)
    # the host averages only the first pairs at high SF (SF12: 4); the rest carry nothing
    values = 2 * metric_pairs_used(packet.sf, fine.pairs)
    metrics = metrics_for_mean(round(residual * values), values)
    return {
        "timestamp": latch,
        "timing_set": True,
        "ts_metrics": metrics + (0,) * (2 * fine.pairs - values),
    }


def build_record(
    packet: ScenarioPacket,
    chain: Chain,
    modem_id: int,
    count_ticks: int,
    calibration: RadioCalibration,
    fine: FineTiming | None = None,
) -> bytes:
    """The FIFO bytes the chip writes for ``packet`` received on ``chain``.

    ``count_ticks`` is the counter value at the packet's ``at_ms``; the stored timestamp is the
    end-of-packet latch, so that after the host's legacy correction count_us == count_ticks / 32.
    With ``fine`` the stored timestamp is the end-of-header latch; multi-SF chains (the
    fine-timestamping demodulators) also set ``timing_set`` and metrics.
    """
    crc_en = packet.crc != "none"
    crc16 = lora_payload_crc(packet.phy) if crc_en else 0
    if packet.crc == "bad":
        crc16 ^= 0xA55A  # any other value: the chip stores the CRC it received, which was wrong
    raw = RxRecord(
        payload=packet.phy,
        if_chain=chain.if_chain,
        sf=packet.sf,
        coding_rate=packet.coding_rate,
        crc_en=crc_en,
        modem_id=modem_id,
        freq_offset_raw=_freq_offset_raw(packet.freq_hz - chain.centre_hz, chain.bw_hz),
        crc_error=packet.crc == "bad",
        sync_error=False,
        header_error=False,
        timing_set=False,
        snr_raw=max(-128, min(127, round(packet.snr_db * 4))),
        rssi_chan_raw=calibration.raw_rssi(packet.rssi_dbm),
        rssi_sig_raw=calibration.raw_rssi(packet.rssi_dbm),
        timestamp=(count_ticks + latch_delay_us(packet) * 32) & 0xFFFF_FFFF,
        crc16=crc16,
    )
    if fine is not None and chain.if_chain < 8:
        raw = replace(raw, **_fine_fields(packet, count_ticks, fine, chain))
    elif fine is not None:  # the LoRa-service chain latches the end of header too, no metrics
        raw = replace(raw, timestamp=_fine_latch(packet, count_ticks))
    return raw.to_bytes()


def _freq_offset_raw(offset_hz: float, bw_hz: int) -> int:
    # ref/sx1302.md §5: 20-bit signed, LSB = BW / 2^20 Hz
    raw = round(offset_hz * (1 << 20) / bw_hz)
    return max(-(1 << 19), min((1 << 19) - 1, raw))
