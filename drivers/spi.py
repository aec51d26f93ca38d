"""SPI transport: the SX1302 frames of sx1302_hal ``loragw_spi.c`` over a py-spidev device.

Every access is one ``xfer2`` (chip select held for the whole frame), mux target byte first
(ref/sx1302.md §1):

    write    [mux, 0x80 | A14..8, A7..0, data...]
    read     [mux, A14..8, A7..0, 0x00 (dummy), N placeholders]   -> MISO[4:]
    command  [mux, opcode, params..., placeholders]                -> MISO[2:]

``spidev`` is imported only when a device is opened, so CI without it still imports ``drivers``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from drivers.errors import TransportError, UnknownTransportError
from drivers.transport import Transport

LOGGER = logging.getLogger(__name__)

#: sx1302_hal loragw_spi.h: SPI_SPEED and LGW_BURST_CHUNK
DEFAULT_SPEED_HZ = 2_000_000
SPI_BURST_CHUNK = 1024
_WRITE = 0x80
_ADDR_MASK = 0x7FFF


def _default_factory() -> Any:
    try:
        import spidev  # optional package: imported on first open only
    except ImportError as exc:
        raise UnknownTransportError(
            "the spi:// transport needs the 'spidev' package (pip install spidev)"
        ) from exc
    return spidev.SpiDev()


def parse_spi_url(url: str) -> tuple[str, int, int]:
    """``spi:///dev/spidevB.D`` -> (path, bus B, device D)."""
    path = urlsplit(url).path
    name = path.rsplit("/", 1)[-1]
    try:
        bus, dev = name.removeprefix("spidev").split(".")
        return path, int(bus), int(dev)
    except ValueError:
        raise TransportError(
            f"bad SPI URL {url!r}: expected spi:///dev/spidevB.D, e.g. spi:///dev/spidev0.0"
        ) from None


class SpiTransport(Transport):
    """Register access to an SX1302 through a Linux spidev device."""

    max_burst = SPI_BURST_CHUNK

    def __init__(
        self,
        url: str,
        *,
        spidev_factory: Callable[[], Any] | None = None,
        speed_hz: int = DEFAULT_SPEED_HZ,
    ) -> None:
        self.url = url
        if spidev_factory is not None and urlsplit(url).scheme != "spi":
            # a fake device behind another scheme (sim://): the framing is the same, no bus
            path, bus, dev = url, 0, 0
        else:
            path, bus, dev = parse_spi_url(url)
        self._spi: Any = (spidev_factory or _default_factory)()
        try:
            self._spi.open(bus, dev)
        except FileNotFoundError as exc:
            raise TransportError(
                f"cannot open {path}: no such device; is SPI enabled "
                "(raspi-config / dtparam=spi=on) and is this the concentrator's bus?"
            ) from exc
        except PermissionError as exc:
            raise TransportError(
                f"cannot open {path}: permission denied; add the user to the 'spi' group"
            ) from exc
        except OSError as exc:
            raise TransportError(f"cannot open {path}: {exc}") from exc
        self._spi.mode = 0
        self._spi.max_speed_hz = speed_hz
        self._spi.bits_per_word = 8
        self._closed = False

    def _xfer(self, frame: list[int]) -> list[int]:
        if self._closed:
            raise TransportError(f"{self.url}: transport is closed")
        try:
            miso = self._spi.xfer2(frame)
        except OSError as exc:
            raise TransportError(f"{self.url}: SPI transfer failed: {exc}") from exc
        if len(miso) != len(frame):
            raise TransportError(
                f"{self.url}: SPI transfer returned {len(miso)} bytes for a {len(frame)}-byte frame"
            )
        return miso

    def _check_burst(self, length: int) -> None:
        if not 0 < length <= self.max_burst:
            raise ValueError(f"burst length must be 1..{self.max_burst}, got {length}")

    def read(self, target: int, address: int, length: int) -> bytes:
        """Burst-read ``length`` bytes at ``address`` of ``target``."""
        self._check_burst(length)
        address &= _ADDR_MASK
        frame = [int(target), address >> 8, address & 0xFF, 0x00, *bytes(length)]
        return bytes(self._xfer(frame)[4:])

    def write(self, target: int, address: int, data: bytes) -> None:
        """Burst-write ``data`` at ``address`` of ``target``."""
        self._check_burst(len(data))
        address &= _ADDR_MASK
        self._xfer([int(target), _WRITE | (address >> 8), address & 0xFF, *data])

    def command(self, target: int, opcode: int, params: bytes, reply_length: int = 0) -> bytes:
        """SX1250 command through the mux; returns the bytes clocked back after the opcode."""
        frame = [int(target), opcode & 0xFF, *params, *bytes(reply_length)]
        return bytes(self._xfer(frame)[2:])

    def close(self) -> None:
        """Release the spidev device. Idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            self._spi.close()
        except OSError as exc:  # closing a vanished device is not worth an exception
            LOGGER.warning("closing %s failed: %s", self.url, exc)
