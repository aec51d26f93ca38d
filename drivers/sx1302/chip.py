"""The SX1302/SX1303 baseband chip: register access, RX bring-up, RX FIFO and counter.

``start(plan, firmware)`` follows the order of sx1302_hal ``lgw_start`` (ref/sx1302.md §6), one
named method per step; the AGC/ARB firmware load and handshakes (16-19) are in
``drivers.sx1302.mcu``. Every wait goes through the injectable ``sleep`` so tests run at full
speed, and every firmware handshake has a timeout (``handshake_timeout_s``).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from drivers.errors import ChipError, ChipNotFound, DriverError, FirmwareError, RadioError
from drivers.firmware import Firmware, missing_firmware_help
from drivers.sx1302 import convert, mcu
from drivers.sx1302.counter import CounterTracker
from drivers.sx1302.fifo import FifoParse, parse_fifo
from drivers.sx1302.plan import MULTI_SF_CHAINS, ChipPlan
from drivers.sx1302.registers import REGISTERS, Register
from drivers.sx1302.sx1250 import ChipMode, Standby, Sx1250
from drivers.sx1302.tx import (
    TxProgram,
    abort_writes,
    program_tx,
    tx_status_address,
    tx_status_from_register,
)
from drivers.sx1302.tx_registers import TX_FIELDS, reset_image, tx_top_base
from drivers.transport import Target, Transport

LOGGER = logging.getLogger(__name__)

RX_FIFO_ADDR = 0x4000
RX_BYTE_COUNT_ADDR = 0x58C8  # RX_BUFFER_NB_BYTES MSB, LSB follows
COUNTER_ADDR = 0x6101  # PPS (4 bytes BE) then free-running (4 bytes BE)
OTP_MODEL_ADDR = 0xD0
MODELS = {0x00: "SX1302", 0x02: "SX1302", 0x03: "SX1303"}
#: sx1302_hal GPIO_CFG_REGISTER / GPIO_CFG_STATUS / GPIO_CFG_AGC for GPIO_SEL_0..7
GPIO_SELECTION = (0, 0, 9, 0, 9, 0, 0, 1)
#: sx1302_hal fsk defaults: 3-byte sync word 0xC194C1
FSK_SYNC_WORD = 0xC194C1
FSK_SYNC_WORD_SIZE = 3
#: fine timestamping: metrics kept per record (sx1302_hal PRECISION_TIMESTAMP_TS_METRICS_MAX)
FINE_TS_METRICS_MAX = 32
_FREQ_TRACK_AUTO, _FREQ_TRACK_OFF, _DFT_PEAK_AUTO = 3, 0, 3


def _freq_to_time_drift(radio_freq_hz: int, bandwidth_hz: int) -> tuple[int, int]:
    """(mantissa, exponent) of BW * 2^20 / f_radio normalised to >= 2048 (0x970, 4 at 867.5)."""
    mantissa = bandwidth_hz * (1 << 20) // radio_freq_hz
    exponent = 0
    while mantissa < 2048:
        exponent += 1
        mantissa <<= 1
    return mantissa, exponent


class SX1302:
    """One SX1302/SX1303 concentrator chip behind a transport."""

    def __init__(
        self,
        transport: Transport,
        *,
        sleep: Callable[[float], None] = time.sleep,
        firmware: Firmware | None = None,
        handshake_timeout_s: float = mcu.DEFAULT_TIMEOUT_S,
    ) -> None:
        self.transport = transport
        #: AGC/ARB images for ``start``; None: the transport's ``default_firmware`` (simulator)
        self.firmware = firmware
        self.handshake_timeout_s = handshake_timeout_s
        self.counter = CounterTracker()
        #: cumulative FIFO error counts since creation (parse_fifo kinds)
        self.rx_errors: Counter[str] = Counter()
        self.plan: ChipPlan | None = None
        #: the AGC/ARB images the last ``start`` loaded
        self.running_firmware: Firmware | None = None
        self.started = False
        self._sleep = sleep
        self._bulk_depth = 0
        self.radios = (
            Sx1250(transport, Target.RADIO_A, sleep=sleep),
            Sx1250(transport, Target.RADIO_B, sleep=sleep),
        )

    # --- register and memory access ------------------------------------------------------------

    @staticmethod
    def register(name: str) -> Register:
        """The register called ``name`` (HAL name, the ``SX1302_REG_`` prefix optional)."""
        try:
            return REGISTERS[name.removeprefix("SX1302_REG_")]
        except KeyError:
            raise ValueError(f"unknown SX1302 register {name!r}") from None

    def read_reg(self, name: str) -> int:
        """Read a register field (sign-extended if the field is signed)."""
        reg = self.register(name)
        byte = self.transport.read(Target.SX1302, reg.addr, 1)[0]
        return reg.extract(byte)

    def write_reg(self, name: str, value: int) -> None:
        """Write a register field; fields narrower than a byte are read-modify-written."""
        reg = self.register(name)
        if reg.read_only:
            raise ValueError(f"register {name} is read-only")
        if not reg.min_value <= value <= reg.max_value:
            raise ValueError(
                f"value {value} out of range {reg.min_value}..{reg.max_value} for {name}"
            )
        field = value & reg.field_mask
        if reg.width == 8:
            self.transport.write(Target.SX1302, reg.addr, bytes([field]))
        else:  # the HAL's lgw_com_rmw: one MCU sub-request on USB, a read then a write on SPI
            self.transport.modify(Target.SX1302, reg.addr, reg.mask, field << reg.offs)

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """Batch the writes of a block that neither reads nor waits (USB: one round trip).

        sx1302_hal does this for ``lgw_send`` (``lgw_com_set_write_mode(BULK)`` .. ``flush``);
        we also do it for the bring-up steps without reads or waits. Nested blocks flush once,
        at the outer end. No-op on SPI and the simulator's SPI bus.
        """
        if self._bulk_depth == 0:
            self.transport.begin_bulk()
        self._bulk_depth += 1
        try:
            yield
        finally:
            self._bulk_depth -= 1
            if self._bulk_depth == 0:
                self.transport.flush()

    def mem_read(self, addr: int, length: int, *, fifo: bool = False) -> bytes:
        """Read ``length`` bytes in bursts; ``fifo``: every burst at the same address (0x4000)."""
        chunk = self.transport.max_burst
        parts = []
        for done in range(0, length, chunk):
            at = addr if fifo else addr + done
            parts.append(self.transport.read(Target.SX1302, at, min(chunk, length - done)))
        return b"".join(parts)

    def mem_write(self, addr: int, data: bytes) -> None:
        """Write ``data`` in bursts of at most ``transport.max_burst`` bytes."""
        chunk = self.transport.max_burst
        for done in range(0, len(data), chunk):
            self.transport.write(Target.SX1302, addr + done, data[done : done + chunk])

    # --- identity -------------------------------------------------------------------------------

    def version(self) -> int:
        """The chip version register (0x10 SX1302, 0x12 SX1303); ChipNotFound on 0x00/0xFF."""
        version = self.read_reg("COMMON_VERSION_VERSION")
        if version == 0x00:
            raise ChipNotFound(
                "SX1302 version register reads 0x00: the chip is unpowered or held in reset; "
                "check the board's reset/power GPIOs"
            )
        if version == 0xFF:
            raise ChipNotFound(
                "SX1302 version register reads 0xFF: nothing answers on the bus; check the SPI "
                "device path and that the concentrator board is seated"
            )
        return version

    def _otp_read(self, otp_addr: int) -> int:
        self.write_reg("OTP_BYTE_ADDR_ADDR", otp_addr)
        return self.read_reg("OTP_RD_DATA_RD_DATA")

    def model(self) -> str:
        """ "SX1302" or "SX1303", from the OTP model byte (0xD0)."""
        model_id = self._otp_read(OTP_MODEL_ADDR)
        try:
            return MODELS[model_id]
        except KeyError:
            raise ChipError(f"unknown SX130x model id {model_id:#04x} in OTP") from None

    def eui(self) -> int:
        """The chip's 64-bit EUI from OTP bytes 0..7 (byte 0 most significant)."""
        return int.from_bytes(bytes(self._otp_read(i) for i in range(8)), "big")

    # --- bring-up (ref/sx1302.md §6) ------------------------------------------------------------

    def _resolve_firmware(self, firmware: Firmware | None) -> Firmware:
        chosen = firmware or self.firmware or getattr(self.transport, "default_firmware", None)
        if chosen is None:
            raise FirmwareError(
                f"no AGC/ARB firmware given for {self.transport.url}.\n"
                + missing_firmware_help(None)
            )
        return chosen

    def start(self, plan: ChipPlan, firmware: Firmware | None = None) -> None:
        """Bring the chip up for reception as ``plan`` says (lgw_start, without TX config).

        ``firmware``: the AGC/ARB images (default: the constructor's, else the transport's
        ``default_firmware``, which only the simulator has). Raises ChipNotFound, RadioError,
        FirmwareError (bad size, read-back, parity, version) or HandshakeTimeout.
        """
        self._check_plan(plan)
        fw = self._resolve_firmware(firmware)
        self.plan = plan
        version = self.version()  # step 1
        LOGGER.info("SX130x version %#04x on %s", version, self.transport.url)
        if plan.fine_timestamp and self.model() != "SX1303":  # checked at step 6 by the HAL
            raise ChipError("fine timestamping needs an SX1303; this chip is an SX1302")
        with self.bulk():
            self._take_back_radios()  # a previous start without a chip reset since
            self.write_reg("GPIO_GPIO_OUT_L_OUT_VALUE", 0x00)  # step 2
        self._calibrate_radios(plan)  # step 3
        self._setup_radios(plan)  # step 4
        with self.bulk():  # steps 5-15 neither read nor wait
            self._hand_radios_to_agc(plan)  # step 5
            self._init_timestamp_and_gpio(plan)  # step 6
            self._configure_pa_lna_lut(plan)  # step 7
            self._configure_radio_fe()  # step 8
            self._configure_channelizer(plan)  # step 9
            self._configure_correlators(plan)  # step 10
            self._configure_multi_sf_modems(plan)  # step 11
            if plan.lora_std.enable:
                self._configure_lora_service(plan)  # step 12
            if plan.fsk.enable:
                self._configure_fsk(plan)  # step 13
            self._configure_sync_word(plan)  # step 14
            self._enable_modems()  # step 15
        timeout = self.handshake_timeout_s
        mcu.load_firmware(self, "AGC", fw.agc)  # step 16
        mcu.start_agc(self, fw.agc_version, lbt_enable=False, timeout_s=timeout)  # step 17
        mcu.load_firmware(self, "ARB", fw.arb)  # step 18
        mcu.start_arb(self, fw.arb_version, fine_timestamp=plan.fine_timestamp, timeout_s=timeout)
        LOGGER.info("AGC v%d and ARB v%d firmware running", fw.agc_version, fw.arb_version)
        self.running_firmware = fw  # for the gateway's stats metadata
        with self.bulk():
            self._enable_pps()  # step 20
            self._configure_tx(plan)  # step 20: TX static configuration
            self.write_reg("GPIO_GPIO_OUT_L_OUT_VALUE", 0x01)  # step 22: CONFIG_DONE LED
        self.counter.reset()
        self.started = True

    @staticmethod
    def _check_plan(plan: ChipPlan) -> None:
        for i, radio in enumerate(plan.radios):
            if radio.enable and radio.type != "SX1250":
                raise RadioError(f"radio {i}: only SX1250 radios are supported, got {radio.type}")
        if not plan.radios[plan.clksrc].enable:
            raise RadioError(f"radio {plan.clksrc} clocks the SX1302 (clksrc) but is disabled")

    def _take_back_radios(self) -> None:
        """Undo what a previous start left running, so that no chip reset is needed.

        After a start the AGC firmware drives the radios (HOST_RADIO_CTRL = 0) and both MCUs run;
        the host's SX1250 commands no longer reach the radios and the setup would fail at
        SET_STANDBY(RC). Hold both MCUs (MCU_CLEAR = 1) and give the radios back to the host
        (HOST_RADIO_CTRL = 1): the reset values of these fields (sx1302_hal loragw_reg.c), i.e.
        the state ``reset_lgw.sh`` leaves the chip in before ``lgw_start``.
        """
        self.write_reg("AGC_MCU_CTRL_MCU_CLEAR", 1)
        self.write_reg("ARB_MCU_CTRL_MCU_CLEAR", 1)
        self.write_reg("COMMON_CTRL0_HOST_RADIO_CTRL", 1)

    def _enabled_radios(self, plan: ChipPlan) -> list[tuple[int, Sx1250]]:
        return [(i, self.radios[i]) for i, r in enumerate(plan.radios) if r.enable]

    def _reset_radio(self, rf_chain: int) -> None:
        """sx1302_radio_reset for an SX1250 (its reset line is pulsed then left high)."""
        suffix = "AB"[rf_chain]
        with self.bulk():
            self.write_reg("COMMON_CTRL0_CLK32_RIF_CTRL", 0)
            self.write_reg(f"AGC_MCU_RF_EN_{suffix}_RADIO_EN", 1)
            self.write_reg(f"AGC_MCU_RF_EN_{suffix}_RADIO_RST", 1)
        self._sleep(0.5)
        self.write_reg(f"AGC_MCU_RF_EN_{suffix}_RADIO_RST", 0)
        self._sleep(0.01)
        self.write_reg(f"AGC_MCU_RF_EN_{suffix}_RADIO_RST", 1)
        self._sleep(0.01)  # the SX1250's automatic calibration after reset

    def _set_radio_mode(self, rf_chain: int) -> None:
        self.write_reg(f"COMMON_CTRL0_SX1261_MODE_RADIO_{'AB'[rf_chain]}", 1)  # 1 = SX1250

    def _select_clock(self, plan: ChipPlan) -> None:
        self.write_reg("CLK_CTRL_CLK_SEL_CLK_RADIO_A_SEL", int(plan.clksrc == 0))
        self.write_reg("CLK_CTRL_CLK_SEL_CLK_RADIO_B_SEL", int(plan.clksrc == 1))
        self.write_reg("CLK_CTRL_CLK_SEL_CLKDIV_EN", 1)
        self.write_reg("COMMON_CTRL0_CLK32_RIF_CTRL", 1)

    def _calibrate_radios(self, plan: ChipPlan) -> None:
        """Step 3: reset the radios, clock the chip, SX1250 image calibration."""
        for i, _ in self._enabled_radios(plan):
            self._reset_radio(i)
            self._set_radio_mode(i)
        with self.bulk():
            self._select_clock(plan)
            self.write_reg("AGC_MCU_CTRL_FORCE_HOST_FE_CTRL", 1)
            self.write_reg("AGC_MCU_RF_EN_A_PA_EN", 0)
            self.write_reg("AGC_MCU_RF_EN_A_LNA_EN", 0)
        for i, radio in self._enabled_radios(plan):
            radio.get_status()
            radio.calibrate_image(plan.radios[i].freq_hz)
            self._sleep(0.01)
            radio.check_image_calibration()
        self.write_reg("AGC_MCU_CTRL_FORCE_HOST_FE_CTRL", 0)

    def _setup_radios(self, plan: ChipPlan) -> None:
        """Step 4: reset each radio again and put it in continuous RX (sx1250_setup)."""
        for i, radio in self._enabled_radios(plan):
            self._reset_radio(i)
            radio.set_standby(Standby.RC)
            self._sleep(0.01)
            radio.expect_mode(ChipMode.STBY_RC, "SET_STANDBY(RC)")
            radio.calibrate()
            self._sleep(0.01)
            radio.set_standby(Standby.XOSC)
            self._sleep(0.01)
            radio.expect_mode(ChipMode.STBY_XOSC, "SET_STANDBY(XOSC)")
            for address, value in (
                (0x06A1, 0x01), (0x06A2, 0x00), (0x06A3, 0x00),  # max bitrate
                (0x0582, 0x00), (0x0583, 0x00), (0x0584, 0x00), (0x0585, 0x00),  # DIO
                (0x0580, 0x00), (0x08B6, 0x2A),
            ):  # fmt: skip
                radio.write_register(address, bytes([value]))
            radio.set_rf_frequency(plan.radios[i].freq_hz)
            radio.write_register(0x088F, b"\x00\x00\x00")  # frequency offset 0
            radio.set_rx()  # continuous: the SX1302 runs on the radio's clock
            if plan.radios[i].single_input_mode:
                radio.write_register(0x08E2, b"\x0d")
            radio.write_register(0x0587, b"\x0b")  # digital IF RX mode
            self._set_radio_mode(i)

    def _hand_radios_to_agc(self, plan: ChipPlan) -> None:
        """Step 5: clock select again; the AGC (not the host) drives the radios from now on."""
        self._select_clock(plan)
        self.write_reg("COMMON_CTRL0_HOST_RADIO_CTRL", 0)

    def _init_timestamp_and_gpio(self, plan: ChipPlan) -> None:
        """Step 6: timestamp mode (legacy: end of packet) and GPIO functions."""
        if plan.fine_timestamp:  # the SX1303 check ran before the bulk block (start)
            self.write_reg("RX_TOP_RX_BUFFER_LEGACY_TIMESTAMP", 0)
            self.write_reg("RX_TOP_RX_BUFFER_TIMESTAMP_CFG_MAX_TS_METRICS", FINE_TS_METRICS_MAX)
            self.write_reg("RX_TOP_TIMESTAMP_ENABLE", 1)
            self.write_reg("RX_TOP_TIMESTAMP_NB_SYMB", 0)
        else:
            self.write_reg("RX_TOP_RX_BUFFER_LEGACY_TIMESTAMP", 1)
        for gpio, selection in enumerate(GPIO_SELECTION):
            self.write_reg(f"GPIO_GPIO_SEL_{gpio}_SELECTION", selection)
        self.write_reg("GPIO_GPIO_DIR_L_DIRECTION", 0x7F)

    def _configure_pa_lna_lut(self, plan: ChipPlan) -> None:
        """Step 7: which radio control lines PA_EN/LNA_EN drive."""
        pa_a, lna_a = (0x0C, 0x0F) if plan.full_duplex else (0x04, 0x02)
        self.write_reg("AGC_MCU_LUT_TABLE_A_PA_LUT", pa_a)
        self.write_reg("AGC_MCU_LUT_TABLE_A_LNA_LUT", lna_a)
        self.write_reg("AGC_MCU_LUT_TABLE_B_PA_LUT", 0x04)
        self.write_reg("AGC_MCU_LUT_TABLE_B_LNA_LUT", 0x02)

    def _configure_radio_fe(self) -> None:
        """Step 8: radio front-end RSSI filters and DC notch, both radios."""
        for r in "AB":
            self.write_reg(f"RADIO_FE_RSSI_BB_FILTER_ALPHA_RADIO_{r}_RSSI_BB_FILTER_ALPHA", 3)
            self.write_reg(f"RADIO_FE_RSSI_DEC_FILTER_ALPHA_RADIO_{r}_RSSI_DEC_FILTER_ALPHA", 7)
        for r in "AB":
            self.write_reg(f"RADIO_FE_RSSI_DB_DEF_RADIO_{r}_RSSI_DB_DEFAULT_VALUE", 23)
            self.write_reg(f"RADIO_FE_RSSI_DEC_DEF_RADIO_{r}_RSSI_DEC_DEFAULT_VALUE", 66)
        for r in "AB":
            self.write_reg(f"RADIO_FE_CTRL0_RADIO_{r}_DC_NOTCH_EN", 1)
            self.write_reg(f"RADIO_FE_CTRL0_RADIO_{r}_HOST_FILTER_GAIN", 0x0B)

    def _write_if(self, msb: str, lsb: str, if_hz: int) -> None:
        high, low = convert.if_register_bytes(if_hz)
        self.write_reg(msb, high)
        self.write_reg(lsb, low)

    def _configure_channelizer(self, plan: ChipPlan) -> None:
        """Step 9: IF chains -> radios and IF frequencies, channel RSSI, digital AGC."""
        radio_mask = sum(plan.multi_sf[i].radio << i for i in range(MULTI_SF_CHAINS))
        self.write_reg("RX_TOP_RADIO_SELECT_RADIO_SELECT", radio_mask)
        self.write_reg(
            "RX_TOP_LORA_SERVICE_FSK_LORA_SERVICE_RADIO_SEL_RADIO_SELECT", plan.lora_std.radio
        )
        self.write_reg("RX_TOP_LORA_SERVICE_FSK_FSK_CFG_3_RADIO_SELECT", plan.fsk.radio)
        for i in range(MULTI_SF_CHAINS):
            self._write_if(
                f"RX_TOP_FREQ_{i}_MSB_IF_FREQ_{i}", f"RX_TOP_FREQ_{i}_LSB_IF_FREQ_{i}",
                plan.multi_sf[i].if_hz,
            )  # fmt: skip
        prefix = "RX_TOP_LORA_SERVICE_FSK_"
        self._write_if(
            f"{prefix}LORA_SERVICE_FREQ_MSB_IF_FREQ_0", f"{prefix}LORA_SERVICE_FREQ_LSB_IF_FREQ_0",
            plan.lora_std.if_hz,
        )  # fmt: skip
        self._write_if(
            f"{prefix}FSK_FREQ_MSB_IF_FREQ_0", f"{prefix}FSK_FREQ_LSB_IF_FREQ_0", plan.fsk.if_hz
        )
        self.write_reg("RX_TOP_RSSI_CONTROL_RSSI_FILTER_ALPHA", 0x05)
        self.write_reg("RX_TOP_RSSI_DEF_VALUE_CHAN_RSSI_DEF_VALUE", 85)
        self.write_reg("RX_TOP_CHANN_DAGC_CFG5_CHAN_DAGC_MODE", 0x01)
        self.write_reg("RX_TOP_CHANN_DAGC_CFG1_CHAN_DAGC_THRESHOLD_HIGH", 255)
        self.write_reg("RX_TOP_CHANN_DAGC_CFG2_CHAN_DAGC_THRESHOLD_LOW", 0)
        self.write_reg("RX_TOP_CHANN_DAGC_CFG3_CHAN_DAGC_MAX_ATTEN", 15)
        self.write_reg("RX_TOP_CHANN_DAGC_CFG3_CHAN_DAGC_MIN_ATTEN", 0)

    def _configure_correlators(self, plan: ChipPlan) -> None:
        """Step 10: multi-SF correlators: detection thresholds, SF mask, enabled channels."""
        for sf in range(5, 13):
            self.write_reg(f"RX_TOP_SF{sf}_CFG2_ACC_PNR", 52)
            self.write_reg(f"RX_TOP_SF{sf}_CFG4_MSP_PNR", 24)
            self.write_reg(f"RX_TOP_SF{sf}_CFG6_MSP_PEAK_NB", 7)
            self.write_reg(f"RX_TOP_SF{sf}_CFG7_MSP2_PEAK_NB", 5)
        self.write_reg(
            "RX_TOP_CORRELATOR_ENABLE_ONLY_FIRST_DET_EDGE_ENABLE_ONLY_FIRST_DET_EDGE", 0xFF
        )
        self.write_reg("RX_TOP_CORRELATOR_ENABLE_ACC_CLEAR_ENABLE_CORR_ACC_CLEAR", 0xFF)
        sf_mask = sum(1 << (sf - 5) for sf in plan.spreading_factors)
        self.write_reg("RX_TOP_CORRELATOR_SF_EN_CORR_SF_EN", sf_mask)
        channel_mask = sum(int(plan.multi_sf[i].enable) << i for i in range(MULTI_SF_CHAINS))
        self.write_reg("RX_TOP_CORR_CLOCK_ENABLE_CLK_EN", channel_mask)
        self.write_reg("RX_TOP_CORRELATOR_EN_CORR_EN", channel_mask)

    def _configure_multi_sf_modems(self, plan: ChipPlan) -> None:
        """Step 11: multi-SF demodulator tuning (sx1302_lora_modem_configure), radio A centre."""
        for name, value in _MULTI_SF_MODEM_SETTINGS:
            self.write_reg(name, value)
        mantissa, exponent = _freq_to_time_drift(plan.radios[0].freq_hz, 125_000)
        self.write_reg("RX_TOP_FREQ_TO_TIME0_FREQ_TO_TIME_DRIFT_MANT", mantissa >> 8 & 0xFF)
        self.write_reg("RX_TOP_FREQ_TO_TIME1_FREQ_TO_TIME_DRIFT_MANT", mantissa & 0xFF)
        self.write_reg("RX_TOP_FREQ_TO_TIME2_FREQ_TO_TIME_DRIFT_EXP", exponent)
        self.write_reg("RX_TOP_FREQ_TO_TIME3_FREQ_TO_TIME_INVERT_TIME_SYMB", 1)
        self.write_reg("RX_TOP_RX_CFG0_DFT_PEAK_EN", _DFT_PEAK_AUTO)

    def _configure_lora_service(self, plan: ChipPlan) -> None:
        """Step 12: the single-SF LoRa service chain (8): correlator then modem."""
        chan = plan.lora_std
        p = "RX_TOP_LORA_SERVICE_FSK_"
        self.write_reg(f"{p}DETECT_MSP2_MSP_PEAK_NB", 7)
        self.write_reg(f"{p}DETECT_MSP2_MSP2_PEAK_NB", 5)
        self.write_reg(f"{p}DETECT_ACC1_USE_GAIN_SYMB", 1)
        self.write_reg(f"{p}TXRX_CFG2_FINE_SYNCH_EN", int(chan.sf in (5, 6)))
        self.write_reg(f"{p}DETECT_ACC1_ACC_PNR", 52)
        for name, value in (
            ("DC_NOTCH_CFG1_ENABLE", 0), ("RX_DFE_AGC1_FORCE_DEFAULT_FIR", 1),
            ("DAGC_CFG_GAIN_DROP_COMP", 1), ("DAGC_CFG_TARGET_LVL", 1),
            ("FINE_TIMING1_GAIN_P_AUTO", 3), ("FINE_TIMING2_GAIN_I_PAYLOAD", 3),
        ):  # fmt: skip
            self.write_reg(p + name, value)
        bw_code = convert.bandwidth_code(chan.bandwidth_hz)
        if chan.sf in (5, 6):
            gain_p, gain_i = 4, 0
        elif chan.sf <= 10:
            gain_p, gain_i = 6, 0
        else:
            gain_p, gain_i = 7, bw_code - 3
        self.write_reg(f"{p}FINE_TIMING1_GAIN_P_PREAMB", gain_p)
        self.write_reg(f"{p}FINE_TIMING2_GAIN_I_EN", gain_i)
        self.write_reg(f"{p}TXRX_CFG2_IMPLICIT_HEADER", int(chan.implicit_header))
        self.write_reg(f"{p}TXRX_CFG2_CRC_EN", int(chan.implicit_crc))
        self.write_reg(f"{p}TXRX_CFG1_CODING_RATE", chan.implicit_code_rate)
        self.write_reg(f"{p}TXRX_CFG3_PAYLOAD_LENGTH", chan.implicit_payload_length)
        self.write_reg(f"{p}TXRX_CFG0_MODEM_SF", chan.sf)
        self.write_reg(f"{p}TXRX_CFG0_MODEM_BW", bw_code)
        self.write_reg(f"{p}TXRX_CFG1_PPM_OFFSET", convert._ppm_offset(chan.sf, chan.bandwidth_hz))
        preamble = 12 if chan.sf in (5, 6) else 8
        self.write_reg(f"{p}TXRX_CFG7_PREAMBLE_SYMB_NB", preamble >> 8)
        self.write_reg(f"{p}TXRX_CFG6_PREAMBLE_SYMB_NB", preamble & 0xFF)
        mantissa, exponent = _freq_to_time_drift(plan.radios[0].freq_hz, chan.bandwidth_hz)
        self.write_reg(f"{p}FREQ_TO_TIME0_FREQ_TO_TIME_DRIFT_MANT", mantissa >> 8 & 0xFF)
        self.write_reg(f"{p}FREQ_TO_TIME1_FREQ_TO_TIME_DRIFT_MANT", mantissa & 0xFF)
        self.write_reg(f"{p}FREQ_TO_TIME2_FREQ_TO_TIME_DRIFT_EXP", exponent)
        self.write_reg(f"{p}FREQ_TO_TIME3_FREQ_TO_TIME_INVERT_TIME_SYMB", 1)
        self.write_reg(f"{p}RX_DFE_AGC2_DAGC_IN_COMP", 1)
        self.write_reg(f"{p}TXRX_CFG1_MODEM_EN", 1)
        self.write_reg(f"{p}TXRX_CFG2_CADRXTX", 1)
        self.write_reg(f"{p}TXRX_CFG2_MODEM_START", 1)
        self.write_reg(f"{p}RX_CFG0_DFT_PEAK_EN", _DFT_PEAK_AUTO)

    def _configure_fsk(self, plan: ChipPlan) -> None:
        """Step 13: the FSK chain (9): sync word, bit rate, packet format."""
        p = "RX_TOP_LORA_SERVICE_FSK_"
        self.write_reg(f"{p}FSK_CFG_1_PSIZE", FSK_SYNC_WORD_SIZE - 1)
        pattern = FSK_SYNC_WORD << (8 * (8 - FSK_SYNC_WORD_SIZE))
        for i in range(8):
            self.write_reg(f"{p}FSK_REF_PATTERN_BYTE{i}_FSK_REF_PATTERN", pattern >> (8 * i) & 0xFF)
        bit_rate = 32_000_000 // plan.fsk.datarate_bps
        self.write_reg(f"{p}BIT_RATE_MSB_BIT_RATE", bit_rate >> 8 & 0xFF)
        self.write_reg(f"{p}BIT_RATE_LSB_BIT_RATE", bit_rate & 0xFF)
        for name, value in (
            ("FSK_CFG_1_CH_BW_EXPO", 3),  # 125 kHz channel
            ("FSK_CFG_3_RX_INVERT", 0), ("FSK_CFG_3_MODEM_INVERT_IQ", 0),
            ("FSK_CFG_4_RSSI_LENGTH", 4), ("FSK_CFG_0_PKT_MODE", 1),  # variable length
            ("FSK_CFG_0_CRC_EN", 1), ("FSK_CFG_0_DCFREE_ENC", 2),
            ("FSK_CFG_0_CRC_IBM", 0), ("FSK_CFG_4_ERROR_OSR_TOL", 10),
            ("FSK_PKT_LENGTH_PKT_LENGTH", 255), ("FSK_NODE_ADRS_NODE_ADRS", 0),
            ("FSK_BROADCAST_BROADCAST", 0), ("FSK_CFG_3_AUTO_AFC", 1),
            ("FSK_TIMEOUT_MSB_TIMEOUT", 0), ("FSK_TIMEOUT_LSB_TIMEOUT", 128),
        ):  # fmt: skip
            self.write_reg(p + name, value)

    def _configure_sync_word(self, plan: ChipPlan) -> None:
        """Step 14: LoRa sync word peaks: 6/8 public (0x34), 2/4 private (0x12); SF5/6 2/4."""
        for sf in (5, 6):
            self.write_reg(f"RX_TOP_FRAME_SYNCH0_SF{sf}_PEAK1_POS_SF{sf}", 2)
            self.write_reg(f"RX_TOP_FRAME_SYNCH1_SF{sf}_PEAK2_POS_SF{sf}", 4)
        peaks = (6, 8) if plan.lorawan_public else (2, 4)
        self.write_reg("RX_TOP_FRAME_SYNCH0_SF7TO12_PEAK1_POS_SF7TO12", peaks[0])
        self.write_reg("RX_TOP_FRAME_SYNCH1_SF7TO12_PEAK2_POS_SF7TO12", peaks[1])
        service = (2, 4) if plan.lora_std.sf in (5, 6) else peaks
        self.write_reg("RX_TOP_LORA_SERVICE_FSK_FRAME_SYNCH0_PEAK1_POS", service[0])
        self.write_reg("RX_TOP_LORA_SERVICE_FSK_FRAME_SYNCH1_PEAK2_POS", service[1])

    def _enable_modems(self) -> None:
        """Step 15: demodulators on; must precede the AGC/ARB firmware start."""
        self.write_reg("COMMON_GEN_CONCENTRATOR_MODEM_ENABLE", 1)
        self.write_reg("COMMON_GEN_MBWSSF_MODEM_ENABLE", 1)
        self.write_reg("COMMON_GEN_FSK_MODEM_ENABLE", 1)
        self.write_reg("COMMON_GEN_GLOBAL_EN", 1)

    def _enable_pps(self) -> None:
        """Step 20: latch the counter on the GPS PPS rising edge."""
        self.write_reg("TIMESTAMP_GPS_CTRL_GPS_EN", 1)
        self.write_reg("TIMESTAMP_GPS_CTRL_GPS_POL", 1)

    def _configure_tx(self, plan: ChipPlan) -> None:
        """Step 20, TX part (sx1302_tx_configure, SX1250): the static TX_TOP bytes of each radio.

        CLK_EDGE 0, TX_MODE 1, IF_DST 1 at +0x20 and PLL_DIV_CTRL_AGC 1 at +0x21: the same values
        ``drivers.sx1302.tx`` assumes when it computes whole bytes without reading them back.
        """
        image = reset_image()
        for rf_chain, _radio in enumerate(plan.radios):
            base = tx_top_base(rf_chain)
            for name in ("TX_MODE", "PLL_DIV_CTRL_AGC"):
                offset = TX_FIELDS[name].offset
                self.write_raw(base + offset, image[offset])

    # --- TX path --------------------------------------------------------------------------------

    def write_raw(self, addr: int, value: int) -> None:
        """Write one whole byte at an absolute address (the TX programming works on bytes)."""
        self.transport.write(Target.SX1302, addr, bytes([value & 0xFF]))

    def send(self, prog: TxProgram) -> None:
        """Program one TX (``drivers.sx1302.tx.program``): registers, TX buffer, trigger.

        One bulk block, as ``lgw_send`` does on USB: the whole send is one round trip there, so
        the delayed trigger is armed ~1 ms after the JIT decided to send, not ~40 ms.
        """
        with self.bulk():
            program_tx(self.write_raw, self.mem_write, prog)

    def tx_status(self, rf_chain: int) -> str:
        """The chain's TX state: FREE, SCHEDULED, EMITTING or UNKNOWN (sx1302_tx_status)."""
        value = self.transport.read(Target.SX1302, tx_status_address(rf_chain), 1)[0]
        return tx_status_from_register(value)

    def abort_tx(self, rf_chain: int, timeout_s: float = 1.0) -> bool:
        """Clear the chain's trigger bits and wait (1 ms polls) until FREE; True if it is."""
        for address, value in abort_writes(rf_chain):
            self.write_raw(address, value)
        for _ in range(max(1, round(timeout_s / 0.001))):
            if self.tx_status(rf_chain) == "FREE":
                return True
            self._sleep(0.001)
        LOGGER.warning("TX abort on RF chain %d: not FREE after %.1fs", rf_chain, timeout_s)
        return False

    def stop(self) -> None:
        """Abort TX on both RF chains (``lgw_stop``), then stop receiving: modems and PPS latch
        off, LED off, MCUs held in reset. Idempotent.

        The abort comes first so that neither a packet on air nor an armed delayed trigger
        outlives the stop (the chip would otherwise fire it with nobody tracking it).
        """
        if not self.started:
            return
        self.started = False
        for rf_chain in (0, 1):
            try:
                self.abort_tx(rf_chain)
            except DriverError as exc:  # lgw_stop warns and goes on stopping
                LOGGER.warning("TX abort on RF chain %d failed: %s", rf_chain, exc)
        with self.bulk():
            self.write_reg("COMMON_GEN_GLOBAL_EN", 0)
            self.write_reg("TIMESTAMP_GPS_CTRL_GPS_EN", 0)
            self.write_reg("GPIO_GPIO_OUT_L_OUT_VALUE", 0x00)
            self.write_reg("AGC_MCU_CTRL_MCU_CLEAR", 1)  # hold both MCUs: a restart reloads them
            self.write_reg("ARB_MCU_CTRL_MCU_CLEAR", 1)

    # --- RX path --------------------------------------------------------------------------------

    def rx_byte_count(self) -> int:
        """Bytes waiting in the RX FIFO: read twice, the larger kept (HAL chip workaround).

        The two bytes of one read may come from two moments while a record lands (MSB before,
        LSB after), so a read can fall short of the count, never exceed it. On SPI a first
        read of zero is therefore kept without the second: it fetches nothing, and what it
        missed is read whole at the next poll. That makes the empty poll, the radio thread's
        most frequent step, one SPI transaction. On USB both reads travel in one request.
        """
        request = (Target.SX1302, RX_BYTE_COUNT_ADDR, 2)
        if self.transport.batched_reads:
            return max(map(_rx_count, self.transport.read_many([request] * 2)))
        first = _rx_count(self.transport.read(*request))
        if first == 0:
            return 0
        return max(first, _rx_count(self.transport.read(*request)))

    def fetch_rx(self) -> FifoParse:
        """Drain the RX FIFO and parse it; bad records are counted in ``rx_errors``.

        After a non-empty fetch the counter is read again (as the HAL's ``sx1302_update`` does
        after ``sx1302_fetch``): ``expand_timestamp`` assumes every packet is older than the
        last counter read, which a read taken before the fetch does not guarantee.
        """
        count = self.rx_byte_count()
        if count == 0:
            return FifoParse()
        data = self.mem_read(RX_FIFO_ADDR, count, fifo=True)
        self.read_counter()
        result = parse_fifo(data)
        if result.errors:
            self.rx_errors.update(result.errors)
            LOGGER.warning(
                "RX FIFO: kept %d records of %d bytes, skipped %d bytes: %s",
                len(result.records), count, result.skipped_bytes, result.errors,
            )  # fmt: skip
        return result

    def read_counter(self) -> int:
        """Read both 32 MHz counters, track their wraps; the free-running counter in µs."""
        # both reads in one request (one USB round trip); back to back as before on SPI
        first, again = self.transport.read_many([(Target.SX1302, COUNTER_ADDR, 8)] * 2)
        if first[0] != again[0] or first[4] != again[4]:
            # an MSB changed between the reads: a carry was in flight, read once more
            again = self.transport.read(Target.SX1302, COUNTER_ADDR, 8)
        else:
            again = first
        self.counter.update(int.from_bytes(again[:4], "big"), int.from_bytes(again[4:], "big"))
        return self.counter.inst_us

    def expand_timestamp(self, ticks: int) -> int:
        """A packet timestamp (32 MHz ticks) as 32-bit µs, from the last counter read."""
        return self.counter.expand(ticks)


def _rx_count(reg: bytes) -> int:
    """The RX FIFO byte count from its two registers (13 bits, MSB first)."""
    return (reg[0] & 0x1F) << 8 | reg[1]


#: sx1302_lora_modem_configure: fixed multi-SF demodulator settings, in the HAL's order
_MULTI_SF_MODEM_SETTINGS: tuple[tuple[str, int], ...] = (
    ("RX_TOP_DC_NOTCH_CFG1_ENABLE", 0), ("RX_TOP_RX_DFE_AGC1_FORCE_DEFAULT_FIR", 1),
    ("RX_TOP_DAGC_CFG_GAIN_DROP_COMP", 1), ("RX_TOP_DAGC_CFG_TARGET_LVL", 1),
    ("OTP_MODEM_EN_0_MODEM_EN", 0xFF), ("OTP_MODEM_EN_1_MODEM_EN", 0xFF),
    ("RX_TOP_MODEM_SYNC_DELTA_MSB_MODEM_SYNC_DELTA", 0),
    ("RX_TOP_MODEM_SYNC_DELTA_LSB_MODEM_SYNC_DELTA", 126),
    *(
        (f"ARB_MCU_CHANNEL_SYNC_OFFSET_{ch // 2 * 2}{ch // 2 * 2 + 1}_CHANNEL_{ch}_OFFSET", off)
        for ch, off in enumerate((1, 5, 9, 13, 1, 5, 9, 13))
    ),
    *((f"RX_TOP_MODEM_PPM_OFFSET1_PPM_OFFSET_SF{sf}", 0) for sf in (5, 6, 7, 8)),
    *((f"RX_TOP_MODEM_PPM_OFFSET2_PPM_OFFSET_SF{sf}", int(sf >= 11)) for sf in (9, 10, 11, 12)),
    ("RX_TOP_FINE_TIMING_A_1_GAIN_P_AUTO", 3), ("RX_TOP_FINE_TIMING_A_1_GAIN_P_PAYLOAD", 3),
    ("RX_TOP_FINE_TIMING_A_5_GAIN_I_EN_SF11", 1), ("RX_TOP_FINE_TIMING_A_5_GAIN_I_EN_SF12", 1),
    ("RX_TOP_FREQ_TRACK4_FREQ_SYNCH_THR", 15),
    *((f"RX_TOP_FREQ_TRACK_A_0_FREQ_TRACK_EN_SF{sf}", _FREQ_TRACK_AUTO) for sf in (5, 6, 7, 8)),
    *((f"RX_TOP_FREQ_TRACK_A_1_FREQ_TRACK_EN_SF{sf}", _FREQ_TRACK_AUTO) for sf in (9, 10, 11, 12)),
    *((f"RX_TOP_FREQ_TRACK_B_0_FREQ_TRACK_EN_SF{sf}", _FREQ_TRACK_OFF) for sf in (5, 6, 7, 8)),
    *((f"RX_TOP_FREQ_TRACK_B_1_FREQ_TRACK_EN_SF{sf}", _FREQ_TRACK_OFF) for sf in (9, 10, 11, 12)),
    ("RX_TOP_FINE_TIMING_B_5_GAIN_I_EN_SF11", 0), ("RX_TOP_FINE_TIMING_B_5_GAIN_I_EN_SF12", 0),
    ("RX_TOP_FINE_TIMING_B_0_ROUNDING", 1),
    ("RX_TOP_FINE_TIMING_B_0_MODE", 2),  # RX_FINE_TIMING_MODE_LINEAR
    ("RX_TOP_FINE_TIMING_B_1_GAIN_P_AUTO", 0), ("RX_TOP_FINE_TIMING_B_1_GAIN_P_PREAMB", 6),
    ("RX_TOP_FINE_TIMING_B_1_GAIN_P_PAYLOAD", 2), ("RX_TOP_FINE_TIMING_B_2_GAIN_I_AUTO", 0),
    ("RX_TOP_FINE_TIMING_B_2_GAIN_I_PREAMB", 1), ("RX_TOP_FINE_TIMING_B_2_GAIN_I_PAYLOAD", 0),
    ("RX_TOP_TXRX_CFG7_PREAMBLE_SYMB_NB", 0), ("RX_TOP_TXRX_CFG6_PREAMBLE_SYMB_NB", 10),
)  # fmt: skip
