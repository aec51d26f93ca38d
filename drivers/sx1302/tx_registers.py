"""SX1302 TX_TOP register fields as data (radio A; radio B = radio A + 0x200).

Facts from sx1302_hal ``loragw_reg.c`` (register table: address, bit offset, width, reset
default) and ``loragw_sx1302.c`` (``sx1302_tx_configure``: TX_MODE 1, CLK_EDGE 0, IF_DST 1 and
PLL_DIV_CTRL_AGC 1 for SX1250). ``TX_FIELDS`` holds every field of each byte the TX path
writes, so a whole byte can be computed without reading the chip back.
"""

from __future__ import annotations

from dataclasses import dataclass

TX_TOP_A = 0x5200
#: radio B's TX_TOP block sits 0x200 above radio A's
TX_TOP_B_OFFSET = 0x200
#: TX data buffers (payload; FSK: length byte first)
TX_BUFFER_A = 0x5300
#: AGC MCU write mailbox bytes 2..0: the SX1250 FSK deviation word goes there
AGC_MAILBOX_WR_BYTE2 = 0x578A
AGC_MAILBOX_WR_BYTE1 = 0x578B
AGC_MAILBOX_WR_BYTE0 = 0x578C


@dataclass(frozen=True, slots=True)
class TxField:
    """One bit field of a TX_TOP byte: offset from the block base, shift, width, reset value."""

    offset: int
    shift: int
    width: int
    default: int = 0

    @property
    def mask(self) -> int:
        """Mask of the field inside its byte."""
        return ((1 << self.width) - 1) << self.shift


_F = TxField
TX_FIELDS: dict[str, TxField] = {
    "TX_TRIG_FSM_CLR": _F(0x00, 3, 1),
    "TX_TRIG_GPS": _F(0x00, 2, 1),
    "TX_TRIG_DELAYED": _F(0x00, 1, 1),
    "TX_TRIG_IMMEDIATE": _F(0x00, 0, 1),
    "TIMER_TRIG_BYTE3": _F(0x01, 0, 8),
    "TIMER_TRIG_BYTE2": _F(0x02, 0, 8),
    "TIMER_TRIG_BYTE1": _F(0x03, 0, 8),
    "TIMER_TRIG_BYTE0": _F(0x04, 0, 8),
    "TX_START_DELAY_MSB": _F(0x05, 0, 8, 187),
    "TX_START_DELAY_LSB": _F(0x06, 0, 8, 128),
    "WRITE_BUFFER": _F(0x07, 0, 1),
    "MODULATION_TYPE": _F(0x09, 0, 1),
    "AGC_TX_BW": _F(0x0C, 0, 8),
    "AGC_TX_PWR": _F(0x0D, 0, 8),
    "TX_FSM_STATUS": _F(0x11, 0, 8),
    # sx1302_tx_configure (SX1250): PLL_DIV_CTRL 0, CLK_EDGE 0, TX_MODE 1, IF_DST 1
    "PLL_DIV_CTRL": _F(0x20, 5, 3),
    "TX_CLK_EDGE": _F(0x20, 4, 1, 0),
    "TX_MODE": _F(0x20, 3, 1, 1),
    "TX_IF_DST": _F(0x20, 2, 1, 1),
    "TX_IF_SRC": _F(0x20, 0, 2),
    "SX125X_IQ_INVERT": _F(0x21, 1, 1),
    "PLL_DIV_CTRL_AGC": _F(0x21, 0, 1, 1),
    "IQ_GAIN": _F(0x22, 0, 2),
    "I_OFFSET": _F(0x23, 0, 8),
    "Q_OFFSET": _F(0x24, 0, 8),
    "FREQ_RF_H": _F(0x25, 0, 8, 108),
    "FREQ_RF_M": _F(0x26, 0, 8, 144),
    "FREQ_RF_L": _F(0x27, 0, 8),
    "FREQ_DEV_H": _F(0x28, 0, 4),
    "FREQ_DEV_L": _F(0x29, 0, 8),
    "FSK_PKT_LENGTH": _F(0x40, 0, 8, 15),
    "FSK_TX_CONT": _F(0x41, 5, 1),
    "FSK_CRC_IBM": _F(0x41, 4, 1),
    "FSK_DCFREE_ENC": _F(0x41, 2, 2),
    "FSK_CRC_EN": _F(0x41, 1, 1, 1),
    "FSK_PKT_MODE": _F(0x41, 0, 1),
    "FSK_PREAMBLE_SIZE_MSB": _F(0x42, 0, 8),
    "FSK_PREAMBLE_SIZE_LSB": _F(0x43, 0, 8, 20),
    "FSK_BIT_RATE_MSB": _F(0x44, 0, 8, 26),
    "FSK_BIT_RATE_LSB": _F(0x45, 0, 8, 11),
    "FSK_REF_PATTERN_SIZE": _F(0x46, 5, 3, 3),
    "FSK_PREAMBLE_SEQ": _F(0x46, 4, 1),
    "FSK_REF_PATTERN_EN": _F(0x46, 3, 1, 1),
    "FSK_GAUSSIAN_SELECT_BT": _F(0x46, 1, 2),
    "FSK_GAUSSIAN_EN": _F(0x46, 0, 1),
    # reference pattern (sync word): BYTE7 at 0x47 .. BYTE0 at 0x4E
    **{f"FSK_REF_PATTERN_BYTE{7 - i}": _F(0x47 + i, 0, 8, d)
       for i, d in enumerate((151, 35, 82, 37, 86, 83, 101, 100))},
    "MODEM_BW": _F(0x60, 4, 4, 5),
    "MODEM_SF": _F(0x60, 0, 4, 7),
    "PPM_OFFSET_HDR_CTRL": _F(0x61, 6, 2, 2),
    "PPM_OFFSET": _F(0x61, 4, 2),
    "POST_PREAMBLE_GAP_LONG": _F(0x61, 3, 1),
    "CODING_RATE": _F(0x61, 0, 3, 2),
    "FINE_SYNCH_EN": _F(0x62, 7, 1),
    "MODEM_EN": _F(0x62, 6, 1),
    "CADRXTX": _F(0x62, 4, 2, 2),
    "IMPLICIT_HEADER": _F(0x62, 1, 1),
    "CRC_EN": _F(0x62, 0, 1, 1),
    "PAYLOAD_LENGTH": _F(0x63, 0, 8, 12),
    "MODEM_START": _F(0x65, 7, 1),
    "HEADER_DIFF_MODE": _F(0x65, 6, 1),
    "ZERO_PAD": _F(0x65, 0, 6),
    "PREAMBLE_SYMB_NB_LSB": _F(0x66, 0, 8, 8),
    "PREAMBLE_SYMB_NB_MSB": _F(0x67, 0, 8),
    "CHIRP_LOWPASS": _F(0x69, 4, 3),
    "PPM_OFFSET_SIG": _F(0x69, 3, 1),
    "CONTCHIRP": _F(0x69, 2, 1, 1),
    "CHIRP_INVERT": _F(0x69, 1, 1, 1),
    "CONTINUOUS": _F(0x69, 0, 1),
    "FRAME_SYNCH_AUTO_SCALE": _F(0x6D, 7, 1, 1),
    "FRAME_SYNCH_DROP_ON_SYNCH": _F(0x6D, 6, 1),
    "FRAME_SYNCH_GAIN": _F(0x6D, 5, 1, 1),
    "FRAME_SYNCH_PEAK1_POS": _F(0x6D, 0, 5, 2),
    "FRAME_SYNCH_FINETIME_ON_LAST": _F(0x6E, 7, 1),
    "FRAME_SYNCH_TIMEOUT_OPT": _F(0x6E, 5, 2, 3),
    "FRAME_SYNCH_PEAK2_POS": _F(0x6E, 0, 5, 4),
}  # fmt: skip


def tx_top_base(rf_chain: int) -> int:
    """Base address of the TX_TOP block of RF chain 0 (radio A) or 1 (radio B)."""
    if rf_chain not in (0, 1):
        raise ValueError(f"rf_chain must be 0 or 1, got {rf_chain}")
    return TX_TOP_A + rf_chain * TX_TOP_B_OFFSET


def tx_buffer_address(rf_chain: int) -> int:
    """Address of the TX data buffer of an RF chain."""
    return tx_top_base(rf_chain) - TX_TOP_A + TX_BUFFER_A


def reset_image() -> dict[int, int]:
    """Byte offset -> value of every TX_TOP byte above, after reset and ``sx1302_tx_configure``."""
    image: dict[int, int] = {}
    for field in TX_FIELDS.values():
        image[field.offset] = image.get(field.offset, 0) | (field.default << field.shift)
    return image
