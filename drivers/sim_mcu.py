"""A simulated Corecell USB bridge MCU serving its request/ack protocol on a pseudo-terminal.

Each SPI frame of a MULTIPLE_SPI request goes to ``frame_handler(frame) -> miso`` (full duplex:
the answer has the frame's length), which is what ``drivers.sim``'s ``SimChip.xfer`` provides.
So the USB transport runs against the simulated SX1302 exactly as the SPI one does.

    mcu = SimMcu(chip.xfer)
    with mcu, UsbTransport(mcu.url) as transport: ...
"""

from __future__ import annotations

import os
import select
import struct
import threading
import tty
from collections.abc import Callable
from typing import Any

from drivers.usb import ACK_ERROR, ORDERS_V0, ORDERS_V1, SUB_RMW, SUB_SPI, UsbTransport

FrameHandler = Callable[[bytes], bytes]


class SimMcu:
    """The STM32 bridge: answers PING, GET_STATUS, WRITE_GPIO, RESET and MULTIPLE_SPI."""

    def __init__(
        self,
        frame_handler: FrameHandler,
        *,
        firmware: str = ORDERS_V1.firmware,
        temperature_c: float = 25.0,
        chunk_size: int = 0,
        unique_id: bytes = bytes(range(12)),
    ) -> None:
        self.frame_handler = frame_handler
        self.firmware = firmware
        self.orders = ORDERS_V0 if firmware.startswith("00.") else ORDERS_V1
        self.temperature_c = temperature_c
        #: write acks this many bytes at a time (0 = whole); exercises the reader's reassembly
        self.chunk_size = chunk_size
        self.unique_id = unique_id
        #: when True the MCU swallows requests without answering (timeout tests)
        self.mute = False
        #: (port, pin, value) for every WRITE_GPIO, in order
        self.gpio_writes: list[tuple[int, int, int]] = []
        #: exceptions raised by ``frame_handler`` (each answered with sub-request status FAIL)
        self.handler_errors: list[Exception] = []
        #: order id of every request received, in order
        self.requests: list[int] = []
        self._started_ms = 0
        self._buffer = bytearray()
        self._stop = threading.Event()
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.port = os.ttyname(self._slave)
        self.url = f"usb://{self.port}"
        self._thread = threading.Thread(target=self._run, name="sim-mcu", daemon=True)
        self._thread.start()

    # --- lifecycle ---------------------------------------------------------------------------

    def transport(self, **options: Any) -> UsbTransport:
        """A ``UsbTransport`` opened on this MCU's pseudo-terminal."""
        return UsbTransport(self.url, **options)

    def close(self) -> None:
        """Stop the thread and close both ends of the pty. Idempotent."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join(timeout=2)
        for fd in (self._master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self) -> SimMcu:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- protocol ----------------------------------------------------------------------------

    def poll_once(self, timeout_s: float = 0.05) -> None:
        """Read what the host wrote and answer every complete request."""
        ready, _, _ = select.select([self._master], [], [], timeout_s)
        if not ready:
            return
        try:
            self._buffer += os.read(self._master, 8192)
        except OSError:
            return
        while len(self._buffer) >= 4:
            length = struct.unpack(">H", self._buffer[1:3])[0]
            if len(self._buffer) < 4 + length:
                break
            req_id, order = self._buffer[0], self._buffer[3]
            payload = bytes(self._buffer[4 : 4 + length])
            del self._buffer[: 4 + length]
            self.requests.append(order)
            if not self.mute:
                ack_id, answer = self.answer(order, payload)
                self._send(bytes((req_id,)) + struct.pack(">H", len(answer)) + bytes((ack_id,)))
                self._send(answer)

    def answer(self, order: int, payload: bytes) -> tuple[int, bytes]:
        """The ack id and payload for one request (no I/O)."""
        orders = self.orders
        if order == orders.ping:
            version = ("V" + self.firmware).encode("ascii")[:9].ljust(9, b"\x00")
            return order | 0x40, self.unique_id + version
        if order == orders.get_status:
            return order | 0x40, struct.pack(">Ih", 0, round(self.temperature_c * 100))
        if order == orders.write_gpio and len(payload) == 3:
            self.gpio_writes.append((payload[0], payload[1], payload[2]))
            return order | 0x40, b"\x00"
        if order == orders.reset and len(payload) == 1:
            return order | 0x40, b"\x00"
        if order == orders.multiple_spi:
            answer = self._multiple_spi(payload)
            if answer is not None:
                return order | 0x40, answer
        return ACK_ERROR, b""

    def _multiple_spi(self, payload: bytes) -> bytes | None:
        out = bytearray()
        pos = 0
        while pos < len(payload):
            if len(payload) < pos + 2:
                return None
            sub_id, kind = payload[pos], payload[pos + 1]
            if kind == SUB_SPI and len(payload) >= pos + 5:
                size = struct.unpack_from(">H", payload, pos + 3)[0]
                frame = payload[pos + 5 : pos + 5 + size]
                if len(frame) != size or payload[pos + 2] != 0:
                    return None  # truncated, or the SX1261 target this simulator does not have
                status, miso = self._xfer(frame)
                out += bytes((sub_id, SUB_SPI, status)) + struct.pack(">H", size) + miso
                pos += 5 + size
            elif kind == SUB_RMW and len(payload) >= pos + 6:
                address = struct.unpack_from(">H", payload, pos + 2)[0]
                mask, value = payload[pos + 4], payload[pos + 5]
                old = self.frame_handler(bytes((0, address >> 8, address & 0xFF, 0, 0)))[4]
                new = (old & ~mask & 0xFF) | (value & mask)
                self.frame_handler(bytes((0, 0x80 | address >> 8, address & 0xFF, new)))
                out += bytes((sub_id, SUB_RMW, 0, old, new))
                pos += 6
            else:
                return None
        return bytes(out)

    def _xfer(self, frame: bytes) -> tuple[int, bytes]:
        """Status and MISO of one frame; a handler exception is the sub-request's FAIL status."""
        try:
            miso = bytes(self.frame_handler(frame))
        except Exception as exc:  # the host sees FAIL; tests read the cause here
            self.handler_errors.append(exc)
            return 1, bytes(len(frame))
        if len(miso) != len(frame):
            self.handler_errors.append(ValueError(f"MISO {len(miso)} bytes for {len(frame)}"))
            return 1, bytes(len(frame))
        return 0, miso

    def _send(self, data: bytes) -> None:
        step = self.chunk_size or len(data) or 1
        for start in range(0, len(data), step):
            os.write(self._master, data[start : start + step])

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll_once()
