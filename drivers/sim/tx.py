"""The simulated SX1302 transmitter: decodes the TX programming and plays the TX state machine.

When a trigger bit of TX_TOP (0x5200 radio A, 0x5400 radio B) rises, the packet is decoded from
the register file and the TX buffer, exactly as the driver (``drivers.sx1302.tx``) wrote them:

- start on air: delayed trigger -> (TIMER_TRIG + TX_START_DELAY) ticks; immediate -> now + the
  start delay; the ON_GPS trigger needs a PPS edge, which the simulator has none of (refused);
- frequency: the 24-bit word ·32e6/2^18. The word is truncated (122.07 Hz steps), so the
  frequency is the *roundest* integer Hz inside the word's step: every multiple of 1 kHz (every
  LoRaWAN channel) comes back exactly; other frequencies come back as the roundest value of
  their step, at most 122 Hz off;
- SF/BW (0x5260), code rate (0x5261), IQ inversion (0x5269 bit 1), payload length (0x5263,
  FSK: the buffer's length byte), payload from the TX buffer (0x5300 / 0x5500);
- power: AGC_TX_PWR looked up in the plan's TX gain table of that RF chain (conducted dBm at
  the connector); None without a plan or when no entry matches.

TX FSM status (0x5211 / 0x5411): FREE 0x80 -> SCHEDULED 0x91 -> EMITTING 0x30 -> FREE as the
chip clock passes the start and the end of the packet. Clearing the trigger bits aborts the
packet: before its start it never goes on air (the driver's trigger write clears then fires, so
a new packet replaces a scheduled one); on air, the emission ends there and the FSM is FREE.
Every abort is kept in ``aborts`` (chain, what was aborted, when).
A transmission is recorded when it starts on air: kept in ``log`` and, with a
``tx_log`` path, appended as one JSON line.

``count_us`` is in the driver's µs domain: (32 MHz ticks since the counter's origin / 32) mod
2^32, where the origin is the simulator's ``counter_start_ticks``. This equals the counter the
driver reports as long as the driver starts tracking the counter before its first 2^32-tick
wrap (134 s after the simulator is created), as every daemon start on the simulator does.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from drivers.sim.clock import TICKS_PER_US, SimClock
from drivers.sx1302.plan import ChipPlan
from drivers.sx1302.tx_registers import TX_FIELDS, tx_buffer_address, tx_top_base

LOGGER = logging.getLogger(__name__)

XTAL_HZ = 32_000_000
STATUS_FREE, STATUS_SCHEDULED, STATUS_EMITTING = 0x80, 0x91, 0x30
TRIGGER_MASK = 0x07  # bit0 immediate, bit1 delayed, bit2 GPS
_BW_FROM_CODE = {0x04: 125_000, 0x05: 250_000, 0x06: 500_000}
_TICKS_WRAP = 1 << 32


@dataclass(frozen=True, slots=True)
class SimTransmission:
    """One packet the simulated chip put on air (the ``tx_log`` JSON line)."""

    count_us: int
    freq_hz: int
    power_dbm: float | None
    sf: int
    bw_hz: int
    cr: str
    iq_inverted: bool
    phy: str
    rf_chain: int
    modulation: str


@dataclass(frozen=True, slots=True)
class SimAbort:
    """A packet the host aborted by clearing its trigger bits."""

    rf_chain: int
    count_us: int  # the packet's start on air
    state: str  # "SCHEDULED" (never went on air) or "EMITTING" (cut short)
    at_us: int  # elapsed µs on the sim clock when the trigger was cleared


@dataclass(slots=True)
class _Pending:
    tx: SimTransmission
    start_us: int  # elapsed µs on the sim clock
    end_us: int
    recorded: bool = False


def decode_frequency(word: int) -> int:
    """The roundest integer Hz whose truncated TX word is ``word`` (exact for kHz multiples)."""
    low = math.ceil(word * XTAL_HZ / (1 << 18))
    high = math.ceil((word + 1) * XTAL_HZ / (1 << 18))  # exclusive
    for step in (1_000_000, 100_000, 10_000, 1_000, 100, 10):
        candidate = math.ceil(low / step) * step
        if candidate < high:
            return candidate
    return low


def lora_airtime_us(payload_len: int, sf: int, bw_hz: int, cr: int, preamble: int, crc: bool,
                    implicit: bool, ldro: bool) -> int:  # fmt: skip
    """Physical LoRa time on air (Semtech AN1200.13), for the EMITTING window only."""
    t_sym = (1 << sf) / bw_hz * 1e6
    bits = 8 * payload_len - 4 * sf + 28 + 16 * int(crc) - 20 * int(implicit)
    if sf < 7:
        bits += 8
    payload_symb = 8 + max(math.ceil(bits / (4 * (sf - 2 * int(ldro)))) * (cr + 4), 0)
    sync = 6.25 if sf < 7 else 4.25
    return round((preamble + sync + payload_symb) * t_sym)


class SimTransmitter:
    """TX side of the simulated chip; called by ``SimChip`` with its lock held."""

    def __init__(self, mem: bytearray, clock: SimClock, plan: ChipPlan | None,
                 tx_log: str | Path | None) -> None:  # fmt: skip
        self.mem = mem
        self.clock = clock
        self.plan = plan
        self.tx_log = Path(tx_log) if tx_log is not None else None
        #: every transmission that started on air, in order
        self.log: list[SimTransmission] = []
        self.stats = {"triggered": 0, "aborted": 0, "emitted": 0}
        #: every abort, in order
        self.aborts: list[SimAbort] = []
        self._pending: dict[int, _Pending] = {}
        self._busy = [False, False]
        self._lock = threading.Lock()

    def set_radio_busy(self, rf_chain: int, busy: bool) -> None:
        """Make the chain's TX status read EMITTING (busy) whatever it is doing."""
        self._busy[rf_chain] = busy

    def on_trigger_write(self, rf_chain: int, old: int, new: int) -> None:
        """A write to the chain's trigger byte: abort on clear, decode and schedule on a rise."""
        self.advance()
        rising = new & ~old & TRIGGER_MASK
        pending = self._pending.get(rf_chain)
        now = self.clock.elapsed_us()
        if not new & TRIGGER_MASK and pending is not None and now < pending.end_us:
            del self._pending[rf_chain]
            self.stats["aborted"] += 1
            state = "SCHEDULED" if now < pending.start_us else "EMITTING"
            self.aborts.append(SimAbort(rf_chain, pending.tx.count_us, state, now))
            LOGGER.debug("simulated TX on chain %d aborted (%s)", rf_chain, state)
        if not rising:
            return
        if rising & 0x04:
            raise _unsupported("ON_GPS trigger: the simulator has no PPS source")
        self.stats["triggered"] += 1
        self._pending[rf_chain] = self._decode(rf_chain, delayed=bool(rising & 0x02))

    def clear(self) -> None:
        """Forget every scheduled or emitting packet (the chip was reset)."""
        self._pending.clear()

    def status(self, rf_chain: int) -> int:
        """The TX FSM status byte of the chain, now."""
        self.advance()
        if self._busy[rf_chain]:
            return STATUS_EMITTING
        pending = self._pending.get(rf_chain)
        if pending is None:
            return STATUS_FREE
        now = self.clock.elapsed_us()
        if now < pending.start_us:
            return STATUS_SCHEDULED
        return STATUS_EMITTING if now < pending.end_us else STATUS_FREE

    def advance(self) -> None:
        """Record every packet whose start has passed; forget those that have ended."""
        if not self._pending:  # nothing scheduled: the common case, at every SPI transfer
            return
        now = self.clock.elapsed_us()
        for rf_chain, pending in sorted(self._pending.items(), key=lambda kv: kv[1].start_us):
            if not pending.recorded and now >= pending.start_us:
                pending.recorded = True
                self._record(pending.tx)
            if now >= pending.end_us:
                del self._pending[rf_chain]

    # -- decoding --------------------------------------------------------------------------

    def _field(self, rf_chain: int, name: str) -> int:
        f = TX_FIELDS[name]
        return (self.mem[tx_top_base(rf_chain) + f.offset] & f.mask) >> f.shift

    def _decode(self, rf_chain: int, *, delayed: bool) -> _Pending:
        g = lambda name: self._field(rf_chain, name)  # noqa: E731
        start_delay = (g("TX_START_DELAY_MSB") << 8) | g("TX_START_DELAY_LSB")
        now_us = self.clock.elapsed_us()
        now_ticks = self.clock.start_ticks + now_us * TICKS_PER_US  # unwrapped
        if delayed:
            trigger = sum(g(f"TIMER_TRIG_BYTE{i}") << (8 * i) for i in range(4))
            ahead = (trigger + start_delay - now_ticks) % _TICKS_WRAP
            if ahead >= _TICKS_WRAP // 2:
                LOGGER.warning("simulated TX trigger is in the past: fires one counter wrap later")
        else:
            ahead = start_delay
        start_ticks = now_ticks + ahead
        start_us = now_us + math.ceil(ahead / TICKS_PER_US)
        word = (g("FREQ_RF_H") << 16) | (g("FREQ_RF_M") << 8) | g("FREQ_RF_L")
        lora = g("MODULATION_TYPE") == 0
        buffer_at = tx_buffer_address(rf_chain)
        if lora:
            length = g("PAYLOAD_LENGTH")
            payload = bytes(self.mem[buffer_at : buffer_at + length])
            sf, bw = g("MODEM_SF"), _BW_FROM_CODE.get(g("MODEM_BW"), 0)
            cr = g("CODING_RATE")
            preamble = (g("PREAMBLE_SYMB_NB_MSB") << 8) | g("PREAMBLE_SYMB_NB_LSB")
            flags = (bool(g("CRC_EN")), bool(g("IMPLICIT_HEADER")), bool(g("PPM_OFFSET")))
            airtime = lora_airtime_us(length, sf, bw, cr, preamble, *flags)
            cr_text, iq = f"4/{4 + cr}", bool(g("CHIRP_INVERT"))
        else:
            length = self.mem[buffer_at]
            payload = bytes(self.mem[buffer_at + 1 : buffer_at + 1 + length])
            sf, bw, cr_text, iq = 0, _BW_FROM_CODE.get(g("AGC_TX_BW") & 0x7F, 0), "", False
            bitrate = XTAL_HZ // max(1, (g("FSK_BIT_RATE_MSB") << 8) | g("FSK_BIT_RATE_LSB"))
            airtime = (length + 1 + 5 + 3 + 2) * 8 * 1_000_000 // bitrate
        tx = SimTransmission(
            count_us=(start_ticks // TICKS_PER_US) & 0xFFFF_FFFF,
            freq_hz=decode_frequency(word),
            power_dbm=self._power(rf_chain, g("AGC_TX_PWR")),
            sf=sf,
            bw_hz=bw,
            cr=cr_text,
            iq_inverted=iq,
            phy=payload.hex(),
            rf_chain=rf_chain,
            modulation="LORA" if lora else "FSK",
        )
        LOGGER.debug("simulated TX scheduled on chain %d: %s", rf_chain, tx)
        return _Pending(tx, start_us, start_us + airtime)

    def _power(self, rf_chain: int, agc_tx_pwr: int) -> float | None:
        if self.plan is None:
            return None
        pa_on, pwr_idx = bool(agc_tx_pwr & 0x40), agc_tx_pwr & 0x3F
        for gain in self.plan.radios[rf_chain].tx_gain_lut:
            if (gain.pa_gain > 0) == pa_on and gain.pwr_idx == pwr_idx:
                return float(gain.rf_power_dbm)
        return None

    def _record(self, tx: SimTransmission) -> None:
        self.log.append(tx)
        self.stats["emitted"] += 1
        LOGGER.info("simulated TX on air at count_us %d: %d Hz SF%d", tx.count_us, tx.freq_hz,
                    tx.sf)  # fmt: skip
        if self.tx_log is None:
            return
        line = {k: v for k, v in asdict(tx).items() if k not in ("rf_chain", "modulation")}
        with self._lock, self.tx_log.open("a", encoding="utf-8") as out:
            out.write(json.dumps(line, separators=(",", ":")) + "\n")


def _unsupported(message: str) -> Exception:
    from drivers.sim.chip import SimUnsupportedError  # the chip module imports this one

    return SimUnsupportedError(message)
