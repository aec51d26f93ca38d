"""A simulated Corecell USB bridge MCU serving its request/ack protocol on a pseudo-terminal.

Each SPI frame of a MULTIPLE_SPI request goes to ``frame_handler(frame) -> miso`` (full duplex:
the answer has the frame's length), which is what ``drivers.sim``'s ``SimChip.xfer`` provides.
So the USB transport runs against the simulated SX1302 exactly as the SPI one does.

    mcu = SimMcu(chip.xfer)
    with mcu, UsbTransport(mcu.url) as transport: ...

Every request costs ``latency_us`` (default 1000: sx1302_hal's maintainers measure about 1 ms
per USB transaction) before the MCU answers it: slept on a real clock, or added to a simulated
chip's virtual clock (``SimMcu.for_chip``), so a test sees what a slow sequence of round trips
does to a delayed TX trigger. ``requests`` counts the transactions.
"""

from __future__ import annotations

import os
import select
import struct
import threading
import time
import tty
from collections.abc import Callable
from typing import Any

from drivers.usb import (
    ACK_ERROR,
    GPIO_PORT,
    GPIO_POWER_EN,
    GPIO_SX1302_RESET,
    ORDERS_V0,
    ORDERS_V1,
    SUB_RMW,
    SUB_SPI,
    UsbTransport,
)

FrameHandler = Callable[[bytes], bytes]
#: sx1302_hal issue tracker / ref/sx1302.md §12: about 1 ms per USB request/ack round trip
DEFAULT_LATENCY_US = 1000


def _sleep_us(us: int) -> None:
    time.sleep(us / 1_000_000)


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
        latency_us: int = DEFAULT_LATENCY_US,
        wait_us: Callable[[int], None] | None = None,
        on_gpio: Callable[[int, int, int], None] | None = None,
    ) -> None:
        if latency_us < 0:
            raise ValueError(f"latency_us must be >= 0, got {latency_us}")
        self.frame_handler = frame_handler
        #: time one request/ack round trip takes, spent through ``wait_us`` before answering
        self.latency_us = latency_us
        self._wait_us = wait_us or _sleep_us
        #: called with (port, pin, value) for every WRITE_GPIO (the board's lines)
        self.on_gpio = on_gpio
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

    @classmethod
    def for_chip(cls, chip: Any, **options: Any) -> SimMcu:
        """The bridge of a ``drivers.sim.SimChip``: its latency moves a virtual chip clock, and
        WRITE_GPIO drives the chip's power (pin 1) and reset (pin 2) lines."""
        if getattr(chip.clock, "virtual", False):
            options.setdefault("wait_us", chip.advance_us)

        def gpio(port: int, pin: int, value: int) -> None:
            if port == GPIO_PORT and pin == GPIO_POWER_EN:
                chip.set_powered(bool(value))
            elif port == GPIO_PORT and pin == GPIO_SX1302_RESET:
                chip.set_reset(bool(value))

        options.setdefault("on_gpio", gpio)
        return cls(chip.xfer, **options)

    @property
    def transactions(self) -> int:
        """Requests received so far (each one USB round trip)."""
        return len(self.requests)

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
            if self.latency_us:
                self._wait_us(self.latency_us)
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
            if self.on_gpio is not None:
                self.on_gpio(payload[0], payload[1], payload[2])
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


def open_sim_usb_transport(url: str = "sim://", *, latency_us: int = DEFAULT_LATENCY_US,
                           timeout_s: float = 5.0, **options: Any) -> UsbTransport:  # fmt: skip
    """A ``UsbTransport`` to a new SimChip (``url``/``options`` as for ``sim://``) behind a SimMcu.

    Like the ``sim://`` transport it has ``.sim`` (the SimChip), a live ``.exhausted`` and
    ``.default_firmware``; ``.mcu`` is the SimMcu (``mcu.requests`` counts the round trips).
    Closing the transport stops the MCU.
    """
    from drivers.firmware import stand_in_images
    from drivers.sim import SimChip, sim_options

    chip = SimChip(**sim_options(url, **options))
    mcu = SimMcu.for_chip(chip, latency_us=latency_us)

    class SimUsbTransport(UsbTransport):
        """UsbTransport on the simulated bridge, exposing the chip and the MCU."""

        sim = chip
        default_firmware = stand_in_images()

        @property
        def exhausted(self) -> bool:  # type: ignore[override]
            return self.sim.exhausted

        def close(self) -> None:
            try:
                super().close()
            finally:
                mcu.close()

    try:
        transport = SimUsbTransport(mcu.url, timeout_s=timeout_s)
    except BaseException:
        mcu.close()
        raise
    transport.mcu = mcu  # type: ignore[attr-defined]
    return transport
