"""A tiny SX1302 stand-in for transport tests: a 32 KiB register file behind the §1 SPI framing."""

from __future__ import annotations


class RegisterFile:
    """Answers SPI frames like the chip: mux byte, R/W bit, 15-bit address, dummy byte on reads."""

    def __init__(self) -> None:
        self.memory = bytearray(0x8000)
        self.frames: list[bytes] = []
        self.radio_status = 0x22

    def xfer(self, frame: bytes) -> bytes:
        """Full duplex: the MISO bytes for one MOSI frame (same length)."""
        self.frames.append(bytes(frame))
        if frame[0] in (1, 2):  # SX1250 command: status byte, then the params echoed back
            return bytes((0, 0, self.radio_status)) + bytes(frame[3:])
        address = (frame[1] & 0x7F) << 8 | frame[2]
        if frame[1] & 0x80:
            data = frame[3:]
            self.memory[address : address + len(data)] = data
            return bytes(len(frame))
        length = len(frame) - 4
        return bytes(4) + bytes(self.memory[address : address + length])
