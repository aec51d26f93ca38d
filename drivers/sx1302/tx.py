"""TX programming of the SX1302 as pure data: the register writes ``sx1302_send`` performs.

``program(request)`` returns a ``TxProgram`` (ordered register writes, the TX buffer burst, the
trigger writes); ``program_tx`` applies one through two callables. Nothing here reads the chip:
every written byte is computed from the reset values of ``tx_registers`` plus the fields the
send sets, which is what the chip holds as long as only this module writes TX_TOP.

Facts (sx1302_hal ``loragw_sx1302.c`` ``sx1302_send`` / ``sx1302_tx_set_start_delay`` /
``sx1302_tx_status``): frequency word f·2^18/32 MHz truncated; LoRa FREQ_DEV = BW/2 in the same
unit; chirp low-pass 6 below SF10 else 7; PPM offset (LDRO) for BW125 SF11/12 and BW250 SF12;
sync peaks 6/8 for the public sync word at SF>=7, else 2/4; fine sync at SF5/6; start delay
(LoRa only) = 1500·32 − (radio BW delay + filter delay + modem delay) ticks; delayed trigger =
(count_us·32 − start delay) mod 2^32. An FSK send leaves TX_START_DELAY as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from drivers.sx1302.tx_registers import (
    AGC_MAILBOX_WR_BYTE0,
    AGC_MAILBOX_WR_BYTE1,
    AGC_MAILBOX_WR_BYTE2,
    TX_FIELDS,
    reset_image,
    tx_buffer_address,
    tx_top_base,
)

XTAL_HZ = 32_000_000
#: sx1302_hal TX_START_DELAY_DEFAULT: 1.5 ms, in µs
TX_START_DELAY_US = 1500
BW_CODES = {125_000: 0x04, 250_000: 0x05, 500_000: 0x06}
#: sx1302_hal radio BW delay in 32 MHz ticks, per radio type and LoRa bandwidth
RADIO_BW_DELAY = {
    "SX1250": {125_000: 19, 250_000: 24, 500_000: 21},
    "SX1257": {125_000: 100, 250_000: 106, 500_000: 100},
    "SX1255": {125_000: 100, 250_000: 106, 500_000: 100},
}
LORA_PREAMBLE_STD, LORA_PREAMBLE_MIN = 8, 6
FSK_PREAMBLE_STD, FSK_PREAMBLE_MIN = 5, 3
MODES = ("IMMEDIATE", "TIMESTAMPED", "ON_GPS")
_TRIGGER_FIELD = {
    "IMMEDIATE": "TX_TRIG_IMMEDIATE",
    "TIMESTAMPED": "TX_TRIG_DELAYED",
    "ON_GPS": "TX_TRIG_GPS",
}


def freq_to_reg(freq_hz: int) -> int:
    """SX1302 TX frequency word: f·2^18/32 MHz, truncated (868.1 MHz -> 0x6C8333)."""
    return freq_hz * (1 << 18) // XTAL_HZ


def sx1250_freq_to_reg(freq_hz: int) -> int:
    """SX1250 SET_RF_FREQUENCY word: f·2^25/32 MHz, truncated."""
    return freq_hz * (1 << 25) // XTAL_HZ


def chirp_lowpass(sf: int) -> int:
    """TX chirp low-pass filter setting sx1302_send uses: 6 below SF10, 7 from SF10."""
    return 6 if sf < 10 else 7


def ldro_on(sf: int, bandwidth_hz: int) -> bool:
    """Whether the modem's PPM offset (low data rate optimisation) is on."""
    return (bandwidth_hz == 125_000 and sf >= 11) or (bandwidth_hz == 250_000 and sf == 12)


def tx_start_delay(bandwidth_hz: int, lowpass: int, radio_type: str = "SX1250") -> int:
    """LoRa TX start delay in 32 MHz ticks (BW125, low-pass 6, SX1250 -> 47413)."""
    try:
        radio_delay = RADIO_BW_DELAY[radio_type][bandwidth_hz]
    except KeyError:
        raise ValueError(f"no start delay for {radio_type} at {bandwidth_hz} Hz") from None
    filter_delay = int(((1 << lowpass) - 1) * 1e6 / bandwidth_hz)
    modem_delay = int(8 * (32e6 / (32 * bandwidth_hz)))
    return (TX_START_DELAY_US * 32 - (radio_delay + filter_delay + modem_delay)) & 0xFFFF


def delayed_trigger(count_us: int, start_delay: int) -> int:
    """Delayed-trigger register value: (count_us·32 − start delay) mod 2^32."""
    return (count_us * 32 - start_delay) & 0xFFFF_FFFF


def tx_status_from_register(value: int) -> str:
    """Decode TX_FSM_STATUS (0x5211/0x5411) as sx1302_tx_status does."""
    if value == 0x80:
        return "FREE"
    if value in (0x30, 0x50, 0x60, 0x70):
        return "EMITTING"
    if value in (0x91, 0x92):
        return "SCHEDULED"
    return "UNKNOWN"


def tx_status_address(rf_chain: int) -> int:
    """Address of the TX FSM status register of an RF chain."""
    return tx_top_base(rf_chain) + TX_FIELDS["TX_FSM_STATUS"].offset


@dataclass(frozen=True, slots=True)
class TxRequest:
    """One packet to transmit, in chip terms (plain ints and strings, no model objects)."""

    rf_chain: int
    freq_hz: int
    payload: bytes
    modulation: str = "LORA"
    mode: str = "TIMESTAMPED"
    #: TIMESTAMPED: counter value (µs) at which the packet starts on air
    count_us: int = 0
    sf: int = 7
    bandwidth_hz: int = 125_000
    #: 1..4 = 4/5..4/8
    coding_rate: int = 1
    #: 0 = the standard preamble (8 LoRa, 5 FSK)
    preamble: int = 0
    invert_pol: bool = True
    no_crc: bool = True
    no_header: bool = False
    lorawan_public: bool = True
    #: TX gain table entry: SX1250 ``pa_gain``/``pwr_idx`` plus calibrated offsets and gain
    pa_gain: int = 0
    pwr_idx: int = 0
    dig_gain: int = 0
    offset_i: int = 0
    offset_q: int = 0
    datarate_bps: int = 50_000
    freq_deviation_hz: int = 25_000
    fsk_sync_word: int = 0xC194C1
    fsk_sync_word_size: int = 3
    radio_type: str = "SX1250"


@dataclass(frozen=True, slots=True)
class TxProgram:
    """Ordered TX programming: ``writes``, then the ``buffer`` burst, then ``trigger``."""

    writes: tuple[tuple[int, int], ...]
    buffer_address: int
    buffer: bytes
    trigger: tuple[tuple[int, int], ...]
    #: LoRa start delay written (ticks), or None when the send leaves the register alone (FSK)
    start_delay: int | None
    #: delayed-trigger value (TIMESTAMPED), else None
    trigger_ticks: int | None


class _Writer:
    """Accumulates whole-byte writes from field assignments on a TX_TOP image."""

    def __init__(self, rf_chain: int) -> None:
        self.base = tx_top_base(rf_chain)
        self.image = reset_image()
        self.writes: list[tuple[int, int]] = []

    def set(self, name: str, value: int) -> None:
        field = TX_FIELDS[name]
        if not 0 <= value < (1 << field.width):
            raise ValueError(f"{name} does not fit {field.width} bits: {value}")
        byte = (self.image[field.offset] & ~field.mask) | (value << field.shift)
        self.image[field.offset] = byte
        self.writes.append((self.base + field.offset, byte))


def _validate(req: TxRequest) -> None:
    if req.modulation not in ("LORA", "FSK"):
        raise ValueError(f"modulation must be LORA or FSK, got {req.modulation!r}")
    if req.mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {req.mode!r}")
    if len(req.payload) > 255:
        raise ValueError(f"payload is {len(req.payload)} bytes, at most 255")
    if req.bandwidth_hz not in BW_CODES:
        raise ValueError(f"bandwidth must be one of {sorted(BW_CODES)}, got {req.bandwidth_hz}")
    if req.modulation == "LORA":
        if not 5 <= req.sf <= 12 or not 1 <= req.coding_rate <= 4:
            raise ValueError(f"invalid LoRa SF{req.sf} CR{req.coding_rate}")
    elif not 500 <= req.datarate_bps <= 250_000 or not 1_000 <= req.freq_deviation_hz <= 200_000:
        raise ValueError(f"invalid FSK {req.datarate_bps} bps, f_dev {req.freq_deviation_hz} Hz")


def _lora(w: _Writer, req: TxRequest) -> int:
    fdev = freq_to_reg(req.bandwidth_hz // 2)
    w.set("FREQ_DEV_H", (fdev >> 8) & 0x0F)
    w.set("FREQ_DEV_L", fdev & 0xFF)
    w.set("MODEM_BW", BW_CODES[req.bandwidth_hz])
    preamble = req.preamble or LORA_PREAMBLE_STD
    preamble = max(preamble, LORA_PREAMBLE_MIN)
    w.set("PREAMBLE_SYMB_NB_MSB", (preamble >> 8) & 0xFF)
    w.set("PREAMBLE_SYMB_NB_LSB", preamble & 0xFF)
    w.set("MODEM_SF", req.sf)
    lowpass = chirp_lowpass(req.sf)
    w.set("CHIRP_LOWPASS", lowpass)
    w.set("CODING_RATE", req.coding_rate)
    w.set("MODEM_EN", 1)
    w.set("CADRXTX", 2)
    w.set("MODEM_START", 1)
    w.set("CONTINUOUS", 0)
    w.set("CHIRP_INVERT", int(req.invert_pol))
    w.set("IMPLICIT_HEADER", int(req.no_header))
    w.set("CRC_EN", 0 if req.no_crc else 1)
    short_sync = not req.lorawan_public or req.sf in (5, 6)
    w.set("FRAME_SYNCH_PEAK1_POS", 2 if short_sync else 6)
    w.set("FRAME_SYNCH_PEAK2_POS", 4 if short_sync else 8)
    w.set("FINE_SYNCH_EN", 1 if req.sf in (5, 6) else 0)
    w.set("PAYLOAD_LENGTH", len(req.payload))
    w.set("PPM_OFFSET_HDR_CTRL", 0)
    w.set("PPM_OFFSET", int(ldro_on(req.sf, req.bandwidth_hz)))
    delay = tx_start_delay(req.bandwidth_hz, lowpass, req.radio_type)
    w.set("TX_START_DELAY_MSB", delay >> 8)
    w.set("TX_START_DELAY_LSB", delay & 0xFF)
    return delay


def _fsk(w: _Writer, req: TxRequest) -> None:
    fdev = freq_to_reg(req.freq_deviation_hz)
    w.set("FREQ_DEV_H", (fdev >> 8) & 0x0F)
    w.set("FREQ_DEV_L", fdev & 0xFF)
    word = sx1250_freq_to_reg(req.freq_deviation_hz)
    w.writes.append((AGC_MAILBOX_WR_BYTE2, (word >> 16) & 0xFF))
    w.writes.append((AGC_MAILBOX_WR_BYTE1, (word >> 8) & 0xFF))
    w.writes.append((AGC_MAILBOX_WR_BYTE0, word & 0xFF))
    w.set("FSK_PKT_MODE", 1)  # variable length
    w.set("FSK_CRC_EN", 0 if req.no_crc else 1)
    w.set("FSK_CRC_IBM", 0)  # CCITT
    w.set("FSK_DCFREE_ENC", 2)  # whitening
    w.set("FSK_GAUSSIAN_EN", 1)
    w.set("FSK_GAUSSIAN_SELECT_BT", 2)
    w.set("FSK_REF_PATTERN_EN", 1)
    w.set("FSK_REF_PATTERN_SIZE", req.fsk_sync_word_size - 1)
    pattern = req.fsk_sync_word << (8 * (8 - req.fsk_sync_word_size))
    for i in range(8):
        w.set(f"FSK_REF_PATTERN_BYTE{i}", (pattern >> (8 * i)) & 0xFF)
    w.set("FSK_PREAMBLE_SEQ", 0)
    bitrate = XTAL_HZ // req.datarate_bps
    w.set("FSK_BIT_RATE_MSB", (bitrate >> 8) & 0xFF)
    w.set("FSK_BIT_RATE_LSB", bitrate & 0xFF)
    preamble = max(req.preamble or FSK_PREAMBLE_STD, FSK_PREAMBLE_MIN)
    w.set("FSK_PREAMBLE_SIZE_MSB", (preamble >> 8) & 0xFF)
    w.set("FSK_PREAMBLE_SIZE_LSB", preamble & 0xFF)
    w.set("FSK_PKT_LENGTH", len(req.payload))


def program(req: TxRequest) -> TxProgram:
    """The register writes, buffer and trigger of one ``sx1302_send`` (SX1250 radio)."""
    _validate(req)
    w = _Writer(req.rf_chain)
    lora = req.modulation == "LORA"
    w.set("MODULATION_TYPE", 0 if lora else 1)
    w.set("TX_IF_SRC", 1 if lora else 2)
    w.set("I_OFFSET", req.offset_i & 0xFF)
    w.set("Q_OFFSET", req.offset_q & 0xFF)
    w.set("AGC_TX_PWR", ((1 if req.pa_gain > 0 else 0) << 6) | req.pwr_idx)
    w.set("IQ_GAIN", req.dig_gain)
    freq = freq_to_reg(req.freq_hz)
    w.set("FREQ_RF_H", (freq >> 16) & 0xFF)
    w.set("FREQ_RF_M", (freq >> 8) & 0xFF)
    w.set("FREQ_RF_L", freq & 0xFF)
    bw_code = BW_CODES[req.bandwidth_hz]
    w.set("AGC_TX_BW", bw_code if lora else 0x80 | bw_code)
    start_delay: int | None = None
    if lora:
        start_delay = _lora(w, req)
        buffer = bytes(req.payload)
    else:
        _fsk(w, req)
        buffer = bytes([len(req.payload)]) + bytes(req.payload)
    w.set("WRITE_BUFFER", 1)
    writes = tuple(w.writes)
    w.writes = []
    w.set("WRITE_BUFFER", 0)
    trigger_ticks = None
    if req.mode == "TIMESTAMPED":
        # an FSK send subtracts nothing: sx1302_tx_set_start_delay returns 0 for FSK
        trigger_ticks = delayed_trigger(req.count_us, start_delay or 0)
        for i in range(4):
            w.set(f"TIMER_TRIG_BYTE{i}", (trigger_ticks >> (8 * i)) & 0xFF)
    trig = _TRIGGER_FIELD[req.mode]
    w.set(trig, 0)  # reset the state machine, then fire
    w.set(trig, 1)
    return TxProgram(
        writes=writes,
        buffer_address=tx_buffer_address(req.rf_chain),
        buffer=buffer,
        trigger=tuple(w.writes),
        start_delay=start_delay,
        trigger_ticks=trigger_ticks,
    )


def program_tx(
    write: Callable[[int, int], None],
    write_burst: Callable[[int, bytes], None],
    prog: TxProgram,
) -> None:
    """Apply a TxProgram: register writes, the buffer burst, then the trigger."""
    for address, value in prog.writes:
        write(address, value)
    write_burst(prog.buffer_address, prog.buffer)
    for address, value in prog.trigger:
        write(address, value)


def abort_writes(rf_chain: int) -> tuple[tuple[int, int], ...]:
    """Writes that clear the three trigger bits (then poll the status until FREE)."""
    return ((tx_top_base(rf_chain) + TX_FIELDS["TX_TRIG_IMMEDIATE"].offset, 0),)
