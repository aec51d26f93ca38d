"""The transport seam: register-level access to one concentrator, addressed by mux target.

This is the line Semtech's HAL draws in ``loragw_com``. A transport moves single bursts; chunking
larger memory accesses lives once, above it, in ``drivers.sx1302``. Read-modify-write of a bit
field (``modify``), several reads at once (``read_many``) and write batching (``begin_bulk`` ..
``flush``) have generic defaults here that only USB overrides, because its MCU does them in one
round trip (``lgw_com_rmw``, bulk mode). Implementations are picked by URL through a lazy
registry, so importing this module never imports ``spidev`` or ``serial``:

    spi:///dev/spidev0.0        Corecell over SPI (spidev)
    usb:///dev/ttyACM0          Corecell USB: the STM32 bridge's request/ack protocol (pyserial)
    sim://?scenario=PATH        the simulated SX1302 (drivers.sim), running the real SPI framing
    spy+<url>                   any of the above, every access appended to a JSONL trace
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from enum import IntEnum
from typing import Any
from urllib.parse import urlsplit

from drivers.errors import UnknownTransportError
from drivers.lock import DeviceLock, device_of, release_on_close


class Target(IntEnum):
    """Mux target byte that starts every SPI frame (sx1302_hal inc/loragw_com.h)."""

    SX1302 = 0x00
    RADIO_A = 0x01
    RADIO_B = 0x02


class Transport(ABC):
    """Register-level access to one concentrator.

    ``read`` and ``write`` move one burst of at most ``max_burst`` bytes starting at ``address``;
    the chip decides whether the address advances (it does not at the RX FIFO port 0x4000).
    ``command`` sends an SX1250 command through the SX1302 mux and returns the bytes the radio
    clocked back after the opcode (the first is the SX126x status byte).
    """

    #: largest burst a single ``read``/``write`` may carry (1024 on SPI, 4096 on USB)
    max_burst: int = 1024
    #: the URL this transport was opened with, for logs and diagnostics
    url: str = ""
    #: True once a simulated source has played its whole scenario and its RX FIFO is empty;
    #: real hardware never sets it
    exhausted: bool = False
    #: True where ``read_many`` costs what one ``read`` costs (USB: one round trip for all), so a
    #: paired read is sent whole; on SPI every read is a transaction of its own
    batched_reads: bool = False

    @abstractmethod
    def read(self, target: int, address: int, length: int) -> bytes:
        """Burst-read ``length`` bytes at ``address`` of ``target``."""

    @abstractmethod
    def write(self, target: int, address: int, data: bytes) -> None:
        """Burst-write ``data`` at ``address`` of ``target``."""

    @abstractmethod
    def command(self, target: int, opcode: int, params: bytes, reply_length: int = 0) -> bytes:
        """Send SX1250 ``opcode`` with ``params`` then ``reply_length`` placeholder bytes.

        Returns the ``len(params) + reply_length`` bytes clocked back after the opcode.
        """

    def read_many(self, requests: Sequence[tuple[int, int, int]]) -> list[bytes]:
        """Several ``(target, address, length)`` burst reads, in order.

        Default: one ``read`` each. USB sends them as one MULTIPLE_SPI request (one round trip).
        """
        return [self.read(target, address, length) for target, address, length in requests]

    def modify(self, target: int, address: int, mask: int, value: int) -> None:
        """Set the ``mask`` bits of the byte at ``address`` to ``value`` (already shifted).

        The read-modify-write of narrow register fields. Default: a read, then a write. USB
        overrides it with the MCU's own read-modify-write sub-request (one request, no read
        round trip, queued in bulk mode).
        """
        current = self.read(target, address, 1)[0]
        self.write(target, address, bytes([(current & ~mask & 0xFF) | (value & mask)]))

    def reset(self) -> None:
        """Reset the concentrator (GPIO on SPI boards, the MCU on USB). Default: nothing to do."""
        return None

    def begin_bulk(self) -> None:
        """Batch writes from now on until ``flush()`` (USB bulk mode). Default: no batching."""
        return None

    def flush(self) -> None:
        """Send any batched writes (USB bulk mode). Default: writes are never batched."""
        return None

    @abstractmethod
    def close(self) -> None:
        """Release the bus. Idempotent."""

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# scheme -> "module:Class". Values are imported only when a URL with that scheme is opened.
_REGISTRY: dict[str, str] = {
    "spi": "drivers.spi:SpiTransport",
    "usb": "drivers.usb:UsbTransport",
    "sim": "drivers.sim:open_sim_transport",
}


def register_transport(scheme: str, target: str) -> None:
    """Register ``"module:callable"`` as the opener for ``scheme`` URLs."""
    _REGISTRY[scheme] = target


def transport_schemes() -> list[str]:
    """The URL schemes that can be opened (``spy+`` may prefix any of them)."""
    return sorted(_REGISTRY)


def open_transport(url: str, *, trace: str | None = None, **options: Any) -> Transport:
    """Open the transport named by ``url``; with ``trace`` (or a ``spy+`` URL) record every access.

    Extra ``options`` go to the transport's opener (the simulator takes its scenario and
    callbacks this way). Unknown schemes and missing optional packages raise
    ``UnknownTransportError`` naming what to install. A device node is locked while its
    transport is open: ``DeviceBusy`` when another process has it (``drivers.lock``).
    """
    scheme = urlsplit(url).scheme
    spy = scheme.startswith("spy+")
    if spy:
        url = url[len("spy+") :]
        scheme = scheme[len("spy+") :]
    try:
        module_name, attr = _REGISTRY[scheme].split(":")
    except KeyError:
        known = ", ".join(f"{s}://" for s in transport_schemes())
        raise UnknownTransportError(
            f"unknown concentrator URL scheme {scheme!r} in {url!r}; expected one of {known}"
        ) from None
    try:
        opener = getattr(importlib.import_module(module_name), attr)
    except ImportError as exc:
        raise UnknownTransportError(
            f"cannot open {url!r}: {exc.name or exc} is not installed "
            f"(pip install {'spidev' if scheme == 'spi' else 'pyserial'})"
        ) from exc
    device = device_of(url)  # one process per concentrator: DeviceBusy when another holds it
    lock = DeviceLock.acquire(device) if device else None
    try:
        transport: Transport = opener(url, **options)
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    if lock is not None:
        release_on_close(transport, lock)
    if spy or trace:
        from drivers.spy import SpyTransport

        transport = SpyTransport(transport, trace or "transport-trace.jsonl")
    return transport
