"""systemd's notify protocol (sd_notify(3)) without libsystemd: READY, WATCHDOG, STOPPING, STATUS.

The service manager passes a Unix datagram socket in ``NOTIFY_SOCKET`` (a path, or an abstract
socket when it starts with ``@``) and, with ``WatchdogSec=``, the interval in ``WATCHDOG_USEC``
(and ``WATCHDOG_PID``). Outside systemd every call is a no-op returning False, so the daemon runs
the same way from a shell.

``Watchdog`` pings ``WATCHDOG=1`` every half interval, but only while a health callable says the
daemon's threads are healthy: a hung radio thread stops the pings and systemd restarts the unit.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Mapping

LOGGER = logging.getLogger(__name__)


def notify_socket_address(environ: Mapping[str, str] | None = None) -> str | None:
    """The address in ``NOTIFY_SOCKET`` (``@name`` becomes the abstract ``\\0name``), or None."""
    env = os.environ if environ is None else environ
    address = env.get("NOTIFY_SOCKET", "")
    if not address:
        return None
    if address.startswith("@"):
        return "\0" + address[1:]
    if address.startswith("/"):
        return address
    LOGGER.warning("ignoring NOTIFY_SOCKET %r: neither a path nor an abstract socket", address)
    return None


def notify(*fields: str, environ: Mapping[str, str] | None = None) -> bool:
    """Send ``fields`` (``"READY=1"``, ``"STATUS=..."``) in one datagram; False outside systemd."""
    address = notify_socket_address(environ)
    if address is None:
        return False
    message = "\n".join(fields).encode()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(message)
    except OSError as exc:
        LOGGER.warning("sd_notify %s failed: %s", fields[0] if fields else "", exc)
        return False
    return True


def ready(status: str | None = None, *, environ: Mapping[str, str] | None = None) -> bool:
    """Tell systemd start-up is complete (``READY=1``, with an optional STATUS line)."""
    return notify("READY=1", *([f"STATUS={status}"] if status else []), environ=environ)


def stopping(status: str | None = None, *, environ: Mapping[str, str] | None = None) -> bool:
    """Tell systemd the daemon is shutting down (``STOPPING=1``)."""
    return notify("STOPPING=1", *([f"STATUS={status}"] if status else []), environ=environ)


def reloading(status: str | None = None, *, environ: Mapping[str, str] | None = None) -> bool:
    """Tell systemd a configuration reload started (``RELOADING=1``); send ``ready()`` after."""
    return notify("RELOADING=1", *([f"STATUS={status}"] if status else []), environ=environ)


def status(text: str, *, environ: Mapping[str, str] | None = None) -> bool:
    """Set the one-line status ``systemctl status`` shows."""
    return notify(f"STATUS={text}", environ=environ)


def watchdog_ping() -> bool:
    """Send one ``WATCHDOG=1`` keep-alive."""
    return notify("WATCHDOG=1")


def watchdog_interval_s(environ: Mapping[str, str] | None = None) -> float | None:
    """Half of ``WATCHDOG_USEC`` in seconds (how often to ping), or None when no watchdog is set.

    Honours ``WATCHDOG_PID``: when it names another process, the watchdog is not ours.
    """
    env = os.environ if environ is None else environ
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    if usec <= 0:
        return None
    pid = env.get("WATCHDOG_PID")
    if pid and pid.isdigit() and int(pid) != os.getpid():
        return None
    return usec / 2 / 1_000_000


class Watchdog:
    """Pings ``WATCHDOG=1`` every half ``WATCHDOG_USEC`` while ``healthy()`` returns True.

    ``start()`` does nothing when systemd set no watchdog. ``poll_once()`` is the single step
    (ping if healthy) that the thread repeats; tests can call it directly.
    """

    def __init__(
        self,
        healthy: Callable[[], bool],
        *,
        interval_s: float | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._healthy = healthy
        self._environ = environ
        self.interval_s = interval_s if interval_s is not None else watchdog_interval_s(environ)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.pings = 0
        self.missed = 0

    @property
    def enabled(self) -> bool:
        """True when systemd asked for keep-alives."""
        return self.interval_s is not None

    def poll_once(self) -> bool:
        """Ping once if the daemon is healthy; returns whether a ping was sent."""
        try:
            ok = bool(self._healthy())
        except Exception:  # a broken health check must read as unhealthy, never kill the pinger
            LOGGER.exception("watchdog health check raised")
            ok = False
        if not ok:
            self.missed += 1
            LOGGER.warning("watchdog: daemon unhealthy, keep-alive withheld (%d)", self.missed)
            return False
        if notify("WATCHDOG=1", environ=self._environ):
            self.pings += 1
            return True
        return False

    def start(self) -> None:
        """Start the pinger thread (no-op without a watchdog or when already running)."""
        if not self.enabled or (self._thread and self._thread.is_alive()):
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sd-watchdog", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        assert self.interval_s is not None
        self.poll_once()
        while not self._stop.wait(self.interval_s):
            self.poll_once()

    def stop(self) -> None:
        """Stop the pinger thread. Idempotent."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
