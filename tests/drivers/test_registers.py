"""The register map holds every register of ref/sx1302.md §3 at its documented place."""

from __future__ import annotations

import pytest

from drivers.sx1302.registers import REGISTERS, Register

# (name, address, bit offset, width, read-only) from the fact sheet's register table
FACT_SHEET = [
    ("COMMON_PAGE_PAGE", 0x5600, 0, 2, False),
    ("COMMON_CTRL0_CLK32_RIF_CTRL", 0x5601, 4, 1, False),
    ("COMMON_CTRL0_HOST_RADIO_CTRL", 0x5601, 3, 1, False),
    ("COMMON_CTRL0_SX1261_MODE_RADIO_B", 0x5601, 1, 1, False),
    ("COMMON_CTRL0_SX1261_MODE_RADIO_A", 0x5601, 0, 1, False),
    ("COMMON_GEN_GLOBAL_EN", 0x5605, 3, 1, False),
    ("COMMON_GEN_FSK_MODEM_ENABLE", 0x5605, 2, 1, False),
    ("COMMON_GEN_CONCENTRATOR_MODEM_ENABLE", 0x5605, 1, 1, False),
    ("COMMON_GEN_MBWSSF_MODEM_ENABLE", 0x5605, 0, 1, False),
    ("COMMON_VERSION_VERSION", 0x5606, 0, 8, True),
    ("CLK_CTRL_CLK_SEL_CLKDIV_EN", 0x57C0, 2, 1, False),
    ("CLK_CTRL_CLK_SEL_CLK_RADIO_B_SEL", 0x57C0, 1, 1, False),
    ("CLK_CTRL_CLK_SEL_CLK_RADIO_A_SEL", 0x57C0, 0, 1, False),
    ("AGC_MCU_CTRL_CLK_EN", 0x5780, 4, 1, False),
    ("AGC_MCU_CTRL_FORCE_HOST_FE_CTRL", 0x5780, 3, 1, False),
    ("AGC_MCU_CTRL_MCU_CLEAR", 0x5780, 2, 1, False),
    ("AGC_MCU_CTRL_HOST_PROG", 0x5780, 1, 1, False),
    ("AGC_MCU_CTRL_PARITY_ERROR", 0x5780, 0, 1, True),
    ("AGC_MCU_MCU_AGC_STATUS_MCU_AGC_STATUS", 0x5781, 0, 8, True),
    ("AGC_MCU_RF_EN_A_RADIO_RST", 0x5783, 3, 1, False),
    ("AGC_MCU_RF_EN_A_RADIO_EN", 0x5783, 2, 1, False),
    ("AGC_MCU_RF_EN_A_PA_EN", 0x5783, 1, 1, False),
    ("AGC_MCU_RF_EN_A_LNA_EN", 0x5783, 0, 1, False),
    ("AGC_MCU_RF_EN_B_RADIO_RST", 0x5784, 3, 1, False),
    ("AGC_MCU_LUT_TABLE_A_PA_LUT", 0x5785, 4, 4, False),
    ("AGC_MCU_LUT_TABLE_A_LNA_LUT", 0x5785, 0, 4, False),
    ("AGC_MCU_LUT_TABLE_B_PA_LUT", 0x5786, 4, 4, False),
    ("ARB_MCU_CTRL_CLK_EN", 0x6080, 5, 1, False),
    ("ARB_MCU_CTRL_RADIO_RST", 0x6080, 4, 1, False),
    ("ARB_MCU_CTRL_PARITY_ERROR", 0x6080, 0, 1, True),
    ("ARB_MCU_MCU_ARB_STATUS_MCU_ARB_STATUS", 0x6081, 0, 8, True),
    ("RX_TOP_FREQ_0_MSB_IF_FREQ_0", 0x5800, 0, 5, False),
    ("RX_TOP_FREQ_0_LSB_IF_FREQ_0", 0x5801, 0, 8, False),
    ("RX_TOP_FREQ_7_MSB_IF_FREQ_7", 0x580E, 0, 5, False),
    ("RX_TOP_RADIO_SELECT_RADIO_SELECT", 0x5810, 0, 8, False),
    ("RX_TOP_CORR_CLOCK_ENABLE_CLK_EN", 0x5820, 0, 8, False),
    ("RX_TOP_CORRELATOR_EN_CORR_EN", 0x5821, 0, 8, False),
    ("RX_TOP_CORRELATOR_SF_EN_CORR_SF_EN", 0x5822, 0, 8, False),
    ("RX_TOP_FRAME_SYNCH0_SF7TO12_PEAK1_POS_SF7TO12", 0x588E, 0, 5, False),
    ("RX_TOP_FRAME_SYNCH1_SF7TO12_PEAK2_POS_SF7TO12", 0x588F, 0, 5, False),
    ("RX_TOP_RX_BUFFER_LEGACY_TIMESTAMP", 0x58C0, 2, 1, False),
    ("RX_TOP_RX_BUFFER_STORE_HEADER_ERR_META", 0x58C0, 1, 1, False),
    ("RX_TOP_RX_BUFFER_STORE_SYNC_FAIL_META", 0x58C0, 0, 1, False),
    ("RX_TOP_RX_BUFFER_NB_BYTES_MSB_RX_BUFFER_NB_BYTES", 0x58C8, 0, 5, True),
    ("RX_TOP_RX_BUFFER_NB_BYTES_LSB_RX_BUFFER_NB_BYTES", 0x58C9, 0, 8, True),
    ("TIMESTAMP_GPS_CTRL_GPS_POL", 0x6100, 1, 1, False),
    ("TIMESTAMP_GPS_CTRL_GPS_EN", 0x6100, 0, 1, False),
    ("TIMESTAMP_TIMESTAMP_PPS_MSB2_TIMESTAMP_PPS", 0x6101, 0, 8, True),
    ("TIMESTAMP_TIMESTAMP_MSB2_TIMESTAMP", 0x6105, 0, 8, True),
    ("OTP_BYTE_ADDR_ADDR", 0x6180, 0, 8, False),
    ("OTP_RD_DATA_RD_DATA", 0x6181, 0, 8, True),
    ("OTP_MODEM_EN_0_MODEM_EN", 0x6188, 0, 8, False),
    ("OTP_MODEM_EN_1_MODEM_EN", 0x6189, 0, 8, False),
    ("GPIO_GPIO_DIR_L_DIRECTION", 0x5641, 0, 8, False),
    ("GPIO_GPIO_OUT_L_OUT_VALUE", 0x5643, 0, 8, False),
    ("GPIO_GPIO_SEL_0_SELECTION", 0x5648, 0, 4, False),
    ("GPIO_GPIO_SEL_7_SELECTION", 0x564F, 0, 4, False),
    ("RX_TOP_LORA_SERVICE_FSK_LORA_SERVICE_FREQ_MSB_IF_FREQ_0", 0x5B00, 0, 5, False),
    ("RX_TOP_LORA_SERVICE_FSK_LORA_SERVICE_FREQ_LSB_IF_FREQ_0", 0x5B01, 0, 8, False),
    ("RX_TOP_LORA_SERVICE_FSK_LORA_SERVICE_RADIO_SEL_RADIO_SELECT", 0x5B02, 0, 1, False),
    ("RX_TOP_LORA_SERVICE_FSK_FSK_FREQ_MSB_IF_FREQ_0", 0x5B50, 0, 5, False),
    ("RX_TOP_LORA_SERVICE_FSK_FSK_FREQ_LSB_IF_FREQ_0", 0x5B51, 0, 8, False),
    ("RX_TOP_LORA_SERVICE_FSK_FSK_CFG_3_RADIO_SELECT", 0x5B54, 1, 1, False),
]


@pytest.mark.parametrize(("name", "addr", "offs", "width", "read_only"), FACT_SHEET)
def test_register_is_where_the_fact_sheet_says(name, addr, offs, width, read_only) -> None:
    reg = REGISTERS[name]
    assert (reg.addr, reg.offs, reg.width, reg.read_only) == (addr, offs, width, read_only)


def test_agc_mailboxes_are_present() -> None:
    wr = [
        REGISTERS[f"AGC_MCU_MCU_MAIL_BOX_WR_DATA_BYTE{n}_MCU_MAIL_BOX_WR_DATA"].addr
        for n in range(4)
    ]
    rd = [
        REGISTERS[f"AGC_MCU_MCU_MAIL_BOX_RD_DATA_BYTE{n}_MCU_MAIL_BOX_RD_DATA"].addr
        for n in range(4)
    ]
    assert wr == [0x578C, 0x578B, 0x578A, 0x5789]
    assert rd == [0x5790, 0x578F, 0x578E, 0x578D]


def test_arb_debug_registers_are_present() -> None:
    assert REGISTERS["ARB_MCU_ARB_DEBUG_CFG_0_ARB_DEBUG_CFG_0"].addr == 0x6089
    assert REGISTERS["ARB_MCU_ARB_DEBUG_STS_0_ARB_DEBUG_STS_0"].addr == 0x608D


def test_version_default_is_the_sx1302_value() -> None:
    assert REGISTERS["COMMON_VERSION_VERSION"].default == 0x10


def test_fields_fit_in_one_byte() -> None:
    assert all(r.offs + r.width <= 8 for r in REGISTERS.values())


def test_fields_sharing_a_byte_do_not_overlap() -> None:
    by_addr: dict[int, int] = {}
    for reg in REGISTERS.values():
        assert by_addr.get(reg.addr, 0) & reg.mask == 0, hex(reg.addr)
        by_addr[reg.addr] = by_addr.get(reg.addr, 0) | reg.mask


def test_signed_field_extraction() -> None:
    reg = Register(0, 0, 5, True, 0, False)
    assert (reg.extract(0b11010), reg.extract(0b01000), reg.min_value) == (-6, 8, -16)
