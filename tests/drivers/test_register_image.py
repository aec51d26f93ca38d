"""The SX1302 register image our EU868 bring-up leaves, against one derived from the HAL's steps.

The expected image is built here, independently of drivers/sx1302/chip.py: the register writes
``lgw_start`` makes for sx1302_hal's EU868 ``global_conf.json`` (ref/sx1302.md §6, the
``sx1302_*_configure`` functions), applied field by field onto the table's reset defaults. The
actual image is every byte our bring-up wrote, from the JSONL trace of a run on the simulator.
They must be equal over every address either side wrote; the only exclusions are the deliberate
differences of docs/hardware.md ("Register image vs the HAL"), listed in ``DIFFERENCES``.
"""

from __future__ import annotations

import json
from pathlib import Path

from drivers import open_transport
from drivers.sx1302.chip import SX1302
from drivers.sx1302.registers import REGISTERS
from packet_forwarder.regions import region_preset

#: deliberate differences (docs/hardware.md): none for the image after start()
DIFFERENCES: frozenset[int] = frozenset()
FT = "RX_TOP_LORA_SERVICE_FSK_"


class Image:
    """Bytes written, with RMW on the reset defaults, like the HAL's lgw_reg_w."""

    def __init__(self) -> None:
        self.defaults: dict[int, int] = {}
        for reg in REGISTERS.values():
            mask = ((1 << reg.width) - 1) << reg.offs
            old = self.defaults.get(reg.addr, 0)
            self.defaults[reg.addr] = (old & ~mask) | ((reg.default << reg.offs) & mask)
        self.written: dict[int, int] = {}

    def w(self, name: str, value: int) -> None:
        reg = REGISTERS[name]
        mask = ((1 << reg.width) - 1) << reg.offs
        old = self.written.get(reg.addr, self.defaults.get(reg.addr, 0))
        self.written[reg.addr] = (old & ~mask & 0xFF) | ((value << reg.offs) & mask)

    def ws(self, pairs: list[tuple[str, int]]) -> None:
        for name, value in pairs:
            self.w(name, value)


def if_reg(hz: int) -> tuple[int, int]:
    value = int(hz * 32 / 15625)
    return (value >> 8) & 0x1F, value & 0xFF


def drift(freq_hz: int, bw_hz: int) -> tuple[int, int]:
    mant, exp = bw_hz * (2 << 19) // freq_hz, 0
    while mant < 2048:
        exp, mant = exp + 1, mant << 1
    return mant, exp


def hal_eu868_image() -> dict[int, int]:
    """What lgw_start writes for the EU868 global_conf (SX1250, clksrc 0)."""
    img = Image()
    img.w("GPIO_GPIO_OUT_L_OUT_VALUE", 0)
    radio_a, radio_b = 867_500_000, 868_500_000
    for _ in range(2):  # calibration phase, then setup phase: reset + mode per radio
        for r in "AB":
            img.ws([("COMMON_CTRL0_CLK32_RIF_CTRL", 0), (f"AGC_MCU_RF_EN_{r}_RADIO_EN", 1)])
            img.ws([(f"AGC_MCU_RF_EN_{r}_RADIO_RST", v) for v in (1, 0, 1)])
            img.w(f"COMMON_CTRL0_SX1261_MODE_RADIO_{r}", 1)
        img.ws([
            ("CLK_CTRL_CLK_SEL_CLK_RADIO_A_SEL", 1), ("CLK_CTRL_CLK_SEL_CLK_RADIO_B_SEL", 0),
            ("CLK_CTRL_CLK_SEL_CLKDIV_EN", 1), ("COMMON_CTRL0_CLK32_RIF_CTRL", 1),
        ])  # fmt: skip
    img.ws([("AGC_MCU_CTRL_FORCE_HOST_FE_CTRL", v) for v in (1, 0)])
    img.ws([("AGC_MCU_RF_EN_A_PA_EN", 0), ("AGC_MCU_RF_EN_A_LNA_EN", 0)])
    img.w("COMMON_CTRL0_HOST_RADIO_CTRL", 0)
    img.w("RX_TOP_RX_BUFFER_LEGACY_TIMESTAMP", 1)
    for n, sel in enumerate((0, 0, 9, 0, 9, 0, 0, 1)):
        img.w(f"GPIO_GPIO_SEL_{n}_SELECTION", sel)
    img.w("GPIO_GPIO_DIR_L_DIRECTION", 0x7F)
    img.ws([
        ("AGC_MCU_LUT_TABLE_A_PA_LUT", 4), ("AGC_MCU_LUT_TABLE_A_LNA_LUT", 2),
        ("AGC_MCU_LUT_TABLE_B_PA_LUT", 4), ("AGC_MCU_LUT_TABLE_B_LNA_LUT", 2),
    ])  # fmt: skip
    for r in "AB":
        img.ws([
            (f"RADIO_FE_RSSI_BB_FILTER_ALPHA_RADIO_{r}_RSSI_BB_FILTER_ALPHA", 3),
            (f"RADIO_FE_RSSI_DEC_FILTER_ALPHA_RADIO_{r}_RSSI_DEC_FILTER_ALPHA", 7),
            (f"RADIO_FE_RSSI_DB_DEF_RADIO_{r}_RSSI_DB_DEFAULT_VALUE", 23),
            (f"RADIO_FE_RSSI_DEC_DEF_RADIO_{r}_RSSI_DEC_DEFAULT_VALUE", 66),
            (f"RADIO_FE_CTRL0_RADIO_{r}_DC_NOTCH_EN", 1),
            (f"RADIO_FE_CTRL0_RADIO_{r}_HOST_FILTER_GAIN", 0x0B),
        ])  # fmt: skip
    # channelizer: global_conf EU868 chains 0..7 and the service / FSK chains
    chains = [(1, -400_000), (1, -200_000), (1, 0), (0, -400_000), (0, -200_000), (0, 0),
              (0, 200_000), (0, 400_000)]  # fmt: skip
    img.w("RX_TOP_RADIO_SELECT_RADIO_SELECT", sum(r << n for n, (r, _) in enumerate(chains)))
    img.w(f"{FT}LORA_SERVICE_RADIO_SEL_RADIO_SELECT", 1)
    img.w(f"{FT}FSK_CFG_3_RADIO_SELECT", 1)
    for n, (_, if_hz) in enumerate(chains):
        msb, lsb = if_reg(if_hz)
        img.w(f"RX_TOP_FREQ_{n}_MSB_IF_FREQ_{n}", msb)
        img.w(f"RX_TOP_FREQ_{n}_LSB_IF_FREQ_{n}", lsb)
    for prefix, if_hz in (("LORA_SERVICE_FREQ", -200_000), ("FSK_FREQ", 300_000)):
        msb, lsb = if_reg(if_hz)
        img.ws([(f"{FT}{prefix}_MSB_IF_FREQ_0", msb), (f"{FT}{prefix}_LSB_IF_FREQ_0", lsb)])
    img.ws([
        ("RX_TOP_RSSI_CONTROL_RSSI_FILTER_ALPHA", 5),
        ("RX_TOP_RSSI_DEF_VALUE_CHAN_RSSI_DEF_VALUE", 85),
        ("RX_TOP_CHANN_DAGC_CFG5_CHAN_DAGC_MODE", 1),
        ("RX_TOP_CHANN_DAGC_CFG1_CHAN_DAGC_THRESHOLD_HIGH", 255),
        ("RX_TOP_CHANN_DAGC_CFG2_CHAN_DAGC_THRESHOLD_LOW", 0),
        ("RX_TOP_CHANN_DAGC_CFG3_CHAN_DAGC_MAX_ATTEN", 15),
        ("RX_TOP_CHANN_DAGC_CFG3_CHAN_DAGC_MIN_ATTEN", 0),
    ])  # fmt: skip
    # multi-SF correlators (sx1302_lora_correlator_configure)
    for sf in range(5, 13):
        img.ws([
            (f"RX_TOP_SF{sf}_CFG2_ACC_PNR", 52), (f"RX_TOP_SF{sf}_CFG4_MSP_PNR", 24),
            (f"RX_TOP_SF{sf}_CFG6_MSP_PEAK_NB", 7), (f"RX_TOP_SF{sf}_CFG7_MSP2_PEAK_NB", 5),
        ])  # fmt: skip
    img.ws([
        ("RX_TOP_CORRELATOR_ENABLE_ONLY_FIRST_DET_EDGE_ENABLE_ONLY_FIRST_DET_EDGE", 0xFF),
        ("RX_TOP_CORRELATOR_ENABLE_ACC_CLEAR_ENABLE_CORR_ACC_CLEAR", 0xFF),
        ("RX_TOP_CORRELATOR_SF_EN_CORR_SF_EN", 0xFF),
        ("RX_TOP_CORR_CLOCK_ENABLE_CLK_EN", 0xFF), ("RX_TOP_CORRELATOR_EN_CORR_EN", 0xFF),
    ])  # fmt: skip
    # multi-SF modems (sx1302_lora_modem_configure, radio A centre)
    img.ws([
        ("RX_TOP_DC_NOTCH_CFG1_ENABLE", 0), ("RX_TOP_RX_DFE_AGC1_FORCE_DEFAULT_FIR", 1),
        ("RX_TOP_DAGC_CFG_GAIN_DROP_COMP", 1), ("RX_TOP_DAGC_CFG_TARGET_LVL", 1),
        ("OTP_MODEM_EN_0_MODEM_EN", 0xFF), ("OTP_MODEM_EN_1_MODEM_EN", 0xFF),
        ("RX_TOP_MODEM_SYNC_DELTA_MSB_MODEM_SYNC_DELTA", 0),
        ("RX_TOP_MODEM_SYNC_DELTA_LSB_MODEM_SYNC_DELTA", 126),
    ])  # fmt: skip
    for ch, off in enumerate((1, 5, 9, 13, 1, 5, 9, 13)):
        pair = f"{ch // 2 * 2}{ch // 2 * 2 + 1}"
        img.w(f"ARB_MCU_CHANNEL_SYNC_OFFSET_{pair}_CHANNEL_{ch}_OFFSET", off)
    for sf in range(5, 13):
        group = 1 if sf <= 8 else 2
        img.w(f"RX_TOP_MODEM_PPM_OFFSET{group}_PPM_OFFSET_SF{sf}", int(sf >= 11))
    img.ws([
        ("RX_TOP_FINE_TIMING_A_1_GAIN_P_AUTO", 3), ("RX_TOP_FINE_TIMING_A_1_GAIN_P_PAYLOAD", 3),
        ("RX_TOP_FINE_TIMING_A_5_GAIN_I_EN_SF11", 1), ("RX_TOP_FINE_TIMING_A_5_GAIN_I_EN_SF12", 1),
        ("RX_TOP_FREQ_TRACK4_FREQ_SYNCH_THR", 15),
    ])  # fmt: skip
    for sf in range(5, 13):
        half = 0 if sf <= 8 else 1
        img.w(f"RX_TOP_FREQ_TRACK_A_{half}_FREQ_TRACK_EN_SF{sf}", 3)
    for sf in range(5, 13):
        half = 0 if sf <= 8 else 1
        img.w(f"RX_TOP_FREQ_TRACK_B_{half}_FREQ_TRACK_EN_SF{sf}", 0)
    mant, exp = drift(radio_a, 125_000)
    img.ws([
        ("RX_TOP_FINE_TIMING_B_5_GAIN_I_EN_SF11", 0), ("RX_TOP_FINE_TIMING_B_5_GAIN_I_EN_SF12", 0),
        ("RX_TOP_FINE_TIMING_B_0_ROUNDING", 1), ("RX_TOP_FINE_TIMING_B_0_MODE", 2),
        ("RX_TOP_FINE_TIMING_B_1_GAIN_P_AUTO", 0), ("RX_TOP_FINE_TIMING_B_1_GAIN_P_PREAMB", 6),
        ("RX_TOP_FINE_TIMING_B_1_GAIN_P_PAYLOAD", 2), ("RX_TOP_FINE_TIMING_B_2_GAIN_I_AUTO", 0),
        ("RX_TOP_FINE_TIMING_B_2_GAIN_I_PREAMB", 1), ("RX_TOP_FINE_TIMING_B_2_GAIN_I_PAYLOAD", 0),
        ("RX_TOP_TXRX_CFG7_PREAMBLE_SYMB_NB", 0), ("RX_TOP_TXRX_CFG6_PREAMBLE_SYMB_NB", 10),
        ("RX_TOP_FREQ_TO_TIME0_FREQ_TO_TIME_DRIFT_MANT", mant >> 8),
        ("RX_TOP_FREQ_TO_TIME1_FREQ_TO_TIME_DRIFT_MANT", mant & 0xFF),
        ("RX_TOP_FREQ_TO_TIME2_FREQ_TO_TIME_DRIFT_EXP", exp),
        ("RX_TOP_FREQ_TO_TIME3_FREQ_TO_TIME_INVERT_TIME_SYMB", 1),
        ("RX_TOP_RX_CFG0_DFT_PEAK_EN", 3),
    ])  # fmt: skip
    # LoRa service chain: SF7, BW250 (code 5), radio A centre
    mant, exp = drift(radio_a, 250_000)
    img.ws([(FT + n, v) for n, v in (
        ("DETECT_MSP2_MSP_PEAK_NB", 7), ("DETECT_MSP2_MSP2_PEAK_NB", 5),
        ("DETECT_ACC1_USE_GAIN_SYMB", 1), ("TXRX_CFG2_FINE_SYNCH_EN", 0),
        ("DETECT_ACC1_ACC_PNR", 52),
        ("DC_NOTCH_CFG1_ENABLE", 0), ("RX_DFE_AGC1_FORCE_DEFAULT_FIR", 1),
        ("DAGC_CFG_GAIN_DROP_COMP", 1), ("DAGC_CFG_TARGET_LVL", 1),
        ("FINE_TIMING1_GAIN_P_AUTO", 3), ("FINE_TIMING2_GAIN_I_PAYLOAD", 3),
        ("FINE_TIMING1_GAIN_P_PREAMB", 6), ("FINE_TIMING2_GAIN_I_EN", 0),
        ("TXRX_CFG2_IMPLICIT_HEADER", 0), ("TXRX_CFG2_CRC_EN", 0), ("TXRX_CFG1_CODING_RATE", 1),
        ("TXRX_CFG3_PAYLOAD_LENGTH", 0), ("TXRX_CFG0_MODEM_SF", 7), ("TXRX_CFG0_MODEM_BW", 5),
        ("TXRX_CFG1_PPM_OFFSET", 0),
        ("TXRX_CFG7_PREAMBLE_SYMB_NB", 0), ("TXRX_CFG6_PREAMBLE_SYMB_NB", 8),
        ("FREQ_TO_TIME0_FREQ_TO_TIME_DRIFT_MANT", mant >> 8),
        ("FREQ_TO_TIME1_FREQ_TO_TIME_DRIFT_MANT", mant & 0xFF),
        ("FREQ_TO_TIME2_FREQ_TO_TIME_DRIFT_EXP", exp),
        ("FREQ_TO_TIME3_FREQ_TO_TIME_INVERT_TIME_SYMB", 1), ("RX_DFE_AGC2_DAGC_IN_COMP", 1),
        ("TXRX_CFG1_MODEM_EN", 1), ("TXRX_CFG2_CADRXTX", 1), ("TXRX_CFG2_MODEM_START", 1),
        ("RX_CFG0_DFT_PEAK_EN", 3),
    )])  # fmt: skip
    # FSK chain: sync word 0xC194C1 (3 bytes), 50 kbps
    pattern = 0xC194C1 << 40
    img.w(f"{FT}FSK_CFG_1_PSIZE", 2)
    for i in range(8):
        img.w(f"{FT}FSK_REF_PATTERN_BYTE{i}_FSK_REF_PATTERN", pattern >> (8 * i) & 0xFF)
    img.ws([(FT + n, v) for n, v in (
        ("BIT_RATE_MSB_BIT_RATE", 640 >> 8), ("BIT_RATE_LSB_BIT_RATE", 640 & 0xFF),
        ("FSK_CFG_1_CH_BW_EXPO", 3), ("FSK_CFG_3_RX_INVERT", 0), ("FSK_CFG_3_MODEM_INVERT_IQ", 0),
        ("FSK_CFG_4_RSSI_LENGTH", 4), ("FSK_CFG_0_PKT_MODE", 1), ("FSK_CFG_0_CRC_EN", 1),
        ("FSK_CFG_0_DCFREE_ENC", 2), ("FSK_CFG_0_CRC_IBM", 0), ("FSK_CFG_4_ERROR_OSR_TOL", 10),
        ("FSK_PKT_LENGTH_PKT_LENGTH", 255), ("FSK_NODE_ADRS_NODE_ADRS", 0),
        ("FSK_BROADCAST_BROADCAST", 0), ("FSK_CFG_3_AUTO_AFC", 1),
        ("FSK_TIMEOUT_MSB_TIMEOUT", 0), ("FSK_TIMEOUT_LSB_TIMEOUT", 128),
    )])  # fmt: skip
    # sync words: public
    for sf in (5, 6):
        img.ws([(f"RX_TOP_FRAME_SYNCH0_SF{sf}_PEAK1_POS_SF{sf}", 2),
                (f"RX_TOP_FRAME_SYNCH1_SF{sf}_PEAK2_POS_SF{sf}", 4)])  # fmt: skip
    img.ws([
        ("RX_TOP_FRAME_SYNCH0_SF7TO12_PEAK1_POS_SF7TO12", 6),
        ("RX_TOP_FRAME_SYNCH1_SF7TO12_PEAK2_POS_SF7TO12", 8),
        (f"{FT}FRAME_SYNCH0_PEAK1_POS", 6), (f"{FT}FRAME_SYNCH1_PEAK2_POS", 8),
        ("COMMON_GEN_CONCENTRATOR_MODEM_ENABLE", 1), ("COMMON_GEN_MBWSSF_MODEM_ENABLE", 1),
        ("COMMON_GEN_FSK_MODEM_ENABLE", 1), ("COMMON_GEN_GLOBAL_EN", 1),
    ])  # fmt: skip
    # AGC: load (clear, prog, page 0, then release), start handshake, parameters
    img.ws([("AGC_MCU_CTRL_MCU_CLEAR", 1), ("AGC_MCU_CTRL_HOST_PROG", 1), ("COMMON_PAGE_PAGE", 0)])
    img.ws([("AGC_MCU_CTRL_HOST_PROG", 0), ("AGC_MCU_CTRL_MCU_CLEAR", 0)])
    mb = "AGC_MCU_MCU_MAIL_BOX_WR_DATA_BYTE{}_MCU_MAIL_BOX_WR_DATA"
    for values, command in (
        ((0xFF, 0xFF), 0x80), ((0xFF, 0xFF), 0x20), ((1, 13), 3), ((3, 12), 4), ((4, 15), 5),
        ((40, 80, 90), 6), ((4, 14), 7), ((52, 132), 8), ((0, 7, 4), 9), ((8,), 0x0A), ((0,), 0x0B),
    ):  # fmt: skip
        img.ws([(mb.format(n), v) for n, v in enumerate(values)])
        img.w(mb.format(3), command)
    img.w(mb.format(3), 0x0F)
    # ARB: load, start handshake
    img.ws([("ARB_MCU_CTRL_MCU_CLEAR", 1), ("ARB_MCU_CTRL_HOST_PROG", 1), ("COMMON_PAGE_PAGE", 0)])
    img.ws([("ARB_MCU_CTRL_HOST_PROG", 0), ("ARB_MCU_CTRL_MCU_CLEAR", 0)])
    cfg = "ARB_MCU_ARB_DEBUG_CFG_{0}_ARB_DEBUG_CFG_{0}"
    img.ws([(cfg.format(0), 7), (cfg.format(3), 0), (cfg.format(2), 3), (cfg.format(1), 1)])
    # TX static configuration (sx1302_tx_configure for SX1250; ref/sx1302.md §7): TX_RFFE_IF_CTRL
    # with CLK_EDGE 0, TX_MODE 1, IF_DST 1 and IF_SRC at its reset 0 -> 0x0C; PLL_DIV_CTRL_AGC 1;
    # radio B's TX_TOP block is radio A's + 0x200
    for base in (0x5200, 0x5400):
        img.written[base + 0x20] = 0x0C
        img.written[base + 0x21] = 0x01
    img.ws([("TIMESTAMP_GPS_CTRL_GPS_EN", 1), ("TIMESTAMP_GPS_CTRL_GPS_POL", 1)])
    img.w("GPIO_GPIO_OUT_L_OUT_VALUE", 1)
    assert radio_b == 868_500_000  # radio B's centre only reaches the SX1250 (not a register)
    return img.written


def our_eu868_image(tmp_path: Path) -> dict[int, int]:
    trace = tmp_path / "trace.jsonl"
    transport = open_transport("sim://?clock=virtual", trace=str(trace))
    SX1302(transport, sleep=lambda _s: None).start(region_preset("EU868").plan)
    image: dict[int, int] = {}
    for line in trace.read_text().splitlines():
        entry = json.loads(line)
        if entry["target"] == 0 and entry["op"] == "w" and entry["addr"] >= 0x4000:
            for i, byte in enumerate(bytes.fromhex(entry["data"])):
                image[entry["addr"] + i] = byte
    return image


def test_eu868_register_image_equals_the_hal_derived_one(tmp_path) -> None:
    ours = our_eu868_image(tmp_path)
    expected = hal_eu868_image()
    addresses = sorted((set(ours) | set(expected)) - DIFFERENCES)
    diff = {
        f"{a:#06x}": (ours.get(a), expected.get(a))
        for a in addresses
        if ours.get(a) != expected.get(a)
    }
    assert diff == {}, "address: (ours, HAL-derived)"


def test_the_image_covers_every_block_lgw_start_configures(tmp_path) -> None:
    blocks = {a & 0xFFC0 for a in our_eu868_image(tmp_path)}
    for base in (0x5600, 0x5640, 0x5700, 0x5780, 0x57C0, 0x5800, 0x5B00, 0x6080, 0x6100):
        assert any(b & ~0x3F == base or b == base for b in blocks), hex(base)
