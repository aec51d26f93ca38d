"""Corecell over USB: the STM32 bridge's request/ack protocol tunnelling the SPI frames (pyserial).

Facts from sx1302_hal 2.1.0 (libloragw/src/loragw_usb.c, loragw_mcu.c, inc/loragw_mcu.h), see
ref/sx1302.md §2: a request is ``[req_id, len_MSB, len_LSB, order_id] + payload``, an ack is
``[id, len_MSB, len_LSB, ack_id] + payload`` with ``ack_id = order_id | 0x40`` (0xFF = error).
Register accesses travel as MULTIPLE_SPI sub-requests carrying the raw §1 SPI frame, so the
bytes the chip sees are exactly those the SPI transport would clock out.
"""

from __future__ import annotations

import logging
import random
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from drivers.errors import DriverError, TransportError, TransportTimeout
from drivers.transport import Transport

LOGGER = logging.getLogger(__name__)

BAUDRATE = 115200
MAX_BURST = 4096  # LGW_USB_BURST_CHUNK
MAX_COMMAND = 4200  # MAX_SIZE_COMMAND: the whole request, 4-byte header included
BULK_MAX_BYTES = 4096  # bulk buffer of loragw_usb.c
BULK_MAX_REQUESTS = 255
ACK_ERROR = 0xFF
SUB_SPI = 0x01
SUB_RMW = 0x02
SPI_TARGET_SX1302 = 0  # the SX1302 and, through its mux, both SX1250s
GPIO_PORT = 0
GPIO_POWER_EN = 1  # loragw_usb.c: POWER_EN, SX1302_RESET, SX1261_NRESET on port 0
GPIO_SX1302_RESET = 2
GPIO_SX1261_NRESET = 8
MAX_STALE_ACKS = 4
SUB_STATUS = {0: "OK", 1: "FAIL", 2: "WRONG_PARAM", 3: "TIMEOUT"}


@dataclass(frozen=True)
class McuOrders:
    """One generation of MCU order ids (the ack id is ``order | 0x40``)."""

    firmware: str
    ping: int = 0x00
    get_status: int = 0x01
    bootloader: int = 0x02
    reset: int = 0x03
    write_gpio: int = 0x04
    multiple_spi: int = 0x05


#: MCU firmware 01.00.00 (HAL 2.1.x)
ORDERS_V1 = McuOrders(firmware="01.00.00")
#: MCU firmware 00.02.06 (HAL 2.0.x): a deprecated single-SPI order took 0x05
ORDERS_V0 = McuOrders(firmware="00.02.06", multiple_spi=0x06)
EXPECTED_FIRMWARE = ORDERS_V1.firmware


def orders_for_version(version: str) -> McuOrders:
    """The order table that matches an MCU firmware version string such as ``01.00.00``."""
    if version.startswith("00."):
        return ORDERS_V0
    return ORDERS_V1


class SerialPort(Protocol):
    """The part of ``serial.Serial`` the transport uses."""

    def read(self, size: int = 1) -> bytes: ...
    def write(self, data: bytes) -> int | None: ...
    def reset_input_buffer(self) -> None: ...
    def close(self) -> None: ...


class BulkModeError(DriverError, RuntimeError):
    """A read was attempted while writes are being batched."""


@dataclass(frozen=True)
class McuInfo:
    """What PING answered: the MCU's unique id and firmware version."""

    unique_id: bytes
    version: str


def _default_serial(path: str, timeout_s: float) -> SerialPort:
    import serial  # lazy: importing drivers.usb must not need pyserial

    try:
        return serial.serial_for_url(path, baudrate=BAUDRATE, timeout=min(timeout_s, 0.1))
    except serial.SerialException as exc:
        raise TransportError(f"cannot open {path}: {exc}") from exc


def spi_read_frame(target: int, address: int, length: int) -> bytes:
    """The §1 burst-read frame: mux, address (R/W bit clear), dummy byte, ``length`` clocks."""
    return bytes((target, (address >> 8) & 0x7F, address & 0xFF, 0)) + bytes(length)


def spi_write_frame(target: int, address: int, data: bytes) -> bytes:
    """The §1 burst-write frame: mux, address with the write bit, data."""
    return bytes((target, 0x80 | ((address >> 8) & 0x7F), address & 0xFF)) + bytes(data)


@dataclass(frozen=True)
class _Sub:
    """One MULTIPLE_SPI sub-request without its id: type, then the type's fields."""

    kind: int
    body: bytes  # from the type byte on
    frame_size: int = 0  # read/write: the raw SPI frame's length (the answer echoes it)

    @classmethod
    def spi(cls, frame: bytes) -> _Sub:
        """Read/write: ``[0x01, target 0, size_MSB, size_LSB, raw SPI frame]``."""
        head = bytes((SUB_SPI, SPI_TARGET_SX1302)) + struct.pack(">H", len(frame))
        return cls(SUB_SPI, head + frame, len(frame))

    @classmethod
    def rmw(cls, address: int, mask: int, value: int) -> _Sub:
        """Read-modify-write (loragw_usb.c lgw_usb_rmw): ``[0x02, addr MSB, LSB, mask, value]``."""
        return cls(
            SUB_RMW, bytes((SUB_RMW, address >> 8 & 0x7F, address & 0xFF, mask, value & mask))
        )


class UsbTransport(Transport):
    """``usb:///dev/ttyACM0``: register access through the Corecell USB bridge MCU."""

    max_burst = MAX_BURST
    batched_reads = True  # every read_many is one MULTIPLE_SPI round trip

    def __init__(
        self,
        url: str,
        *,
        serial_factory: Callable[[str], SerialPort] | None = None,
        timeout_s: float = 1.0,
        **_options: Any,
    ) -> None:
        self.url = url
        path = urlsplit(url).path or "/dev/ttyACM0"
        self._timeout_s = timeout_s
        self._rng = random.Random()
        self._bulk: list[_Sub] | None = None
        self._closed = False
        self._stale = False
        self.orders = ORDERS_V1
        factory = serial_factory or (lambda p: _default_serial(p, timeout_s))
        self._port = factory(path)
        try:
            self._port.reset_input_buffer()
            self.info = self.ping()
            self.orders = orders_for_version(self.info.version)
            if self.info.version not in (ORDERS_V1.firmware, ORDERS_V0.firmware):
                LOGGER.warning(
                    "MCU firmware %s is not the expected %s; trying the %s order table",
                    self.info.version,
                    EXPECTED_FIRMWARE,
                    self.orders.firmware,
                )
            LOGGER.info(
                "USB concentrator %s: MCU firmware %s, %.1f °C",
                path,
                self.info.version,
                self.temperature_c(),
            )
        except BaseException:
            self._closed = True  # the MCU did not answer as one: no reset sequence
            self._port.close()
            raise

    # --- MCU orders ------------------------------------------------------------------------

    def ping(self) -> McuInfo:
        """PING: the MCU's 12-byte unique id and its firmware version string."""
        payload = self._request(self.orders.ping, b"")
        if len(payload) < 12 + 9:
            raise TransportError(f"PING ack too short ({len(payload)} bytes)")
        raw = payload[12 : 12 + 9].rstrip(b"\x00")
        # loragw_mcu.c compares the version after skipping its first character ('V01.00.00')
        version = raw[1:].decode("ascii", errors="replace")
        return McuInfo(unique_id=bytes(payload[:12]), version=version)

    def status(self) -> tuple[int, float]:
        """GET_STATUS: (MCU system time in ms, board temperature in °C)."""
        payload = self._request(self.orders.get_status, b"")
        if len(payload) < 6:
            raise TransportError(f"GET_STATUS ack too short ({len(payload)} bytes)")
        system_ms, temp_centi = struct.unpack(">Ih", payload[:6])
        return system_ms, temp_centi / 100.0

    def temperature_c(self) -> float:
        """The board temperature the MCU reports (USB boards have no host-visible sensor)."""
        return self.status()[1]

    def write_gpio(self, pin: int, value: int, port: int = GPIO_PORT) -> None:
        """WRITE_GPIO: drive one MCU pin."""
        payload = self._request(self.orders.write_gpio, bytes((port, pin, value)))
        if not payload or payload[0] != 0:
            raise TransportError(f"WRITE_GPIO port {port} pin {pin} = {value} failed: {payload!r}")

    def reset(self) -> None:
        """The loragw_usb.c sequence: power on, pulse SX1302 reset, release the SX1261."""
        self.write_gpio(GPIO_POWER_EN, 1)
        self.write_gpio(GPIO_SX1302_RESET, 1)
        self.write_gpio(GPIO_SX1302_RESET, 0)
        self.write_gpio(GPIO_SX1261_NRESET, 0)
        self.write_gpio(GPIO_SX1261_NRESET, 1)

    # --- Transport ---------------------------------------------------------------------------

    def read(self, target: int, address: int, length: int) -> bytes:
        """Burst-read through one MULTIPLE_SPI round trip."""
        return self.read_many([(target, address, length)])[0]

    def read_many(self, requests: Sequence[tuple[int, int, int]]) -> list[bytes]:
        """Several burst reads as sub-requests of as few MULTIPLE_SPI round trips as fit."""
        if self._bulk is not None:
            raise BulkModeError("reads are refused in bulk mode; flush() first")
        subs = []
        for target, address, length in requests:
            self._check_burst(length)
            subs.append(_Sub.spi(spi_read_frame(target, address, length)))
        return [miso[4:] for miso in self._send_subs(subs)]

    def write(self, target: int, address: int, data: bytes) -> None:
        """Burst-write; queued while in bulk mode."""
        self._check_burst(len(data))
        self._submit(_Sub.spi(spi_write_frame(target, address, data)))

    def modify(self, target: int, address: int, mask: int, value: int) -> None:
        """The MCU's read-modify-write sub-request (SX1302 registers only); queued in bulk mode."""
        if target != SPI_TARGET_SX1302:
            super().modify(target, address, mask, value)
            return
        self._submit(_Sub.rmw(address, mask, value))

    def command(self, target: int, opcode: int, params: bytes, reply_length: int = 0) -> bytes:
        """SX1250 command through the mux: ``[mux, opcode, params, placeholders]``."""
        frame = bytes((target, opcode)) + bytes(params) + bytes(reply_length)
        if self._bulk is not None and reply_length:
            raise BulkModeError("commands with a reply are refused in bulk mode; flush() first")
        if self._bulk is not None:
            self._submit(_Sub.spi(frame))
            return bytes(len(params))
        return self._send_subs([_Sub.spi(frame)])[0][2:]

    def begin_bulk(self) -> None:
        """Queue writes from now on; ``flush()`` sends them as one MULTIPLE_SPI."""
        if self._bulk is None:
            self._bulk = []

    def flush(self) -> None:
        """Send the queued writes (if any) and leave bulk mode."""
        queued, self._bulk = self._bulk, None
        if queued:
            self._multiple_spi(queued)

    def close(self) -> None:
        """Reset the chip, then close the serial port (loragw_usb.c lgw_usb_close). Idempotent.

        The MCU's reset sequence leaves the SX1302 as a reset does: firmware stopped, nothing
        armed to transmit. A failing MCU does not keep the port open.
        """
        if self._closed:
            return
        try:
            self._bulk = None
            self.reset()
        except (DriverError, OSError) as exc:
            LOGGER.warning("%s: reset before close failed: %s", self.url, exc)
        finally:
            self._closed = True
            self._port.close()

    # --- internals ---------------------------------------------------------------------------

    def _check_burst(self, length: int) -> None:
        if not 0 < length <= self.max_burst:
            raise ValueError(f"burst of {length} bytes; the USB transport moves 1..{MAX_BURST}")

    def _submit(self, sub: _Sub) -> None:
        if self._bulk is None:
            self._multiple_spi([sub])
            return
        # loragw_mcu.c spi_req_bulk_insert: at most 255 requests and 4096 bytes per flush
        queued = sum(len(s.body) + 1 for s in self._bulk)
        if len(self._bulk) >= BULK_MAX_REQUESTS or queued + len(sub.body) + 1 > BULK_MAX_BYTES:
            self._multiple_spi(self._bulk)
            self._bulk = []
        self._bulk.append(sub)

    def _send_subs(self, subs: list[_Sub]) -> list[bytes]:
        """Send read/write sub-requests in as few MULTIPLE_SPI requests as fit; their MISO."""
        out: list[bytes] = []
        group: list[_Sub] = []
        size = 0
        for sub in subs:
            # request and answer both carry the frame: the larger bounds the group
            if group and (
                len(group) >= BULK_MAX_REQUESTS or size + len(sub.body) + 1 > BULK_MAX_BYTES
            ):
                out += self._multiple_spi(group)
                group, size = [], 0
            group.append(sub)
            size += len(sub.body) + 1
        if group:
            out += self._multiple_spi(group)
        return out

    def _multiple_spi(self, subs: list[_Sub]) -> list[bytes]:
        """One MULTIPLE_SPI request; the MISO frame of each read/write sub-request."""
        request = bytearray()
        for sub_id, sub in enumerate(subs):
            request += bytes((sub_id & 0xFF,)) + sub.body
        answer = self._request(self.orders.multiple_spi, bytes(request))
        results: list[bytes] = []
        pos = 0
        for sub_id, sub in enumerate(subs):
            if len(answer) < pos + 5:
                raise TransportError(f"MULTIPLE_SPI answer truncated at sub-request {sub_id}")
            got_id, kind, status = answer[pos], answer[pos + 1], answer[pos + 2]
            if status != 0:
                name = SUB_STATUS.get(status, f"status {status}")
                raise TransportError(f"MULTIPLE_SPI sub-request {sub_id} failed: {name}")
            if kind == SUB_RMW and sub.kind == SUB_RMW and got_id == sub_id & 0xFF:
                pos += 5  # [id, type, status, value read, value written]
                continue
            size = struct.unpack_from(">H", answer, pos + 3)[0]
            if got_id != sub_id & 0xFF or kind != sub.kind or size != sub.frame_size:
                raise TransportError(
                    f"MULTIPLE_SPI sub-answer {sub_id} malformed (id {got_id}, type {kind}, "
                    f"size {size}, expected {sub.frame_size})"
                )
            results.append(bytes(answer[pos + 5 : pos + 5 + size]))
            pos += 5 + size
        return results

    def _request(self, order: int, payload: bytes) -> bytes:
        if len(payload) + 4 > MAX_COMMAND:
            raise ValueError(f"MCU request of {len(payload) + 4} bytes exceeds {MAX_COMMAND}")
        if self._closed:
            raise TransportError(f"{self.url} is closed")
        req_id = self._rng.randrange(255)
        header = bytes((req_id,)) + struct.pack(">H", len(payload)) + bytes((order,))
        try:
            if self._stale:  # an earlier request timed out: its ack may still be in the buffer
                self._port.reset_input_buffer()
                self._stale = False
            self._port.write(header + payload)
            ack, body = self._read_ack()
            for _ in range(MAX_STALE_ACKS):
                if ack[0] == req_id:
                    break
                # the bridge echoes the request id; another id is a late ack of an older request
                LOGGER.warning("discarding a stale MCU ack (id %d, expected %d)", ack[0], req_id)
                ack, body = self._read_ack()
            else:
                raise TransportError(f"MCU acks do not match request id {req_id}")
        except TransportTimeout:
            self._stale = True
            raise
        except OSError as exc:  # includes serial.SerialException
            self._stale = True
            raise TransportError(f"{self.url}: serial I/O failed: {exc}") from exc
        if ack[3] == ACK_ERROR:
            raise TransportError(f"MCU refused order 0x{order:02x} (error ack)")
        if ack[3] != order | 0x40:
            raise TransportError(
                f"MCU answered order 0x{order:02x} with ack 0x{ack[3]:02x}, "
                f"expected 0x{order | 0x40:02x}"
            )
        return body

    def _read_ack(self) -> tuple[bytes, bytes]:
        ack = self._read_exact(4)
        return ack, self._read_exact(struct.unpack(">H", ack[1:3])[0])

    def _read_exact(self, size: int) -> bytes:
        """Read exactly ``size`` bytes; pyserial may return fewer per call."""
        data = bytearray()
        deadline = time.monotonic() + self._timeout_s
        while len(data) < size:
            chunk = self._port.read(size - len(data))
            if chunk:
                data += chunk
            elif time.monotonic() > deadline:
                raise TransportTimeout(
                    f"{self.url}: MCU sent {len(data)} of {size} bytes within {self._timeout_s} s"
                )
        return bytes(data)
