"""One process per concentrator: an exclusive ``flock`` on the device node while it is open.

``open_transport`` takes the lock before it opens an ``spi://`` or ``usb://`` device and lets it
go when the transport closes, so the daemon holds it for as long as its radio has the device and
``edge-agent diag`` (or a second daemon) gets ``DeviceBusy`` instead of resetting a chip in use.
The lock is on the device node itself (``/dev/spidev0.0``, ``/dev/ttyACM0``): no lock file to go
stale, no directory to create under ``ProtectSystem=strict``, and whoever may open the device may
take it. ``flock`` locks belong to an open file description, so the kernel drops them when the
holder dies, even by SIGKILL. ``sim://`` has no device node and takes no lock.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
from typing import Any
from urllib.parse import urlsplit

from drivers.errors import DeviceBusy

LOGGER = logging.getLogger(__name__)

LOCKED_SCHEMES = ("spi", "usb")


def device_of(url: str) -> str | None:
    """The device node an ``spi://`` or ``usb://`` URL opens (``spy+`` stripped), else None."""
    parts = urlsplit(url)
    scheme = parts.scheme.removeprefix("spy+")
    return parts.path or None if scheme in LOCKED_SCHEMES else None


class DeviceLock:
    """An exclusive, non-blocking ``flock`` on one device node; ``release`` is idempotent."""

    def __init__(self, path: str, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, path: str) -> DeviceLock | None:
        """Lock ``path``; None when it cannot be opened (the transport then reports why).

        Raises ``DeviceBusy`` when another open file description holds the lock.
        """
        try:
            # O_NONBLOCK: never wait for a tty's carrier; O_NOCTTY: never become its controller
            fd = os.open(path, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as exc:
            LOGGER.debug("no lock on %s: %s", path, exc)
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise DeviceBusy(
                    f"{path} is in use by another process (a running edge-agent, diag or "
                    "packet forwarder holds its lock)"
                ) from None
            LOGGER.debug("no lock on %s: %s", path, exc)
            return None
        return cls(path, fd)

    @property
    def held(self) -> bool:
        """True until ``release``."""
        return self._fd is not None

    def release(self) -> None:
        """Drop the lock (closing the descriptor drops it). Idempotent."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


def is_locked(path: str) -> bool:
    """True when another process holds the lock on ``path`` (tries it and lets go at once)."""
    try:
        lock = DeviceLock.acquire(path)
    except DeviceBusy:
        return True
    if lock is not None:
        lock.release()
    return False


def release_on_close(transport: Any, lock: DeviceLock) -> None:
    """Make ``transport.close()`` release ``lock`` after it closed the device."""
    close = transport.close

    def close_then_unlock() -> None:
        try:
            close()
        finally:
            lock.release()

    transport.close = close_then_unlock
