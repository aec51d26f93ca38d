"""A tiny SPI frame builder (ref/sx1302.md §1) and a bus that programs a plan like a driver."""

from __future__ import annotations

from drivers.sim import SimChip
from drivers.sx1302.plan import ChipPlan


def write_frame(mux: int, addr: int, data: bytes) -> bytes:
    """Burst/single write: mux, 0x80|A14..8, A7..0, data."""
    return bytes([mux, 0x80 | (addr >> 8), addr & 0xFF, *data])


def read_frame(mux: int, addr: int, length: int) -> bytes:
    """Burst/single read: mux, A14..8, A7..0, dummy, then length placeholders."""
    return bytes([mux, addr >> 8, addr & 0xFF, 0x00, *bytes(length)])


def command_frame(mux: int, opcode: int, params: bytes, reply_length: int = 0) -> bytes:
    """SX1250 command through the mux: mux, opcode, params, placeholders."""
    return bytes([mux, opcode, *params, *bytes(reply_length)])


class Bus:
    """Register access to a SimChip through raw frames, as drivers.spi does it."""

    def __init__(self, chip: SimChip) -> None:
        self.chip = chip

    def read(self, addr: int, length: int = 1) -> bytes:
        """Read ``length`` bytes at ``addr`` (MISO after the 4-byte header)."""
        return self.chip.xfer(read_frame(0, addr, length))[4:]

    def write(self, addr: int, data: bytes | int) -> None:
        """Write bytes (or one byte) at ``addr``."""
        self.chip.xfer(write_frame(0, addr, bytes([data]) if isinstance(data, int) else data))

    def command(self, radio: int, opcode: int, params: bytes = b"", reply: int = 0) -> bytes:
        """SX1250 command on radio 0 (A) or 1 (B); returns MISO[2:]."""
        return self.chip.xfer(command_frame(radio + 1, opcode, params, reply))[2:]

    def fifo_count(self) -> int:
        """0x58C8/0x58C9: bytes waiting (MSB 5 bits)."""
        msb, lsb = self.read(0x58C8, 2)
        return (msb & 0x1F) << 8 | lsb

    def fetch(self) -> bytes:
        """Read the whole FIFO at 0x4000 in <= 1024-byte chunks (address not advanced)."""
        count, out = self.fifo_count(), b""
        while len(out) < count:
            out += self.read(0x4000, min(1024, count - len(out)))
        return out

    def program(self, plan: ChipPlan) -> None:
        """Program radios and IF chains the way the driver's bring-up does (ref §6)."""
        for n, radio in enumerate(plan.radios):
            if not radio.enable:
                continue
            self.command(n, 0x80, b"\x00")  # SET_STANDBY RC
            self.command(n, 0x89, b"\x7f")  # CALIBRATE
            self.command(n, 0x80, b"\x01")  # SET_STANDBY XOSC
            word = radio.freq_hz * (1 << 25) // 32_000_000
            self.command(n, 0x86, word.to_bytes(4, "big"))  # SET_RF_FREQUENCY
            self.command(n, 0x82, b"\xff\xff\xff")  # SET_RX continuous
        select = enable = 0
        for n, chan in enumerate(plan.multi_sf):
            value = int(chan.if_hz * 32 / 15625) & 0x1FFF
            self.write(0x5800 + 2 * n, bytes([value >> 8, value & 0xFF]))
            select |= chan.radio << n
            enable |= int(chan.enable) << n
        self.write(0x5810, select)
        sf_mask = sum(1 << (sf - 5) for sf in plan.spreading_factors)
        self.write(0x5820, bytes([enable, enable, sf_mask]))  # clock enable, corr enable, SF mask
        ls = plan.lora_std
        value = int(ls.if_hz * 32 / 15625) & 0x1FFF
        self.write(0x5B00, bytes([value >> 8, value & 0xFF]))
        self.write(0x5B02, ls.radio)
        bw_code = {125_000: 4, 250_000: 5, 500_000: 6}[ls.bandwidth_hz]
        self.write(0x5B21, bw_code << 4 | ls.sf)
        self.write(0x5605, 0x0E | int(ls.enable))
