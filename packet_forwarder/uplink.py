"""Raw RX records → ``Uplink`` in physical units (ref/sx1302.md §5; docs/uplinks.md).

The rules are sx1302_hal's ``sx1302_parse`` and ``lgw_receive``, with two deliberate differences:
a CRC-OK record whose stored CRC16 does not match its payload becomes a CRC BAD uplink (the HAL
aborts the whole fetch), and FSK uplinks carry no signal RSSI, SNR 0.0 and no frequency offset
(the HAL reports −128 placeholders there).

With ``plan.fine_timestamp`` (SX1303), LoRa count_us takes the fine-mode correction, CRC-OK
records with ``timing_set`` get ``fine_timestamp_ns`` once the PPS history is full, and
``merge_dual_demod`` / ``sort_by_count_us`` apply the HAL's duplicate merge and ordering.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from drivers.sx1302.convert import (
    freq_offset_hz,
    fsk_rssi_linearise,
    fsk_timestamp_correction_us,
    if_quantisation_error_hz,
    legacy_timestamp_correction_us,
    rssi_temperature_offset_db,
)
from drivers.sx1302.fine_timestamp import (
    PpsHistory,
    fine_timestamp_correction_us,
    packet_freq_error,
    precise_timestamp,
)
from drivers.sx1302.plan import FSK_CHAIN, LORA_STD_CHAIN, MULTI_SF_CHAINS, ChipPlan
from drivers.sx1302.rx_record import RxRecord, lora_payload_crc
from packet_forwarder.model import COUNT_US_MASK, CrcStatus, Modulation, Uplink

#: multi-SF chains always demodulate 125 kHz LoRa (sx1302_hal ``sx1302_parse``)
MULTI_SF_BANDWIDTH_HZ = 125_000
#: record code-rate field 1..4 → LoRa coding rate
CODE_RATES = {1: "4/5", 2: "4/6", 3: "4/7", 4: "4/8"}
#: sx1302_hal merge_packets: two packets this close (µs) can be one packet demodulated twice
DUAL_DEMOD_WINDOW_US = 24
#: per record, but the temperature changes slowly: computed once per (radio, temperature)
_temperature_offset_db = lru_cache(maxsize=256)(rssi_temperature_offset_db)


def unmappable_reason(record: RxRecord, plan: ChipPlan) -> str | None:
    """Why a record cannot become an Uplink under this plan (a short kind), or None if it can."""
    if not 0 <= record.if_chain <= FSK_CHAIN:
        return "bad_channel"
    if not plan.chain(record.if_chain).enable:
        return "disabled_chain"
    if record.if_chain != FSK_CHAIN:
        if not 5 <= record.sf <= 12:
            return "bad_sf"
        if not _implicit_header(record, plan) and record.coding_rate not in CODE_RATES:
            return "bad_coding_rate"
    return None


def record_crc_status(record: RxRecord, plan: ChipPlan) -> CrcStatus:
    """CRC status: NONE without a CRC; BAD on a CRC error or a stored CRC16 that does not match."""
    crc_en = record.crc_en
    if record.if_chain == LORA_STD_CHAIN and plan.lora_std.implicit_header:
        crc_en = crc_en or plan.lora_std.implicit_crc
    if not crc_en:
        return CrcStatus.NONE
    if record.crc_error:
        return CrcStatus.BAD
    # sx1302_hal re-checks CRC-OK LoRa payloads and aborts the fetch on a mismatch; we keep the
    # packet and report it as BAD so that the CRC filters decide (parser counts ``crc_mismatch``)
    is_lora = record.if_chain != FSK_CHAIN
    if is_lora and record.payload and lora_payload_crc(record.payload) != record.crc16:
        return CrcStatus.BAD
    return CrcStatus.OK


def record_to_uplink(
    record: RxRecord,
    plan: ChipPlan,
    *,
    count_us: int,
    session_id: int,
    gw_time: float,
    temperature_c: float,
    pps_history: PpsHistory | None = None,
) -> Uplink | None:
    """Convert one record; ``count_us`` is its wrap-extended µs before the decoder-delay correction.

    ``pps_history`` (the chip's, fine-timestamp mode only) gives ``fine_timestamp_ns``.
    Returns None for a record ``unmappable_reason`` refuses (the caller counts the reason).
    """
    if unmappable_reason(record, plan) is not None:
        return None
    chain = plan.chain(record.if_chain)
    radio = plan.radios[chain.radio]
    t_comp_db = _temperature_offset_db(radio.rssi_tcomp, temperature_c)
    crc_status = record_crc_status(record, plan)
    common: dict[str, Any] = {
        "phy_payload": record.payload,
        "freq_hz": plan.chain_freq_hz(record.if_chain),
        "channel": record.if_chain,
        "rf_chain": chain.radio,
        "crc_status": crc_status,
        "session_id": session_id,
        "gw_time": gw_time,
        "modem_id": record.modem_id,
    }
    if record.if_chain == FSK_CHAIN:
        bitrate = plan.fsk.datarate_bps
        corrected = count_us + fsk_timestamp_correction_us(bitrate)
        return Uplink(
            modulation=Modulation.FSK,
            bandwidth_hz=plan.fsk.bandwidth_hz,
            sf=0,
            code_rate="",
            rssi_dbm=fsk_rssi_linearise(record.rssi_chan_raw) + radio.rssi_offset_db + t_comp_db,
            snr_db=0.0,
            count_us=corrected & COUNT_US_MASK,
            datarate_bps=bitrate,
            **common,
        )
    if record.if_chain < MULTI_SF_CHAINS:
        bandwidth_hz = MULTI_SF_BANDWIDTH_HZ
    else:
        bandwidth_hz = plan.lora_std.bandwidth_hz
    coding_rate = (
        plan.lora_std.implicit_code_rate if _implicit_header(record, plan) else record.coding_rate
    )
    # the decoder delay depends on the record's own CRC bit, as sx1302_parse passes it
    correction = (
        fine_timestamp_correction_us if plan.fine_timestamp else (legacy_timestamp_correction_us)
    )
    corrected = count_us + correction(
        record.sf, bandwidth_hz, coding_rate, record.crc_en, len(record.payload)
    )
    freq_offset = freq_offset_hz(record.freq_offset_raw, bandwidth_hz)
    freq_offset += if_quantisation_error_hz(chain.if_hz)
    ftime = None
    if (
        plan.fine_timestamp
        and pps_history is not None
        and record.timing_set
        and record.ts_metrics
        and crc_status is CrcStatus.OK
    ):
        ftime = precise_timestamp(
            pps_history,
            pps_history.latest,
            record.ts_metrics,
            record.timestamp,
            record.sf,
            chain.if_hz,
            packet_freq_error(common["freq_hz"], freq_offset),
        ).ftime_ns
    offset_db = radio.rssi_offset_db + t_comp_db
    return Uplink(
        modulation=Modulation.LORA,
        bandwidth_hz=bandwidth_hz,
        sf=record.sf,
        code_rate=CODE_RATES[coding_rate],
        rssi_dbm=record.rssi_chan_raw + offset_db,
        rssi_sig_dbm=record.rssi_sig_raw + offset_db,
        snr_db=record.snr_raw / 4.0,
        freq_offset_hz=freq_offset,
        count_us=corrected & COUNT_US_MASK,
        fine_timestamp_ns=ftime,
        **common,
    )


def _same_packet(a: Uplink, b: Uplink) -> bool:
    delta = abs(a.count_us - b.count_us)
    return (
        min(delta, COUNT_US_MASK + 1 - delta) <= DUAL_DEMOD_WINDOW_US
        and a.channel == b.channel
        and a.sf == b.sf
        and a.phy_payload == b.phy_payload
    )


def _preferred(a: Uplink, b: Uplink) -> Uplink:
    """Of two copies of one packet: the CRC-OK one, then the one with a fine timestamp."""
    a_ok, b_ok = a.crc_status is CrcStatus.OK, b.crc_status is CrcStatus.OK
    if a_ok != b_ok:
        return a if a_ok else b
    if (a.fine_timestamp_ns is None) != (b.fine_timestamp_ns is None):
        return a if a.fine_timestamp_ns is not None else b
    return a


def merge_dual_demod(uplinks: list[Uplink]) -> list[Uplink]:
    """Merge copies of one packet from the SX1303's two demodulators (fine-timestamp mode).

    Same IF chain, SF, size and payload with count_us within 24 µs: one copy is kept, the
    CRC-OK one first, then the one with a fine timestamp, else the first received.
    """
    kept: list[Uplink] = []
    for uplink in uplinks:
        for index, other in enumerate(kept):
            if uplink.modulation is Modulation.LORA and _same_packet(other, uplink):
                kept[index] = _preferred(other, uplink)
                break
        else:
            kept.append(uplink)
    return kept


def sort_by_count_us(uplinks: list[Uplink]) -> list[Uplink]:
    """Uplinks in count_us order (fine-timestamp mode reorders the two demodulators' output)."""
    return sorted(uplinks, key=lambda uplink: uplink.count_us)


def _implicit_header(record: RxRecord, plan: ChipPlan) -> bool:
    return record.if_chain == LORA_STD_CHAIN and plan.lora_std.implicit_header
