"""The simulated SX1302: register file, RX FIFO, counter, identity and two SX1250 radios.

``SimChip.xfer(frame)`` takes the bytes one SPI transaction puts on MOSI (ref/sx1302.md §1) and
returns what MISO carries back, so the real framing code of ``drivers.spi`` runs against it:

- mux 0 (SX1302): ``[0, R/W|A14..8, A7..0, data...]`` writes, ``[0, A14..8, A7..0, dummy, N x 0]``
  reads (answer after the 4-byte header). Burst writes advance the address; reads at 0x4000 pop
  the RX FIFO without advancing; 0x58C8/0x58C9 give the FIFO byte count; 0x6101..0x6108 the PPS
  and free-running 32 MHz counters (big-endian); 0x5606 the version; writing 0x6180 selects the
  OTP byte read at 0x6181 (EUI bytes 0..7, chip model at 0xD0).
- mux 1/2 (SX1250 A/B): ``[mux, opcode, params...]``; MISO[1:] carries the status byte where the
  radio answers it (chip mode in bits 6:4).

The AGC/ARB firmware load and handshakes are modelled in ``drivers.sim.mcu``. With ``enforce``
(the default) the chip receives nothing until both handshakes completed and refuses MCU memory
writes while the host does not hold the MCU. What it does not implement it refuses
(``SimUnsupportedError``). A write to an address that is neither in the register table nor in a
memory area is stored, counted in ``stats["unknown_writes"]`` and logged at WARNING once per
address; with ``strict`` it raises ``SimUnsupportedError``.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from drivers.errors import ChipError, DriverError, TransportError
from drivers.sim.clock import SimClock
from drivers.sim.mcu import (
    AGC_MEM,
    ARB_MEM,
    FIRMWARE_OWNED,
    HANG_POINTS,
    PARITY_TARGETS,
    McuState,
    SimMcus,
)
from drivers.sim.population import Population
from drivers.sim.reception import (
    LORA_SERVICE_MODEM_ID,
    MULTI_SF_DEMODULATORS,
    Chain,
    FineTiming,
    RadioCalibration,
    build_record,
    latch_delay_us,
    pps_ticks_before,
    programmed_chains,
    select_chain,
)
from drivers.sim.scenario import Scenario, ScenarioFifoBytes, ScenarioPacket, load_scenario
from drivers.sim.tx import SimTransmission, SimTransmitter
from drivers.sx1302.fine_timestamp import TICKS_PER_SECOND
from drivers.sx1302.plan import ChipPlan

LOGGER = logging.getLogger(__name__)

ADDRESS_SPACE = 0x8000
FIFO_PORT = 0x4000
FIFO_SIZE = 4096
REG_VERSION = 0x5606
REG_FIFO_COUNT = 0x58C8  # MSB [4:0], LSB at 0x58C9
REG_COUNTER = 0x6101  # PPS 0x6101..0x6104, free-running 0x6105..0x6108, big-endian
REG_OTP_ADDR = 0x6180
#: fine-timestamp configuration (sx1302_hal timestamp_counter_mode; drivers.sx1302.chip step 6)
REG_LEGACY_TIMESTAMP = 0x58C0  # bit 2: 1 = end-of-packet latch
REG_TIMESTAMP_ENABLE = 0x58B3  # bit 3
REG_MAX_TS_METRICS = 0x58C1
MAX_TS_METRIC_PAIRS = 32
REG_OTP_DATA = 0x6181
OTP_MODEL_ADDR = 0xD0
REG_RF_EN = {0x5783: 0, 0x5784: 1}  # AGC_MCU_RF_EN_A/B, bit 3 = RADIO_RST
#: COMMON_CTRL0 bit 3 HOST_RADIO_CTRL (reset value 1): 0 once the AGC firmware owns the radios
REG_COMMON_CTRL0, HOST_RADIO_CTRL_BIT = 0x5601, 0x08
RADIO_RST_BIT = 0x08
DEFAULT_EUI = 0x0016C001FF1A08F0
#: persona -> (version 0x5606, model byte at OTP 0xD0); "reset" answers 0x00 to every read
PERSONAS = {"sx1302": (0x10, 0x00), "sx1303": (0x12, 0x03), "reset": (0x00, 0x00)}
FAULT_KINDS = ("error", "corrupt", "zeros")
_READ_ONLY = (
    frozenset({REG_VERSION, REG_FIFO_COUNT, REG_FIFO_COUNT + 1, REG_OTP_DATA})
    | frozenset(range(REG_COUNTER, REG_COUNTER + 8))
    | FIRMWARE_OWNED
)
#: memory areas (ref/sx1302.md §3): MCU code, RX FIFO port, TX buffers A/B, capture RAM
_MEMORY_AREAS = ((0x0000, 0x4001), (0x5300, 0x5400), (0x5500, 0x5600), (0x6000, 0x6080))
REG_GLOBAL_EN, GLOBAL_EN_BIT = 0x5605, 0x08
#: a few reset defaults (sx1302_hal loragw_reg.c), used when drivers.sx1302.registers is absent
_FALLBACK_DEFAULTS = {0x5601: 0x08, 0x5780: 0x04, 0x58C1: 0xFF, 0x5801: 0x80, 0x5B01: 0x80}
#: TX trigger byte (drivers/sim/tx.py) and TX FSM status register, per RF chain
REG_TX_TRIGGER = {0x5200: 0, 0x5400: 1}
REG_TX_STATUS = {0x5211: 0, 0x5411: 1}

# SX1250 opcodes (ref/sx1302.md §1) and the chip modes they leave the radio in
OP_SET_STANDBY, OP_SET_RX, OP_SET_RF_FREQUENCY = 0x80, 0x82, 0x86
OP_CALIBRATE, OP_CALIBRATE_IMAGE, OP_WRITE_REGISTER = 0x89, 0x98, 0x0D
OP_GET_STATUS, OP_GET_DEVICE_ERRORS = 0xC0, 0x17
MODE_STDBY_RC, MODE_STDBY_XOSC, MODE_RX = 2, 3, 5
_MIN_PARAMS = {
    OP_SET_STANDBY: 1,
    OP_SET_RX: 3,
    OP_SET_RF_FREQUENCY: 4,
    OP_CALIBRATE: 1,
    OP_CALIBRATE_IMAGE: 2,
    OP_WRITE_REGISTER: 3,
    OP_GET_STATUS: 1,
    OP_GET_DEVICE_ERRORS: 1,
}


class SimUnsupportedError(ChipError):
    """The simulator was asked for something it does not implement or the chip would refuse."""


class SimConfigError(DriverError, ValueError):
    """An invalid simulator option."""


@dataclass
class SimRadio:
    """State of one simulated SX1250."""

    mode: int = MODE_STDBY_RC
    freq_hz: int | None = None
    registers: dict[int, int] = field(default_factory=dict)

    def reset(self) -> None:
        """Back to the power-on state."""
        self.mode, self.freq_hz = MODE_STDBY_RC, None
        self.registers.clear()


def _known_addresses() -> frozenset[int]:
    """Addresses a write may target: the register table and the memory areas."""
    known: set[int] = set()
    for lo, hi in _MEMORY_AREAS:
        known.update(range(lo, hi))
    try:
        from drivers.sx1302.registers import REGISTERS
    except ImportError:
        return frozenset(known | set(range(0x5200, 0x6200)))
    from drivers.sx1302.tx_registers import TX_FIELDS, tx_top_base

    known.update(reg.addr for reg in REGISTERS.values())
    known.update(tx_top_base(rf) + f.offset for rf in (0, 1) for f in TX_FIELDS.values())
    return frozenset(known)


def _reset_defaults() -> bytearray:
    mem = bytearray(ADDRESS_SPACE)
    try:
        from drivers.sx1302.registers import REGISTERS  # the driver's table, when present
    except ImportError:
        for addr, value in _FALLBACK_DEFAULTS.items():
            mem[addr] = value
        return mem
    for reg in REGISTERS.values():
        mask = ((1 << reg.width) - 1) << reg.offs
        mem[reg.addr] = (mem[reg.addr] & ~mask) | ((reg.default << reg.offs) & mask)
    return mem


class SimChip:
    """A simulated SX1302 with two SX1250 radios, playing a scenario or a device population."""

    def __init__(
        self,
        *,
        scenario: Scenario | str | Path | None = None,
        seed: int | None = None,
        persona: str = "sx1302",
        clock: SimClock | str = "real",
        counter_start_ticks: int = 0,
        rssi_offset_db: float = -215.4,
        rssi_tcomp: tuple[float, float, float, float, float] = (0.0, 0.0, 20.41, 2162.56, 0.0),
        temperature_c: float = 25.0,
        devices: int = 5,
        uplink_interval_s: float = 10.0,
        eui: int = DEFAULT_EUI,
        plan: ChipPlan | None = None,
        tx_log: str | Path | None = None,
        enforce: bool = True,
        strict: bool = False,
        agc_version: int = 10,
        arb_version: int = 2,
        hang: str | None = None,
        parity_error: str | None = None,
        readback_error_at: int | None = None,
    ) -> None:
        if hang is not None and hang not in HANG_POINTS:
            raise SimConfigError(f"hang must be one of {', '.join(HANG_POINTS)}, got {hang!r}")
        if parity_error is not None and parity_error not in PARITY_TARGETS:
            raise SimConfigError(f"parity_error must be agc or arb, got {parity_error!r}")
        if persona not in PERSONAS:
            raise SimConfigError(f"persona must be one of {', '.join(PERSONAS)}, got {persona!r}")
        if isinstance(clock, str):
            if clock not in ("real", "virtual"):
                raise SimConfigError(f"clock must be 'real' or 'virtual', got {clock!r}")
            clock = SimClock(virtual=clock == "virtual", start_ticks=counter_start_ticks)
        if len(rssi_tcomp) != 5:
            raise SimConfigError(f"rssi_tcomp needs 5 coefficients, got {len(rssi_tcomp)}")
        if not 0 <= eui < 1 << 64:
            raise SimConfigError(f"eui must be a 64-bit value, got {eui:#x}")
        self.persona = persona
        self.clock = clock
        self.plan = plan
        self.tx_log = tx_log
        self.calibration = RadioCalibration(rssi_offset_db, tuple(rssi_tcomp), temperature_c)  # type: ignore[arg-type]
        self.version, self.model = PERSONAS[persona]
        self.eui = eui
        self.mem = _reset_defaults()
        self.mem[REG_VERSION] = self.version
        self.enforce = enforce
        self.strict = strict
        self.mcus = SimMcus(
            self.mem,
            agc_version=agc_version,
            arb_version=arb_version,
            hang=hang,
            parity_error=parity_error,
            readback_error_at=readback_error_at,
        )
        self._known = _known_addresses()
        self._warned_unknown: set[int] = set()
        self.transmitter = SimTransmitter(self.mem, self.clock, plan, tx_log)
        self.fifo = bytearray()
        self.radios = (SimRadio(), SimRadio())
        self.stats = dict.fromkeys(
            ("received", "not_received", "raw_appended", "overruns", "unknown_writes",
             "read_only_writes", "fifo_underreads", "faults", "refused_no_firmware",
             "radio_frames_ignored"),
            0,
        )  # fmt: skip
        self._lock = threading.RLock()
        #: the supply (POWER_EN) and the SX1302 reset line (active high), see set_powered
        self.powered = True
        self.reset_asserted = False
        self._faults: deque[str] = deque()
        self._next_modem = 0
        self._overrunning = False
        self._chains: list[Chain] | None = None  # programmed_chains(), until a write changes it
        #: elapsed µs (on self.clock) when the scenario started: the first read of 0x58C8
        self.started_at_us: int | None = None
        if scenario is not None and not isinstance(scenario, Scenario):
            scenario = load_scenario(scenario)
        self.scenario = scenario
        self._pending: deque[ScenarioPacket | ScenarioFifoBytes] = deque(
            scenario.items if scenario else ()
        )
        #: the head of _pending whose due time (µs after started_at_us) is _head_due_us
        self._head: ScenarioPacket | ScenarioFifoBytes | None = None
        self._head_due_us = 0
        self.population = (
            None
            if scenario is not None
            else Population(
                devices, uplink_interval_s=uplink_interval_s, seed=seed, channels=self._channels
            )
        )

    # ---------------------------------------------------------------- public API
    def xfer(self, frame: bytes) -> bytes:
        """Execute one SPI transaction (MOSI bytes) and return the MISO bytes (same length)."""
        with self._lock:
            fault = self._faults.popleft() if self._faults else None
            if fault == "error":
                raise TransportError("injected SPI fault (simulator)")
            if fault == "zeros":
                return bytes(len(frame))
            if len(frame) < 2:
                raise SimUnsupportedError(f"SPI frame too short: {bytes(frame).hex()}")
            if not self.answering:
                return bytes(len(frame))  # unpowered or held in reset: MISO stays low
            self.transmitter.advance()
            mux = frame[0]
            if mux == 0:
                miso = self._sx1302_frame(bytes(frame))
            elif mux in (1, 2):
                miso = self._radio_frame(self.radios[mux - 1], bytes(frame))
            else:
                raise SimUnsupportedError(f"unknown SPI mux target {mux:#04x} (0, 1, 2 exist)")
            if fault == "corrupt":
                miso = bytes(b ^ 0xFF for b in miso)
            return miso

    def inject_fault(self, kind: str, count: int = 1) -> None:
        """Make the next ``count`` transactions fail: ``error`` raises TransportError (not
        executed), ``corrupt`` executes but inverts every MISO byte, ``zeros`` is not executed
        and answers 0x00 (MISO stuck low)."""
        if kind not in FAULT_KINDS:
            raise SimConfigError(
                f"fault kind must be one of {', '.join(FAULT_KINDS)}, got {kind!r}"
            )
        with self._lock:
            self._faults.extend([kind] * count)
            self.stats["faults"] += count

    def advance_us(self, us: int) -> None:
        """Move a virtual clock forward (tests, and the simulated USB bridge's latency)."""
        with self._lock:
            self.clock.advance_us(us)

    # ---------------------------------------------------------------- power and reset lines
    @property
    def answering(self) -> bool:
        """Powered and out of reset: only then does the chip take part in SPI transfers."""
        return self.powered and not self.reset_asserted

    def set_powered(self, on: bool) -> None:
        """Drive the supply (the board's POWER_EN line).

        Off: every read answers 0x00 (version 0x00, which the driver reports as ChipNotFound)
        and writes are lost. Back on: the chip is fresh from reset (``_power_on_reset``).
        """
        with self._lock:
            if on and not self.powered:
                self._power_on_reset()
                LOGGER.info("simulated SX1302: powered on (fresh from reset)")
            elif not on and self.powered:
                LOGGER.info("simulated SX1302: powered off")
            self.powered = on

    def set_reset(self, asserted: bool) -> None:
        """Drive the SX1302 reset line (active high): held, the chip answers nothing; released,
        it is fresh from reset."""
        with self._lock:
            if self.reset_asserted and not asserted and self.powered:
                self._power_on_reset()
            self.reset_asserted = asserted

    def _power_on_reset(self) -> None:
        """Register reset defaults, MCU firmware and mailboxes gone, radios reset, FIFO empty,
        nothing scheduled to transmit. The counter keeps running (the simulator has one clock)."""
        self.mem[:] = _reset_defaults()
        self.mem[REG_VERSION] = self.version
        self.mcus.state = McuState()
        self.transmitter.clear()
        for radio in self.radios:
            radio.reset()
        self.fifo.clear()
        self._next_modem = 0
        self._chains = None

    def set_radio_busy(self, rf_chain: int, busy: bool = True) -> None:
        """Make the chain's TX status read EMITTING (``busy``) until called with False."""
        with self._lock:
            self.transmitter.set_radio_busy(rf_chain, busy)

    @property
    def transmissions(self) -> list[SimTransmission]:
        """Every packet put on air so far (also appended to ``tx_log`` when set)."""
        with self._lock:
            self.transmitter.advance()
            return list(self.transmitter.log)

    @property
    def exhausted(self) -> bool:
        """True once every scenario line has been played and the FIFO has been read empty."""
        with self._lock:
            if self.scenario is None:
                return False
            self._advance()
            return not self._pending and not self.fifo

    @property
    def fifo_count(self) -> int:
        """Bytes waiting in the RX FIFO."""
        return len(self.fifo)

    # ---------------------------------------------------------------- SX1302 side
    def _sx1302_frame(self, frame: bytes) -> bytes:
        if len(frame) < 4:
            raise SimUnsupportedError(f"SX1302 frame needs at least 4 bytes: {frame.hex()}")
        address = ((frame[1] & 0x7F) << 8) | frame[2]
        if frame[1] & 0x80:
            if self.persona != "reset":
                self._write(address, frame[3:])
            return bytes(len(frame))
        if len(frame) < 5:
            raise SimUnsupportedError(f"SX1302 read frame needs at least 5 bytes: {frame.hex()}")
        if self.persona == "reset":
            return bytes(len(frame))
        return bytes(4) + self._read(address, len(frame) - 4)

    def _read(self, address: int, length: int) -> bytes:
        if address == FIFO_PORT:
            self._advance()
            return self._pop_fifo(length)
        if address + length > ADDRESS_SPACE:
            raise SimUnsupportedError(f"read of {length} bytes at {address:#06x} leaves the map")
        end = address + length
        if end <= ARB_MEM.stop:
            return self.mcus.read_memory(address, length)
        if address <= REG_FIFO_COUNT + 1 and end > REG_FIFO_COUNT:
            if self.started_at_us is None:
                self.started_at_us = self.clock.elapsed_us()
                LOGGER.info("simulated SX1302: first FIFO poll, scenario clock starts")
            self._advance()
            count = len(self.fifo)
            self.mem[REG_FIFO_COUNT] = (count >> 8) & 0x1F
            self.mem[REG_FIFO_COUNT + 1] = count & 0xFF
        for status_addr, rf_chain in REG_TX_STATUS.items():
            if address <= status_addr < end:
                self.mem[status_addr] = self.transmitter.status(rf_chain)
        if address < REG_COUNTER + 8 and end > REG_COUNTER:
            self.mem[REG_COUNTER : REG_COUNTER + 4] = self._pps_latch().to_bytes(4, "big")
            self.mem[REG_COUNTER + 4 : REG_COUNTER + 8] = self.clock.ticks().to_bytes(4, "big")
        return bytes(self.mem[address:end])

    @property
    def fine_timestamping(self) -> bool:
        """True on an SX1303 persona once the driver selected the end-of-header latch."""
        return (
            self.persona == "sx1303"
            and bool(self.mem[REG_TIMESTAMP_ENABLE] & 0x08)
            and not self.mem[REG_LEGACY_TIMESTAMP] & 0x04
        )

    def _pps_latch(self) -> int:
        """The PPS-latched counter: 0 without fine timestamping, else an edge every second."""
        if not (self.fine_timestamping or getattr(self, "gps_pps", False)):
            return 0  # no PPS source: the latch stays 0 (drivers.sim.gps sets gps_pps)
        elapsed_ticks = self.clock.elapsed_us() * 32
        if elapsed_ticks < TICKS_PER_SECOND:
            return 0
        return pps_ticks_before(elapsed_ticks, self.clock.start_ticks)

    def _fine_timing(self, elapsed_us: int) -> FineTiming | None:
        if not self.fine_timestamping:
            return None
        pairs = max(1, min(MAX_TS_METRIC_PAIRS, self.mem[REG_MAX_TS_METRICS]))
        return FineTiming(pairs, elapsed_us * 32, self.clock.start_ticks)

    def _pop_fifo(self, length: int) -> bytes:
        data = bytes(self.fifo[:length])
        del self.fifo[:length]
        if len(data) < length:
            self.stats["fifo_underreads"] += 1
            data += bytes(length - len(data))
        return data

    def _write(self, address: int, data: bytes) -> None:
        if address + len(data) > ADDRESS_SPACE:
            raise SimUnsupportedError(
                f"write of {len(data)} bytes at {address:#06x} leaves the map"
            )
        for offset, value in enumerate(data):
            addr = address + offset
            if addr in _READ_ONLY:
                self.stats["read_only_writes"] += 1
                LOGGER.warning(
                    "simulated SX1302: write %#04x to read-only %#06x ignored", value, addr
                )
                continue
            if addr not in self._known:
                self._unknown_write(addr, value)
            if self.enforce and addr < ARB_MEM.stop and not self.mcus.host_may_write(addr):
                mcu = "AGC" if addr in AGC_MEM else "ARB"
                raise SimUnsupportedError(
                    f"write to {mcu} MCU memory {addr:#06x} while {mcu}_MCU_CTRL HOST_PROG is 0"
                )
            old = self.mem[addr]
            self.mem[addr] = value
            self._chains = None
            self.mcus.on_write(addr, old, value)
            if addr == REG_OTP_ADDR:
                self.mem[REG_OTP_DATA] = self._otp(value)
            elif addr in REG_RF_EN and (old ^ value) & RADIO_RST_BIT:
                self.radios[REG_RF_EN[addr]].reset()
            elif addr in REG_TX_TRIGGER:
                self.transmitter.on_trigger_write(REG_TX_TRIGGER[addr], old, value)

    def _unknown_write(self, addr: int, value: int) -> None:
        if self.strict:
            raise SimUnsupportedError(
                f"write {value:#04x} to {addr:#06x}: not a register of the SX1302 table nor a "
                "memory area (strict simulator)"
            )
        self.stats["unknown_writes"] += 1
        if addr not in self._warned_unknown:
            self._warned_unknown.add(addr)
            LOGGER.warning(
                "simulated SX1302: write %#04x to %#06x, not in the register table "
                "(stored; further writes there are only counted)", value, addr,
            )  # fmt: skip

    @property
    def firmware_ready(self) -> bool:
        """Both firmware handshakes completed (AGC configured, ARB resumed)."""
        return self.mcus.state.ready

    def _otp(self, otp_address: int) -> int:
        if otp_address < 8:
            return (self.eui >> (8 * (7 - otp_address))) & 0xFF  # byte 0 is the MSB
        if otp_address == OTP_MODEL_ADDR:
            return self.model
        return 0x00

    # ---------------------------------------------------------------- radios
    def _radio_frame(self, radio: SimRadio, frame: bytes) -> bytes:
        miso = bytearray(len(frame))
        if self.persona == "reset":
            return bytes(miso)
        if not self.mem[REG_COMMON_CTRL0] & HOST_RADIO_CTRL_BIT:
            # the AGC firmware drives the radios' SPI since the bring-up handed them over: the
            # host's frames do not reach them until it sets HOST_RADIO_CTRL again
            self.stats["radio_frames_ignored"] += 1
            return bytes(miso)
        opcode, params = frame[1], frame[2:]
        self._chains = None  # a radio command may change its frequency or mode
        if opcode not in _MIN_PARAMS:
            raise SimUnsupportedError(f"SX1250 opcode {opcode:#04x} is not implemented")
        if len(params) < _MIN_PARAMS[opcode]:
            raise SimUnsupportedError(
                f"SX1250 opcode {opcode:#04x} needs {_MIN_PARAMS[opcode]} parameter bytes, "
                f"got {len(params)}"
            )
        if opcode == OP_SET_STANDBY:
            radio.mode = MODE_STDBY_XOSC if params[0] & 1 else MODE_STDBY_RC
        elif opcode == OP_SET_RX:
            radio.mode = MODE_RX
        elif opcode == OP_SET_RF_FREQUENCY:
            radio.freq_hz = round(int.from_bytes(params[:4], "big") * 32_000_000 / (1 << 25))
        elif opcode == OP_WRITE_REGISTER:
            reg = (params[0] << 8) | params[1]
            for i, value in enumerate(params[2:]):
                radio.registers[reg + i] = value
        status = radio.mode << 4
        miso[1] = status
        if opcode == OP_GET_STATUS:
            miso[2:] = bytes([status]) * (len(frame) - 2)
        elif opcode == OP_GET_DEVICE_ERRORS:
            miso[2] = status  # then the error bytes: none
        return bytes(miso)

    # ---------------------------------------------------------------- reception
    def _programmed_chains(self) -> list[Chain]:
        """The receiving chains, recomputed only after a register write or radio command."""
        if self._chains is None:
            freqs, modes = self._radio_freqs(), self._radio_modes()
            self._chains = programmed_chains(self.mem, freqs, modes, self.plan)
        return self._chains

    def _channels(self) -> list[int]:
        chains = self._programmed_chains()
        return [int(round(c.centre_hz, -3)) for c in chains if c.if_chain < 8 and 7 in c.sfs]

    def _radio_freqs(self) -> tuple[int | None, int | None]:
        return (self.radios[0].freq_hz, self.radios[1].freq_hz)

    def _radio_modes(self) -> tuple[int, int]:
        return (self.radios[0].mode, self.radios[1].mode)

    def _next_due(self) -> ScenarioPacket | ScenarioFifoBytes | None:
        """The next item, if it is due on the chip clock; otherwise None."""
        assert self.started_at_us is not None
        now_us = self.clock.elapsed_us() - self.started_at_us
        if (
            not self._pending
            and self.population is not None
            and self.population.peek_at_ms() * 1000 <= now_us
        ):
            # population packets are drawn when due, so they see the channels programmed then
            self._pending.append(self.population.pop())
        if not self._pending:
            return None
        item = self._pending[0]
        if item is not self._head:  # a new head: its due time once (this runs at every transfer)
            self._head = item
            self._head_due_us = item.at_ms * 1000
            if isinstance(item, ScenarioPacket):  # the record is written at the end of the packet
                self._head_due_us += latch_delay_us(item)
        if self._head_due_us > now_us:
            return None
        return self._pending.popleft()

    def _advance(self) -> None:
        """Play every scenario item that is due into the RX FIFO."""
        if self.started_at_us is None:
            return
        while (item := self._next_due()) is not None:
            if isinstance(item, ScenarioFifoBytes):
                self.stats["raw_appended"] += 1
                self._fifo_append(item.data)
            else:
                self._receive(item)

    def _receive(self, packet: ScenarioPacket) -> None:
        if self.enforce and not (self.firmware_ready and self.mem[REG_GLOBAL_EN] & GLOBAL_EN_BIT):
            self.stats["refused_no_firmware"] += 1
            if self.stats["refused_no_firmware"] == 1:
                LOGGER.warning(
                    "simulated SX1302: packet at %d ms not received: the AGC/ARB firmware "
                    "handshakes have not completed or GLOBAL_EN is 0 (enforce=False to bypass)",
                    packet.at_ms,
                )
            return
        chain = select_chain(self._programmed_chains(), packet)
        if chain is None:
            self.stats["not_received"] += 1
            LOGGER.debug(
                "simulated SX1302: %d Hz SF%d BW%d at %d ms is off the programmed plan",
                packet.freq_hz, packet.sf, packet.bw_hz, packet.at_ms,
            )  # fmt: skip
            return
        if chain.if_chain < 8:
            modem_id = self._next_modem
            self._next_modem = (self._next_modem + 1) % MULTI_SF_DEMODULATORS
        else:
            modem_id = LORA_SERVICE_MODEM_ID
        assert self.started_at_us is not None
        elapsed_us = self.started_at_us + packet.at_ms * 1000
        ticks = self.clock.ticks_at(elapsed_us)
        self.stats["received"] += 1
        fine = self._fine_timing(elapsed_us)
        self._fifo_append(build_record(packet, chain, modem_id, ticks, self.calibration, fine))

    def _fifo_append(self, data: bytes) -> None:
        if len(self.fifo) + len(data) > FIFO_SIZE:
            self.stats["overruns"] += 1
            # one line per burst of overruns, not one per record: the host is already too slow
            if not self._overrunning:
                self._overrunning = True
                LOGGER.warning(
                    "simulated SX1302: RX FIFO full (4096 bytes), records dropped until the host "
                    "reads it (%d overruns so far)", self.stats["overruns"],
                )  # fmt: skip
            return
        self._overrunning = False
        self.fifo += data
