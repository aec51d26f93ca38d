"""A stand-in for systemd's side of the notify protocol: a Unix datagram socket whose path goes
into ``NOTIFY_SOCKET``. Tests start a daemon with ``harness.environ()`` and read its messages."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path


class NotifyHarness:
    """Receives ``sd_notify`` datagrams; each message is a dict of its ``KEY=value`` lines."""

    def __init__(self, path: Path, *, watchdog_usec: int | None = None) -> None:
        self.path = path
        self.watchdog_usec = watchdog_usec
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.messages: list[dict[str, str]] = []

    def environ(self) -> dict[str, str]:
        """The environment of a child started as a Type=notify service with WatchdogSec."""
        env = dict(os.environ, NOTIFY_SOCKET=str(self.path))
        env.pop("WATCHDOG_PID", None)  # systemd sets it to the child's pid; absent means "you"
        if self.watchdog_usec:
            env["WATCHDOG_USEC"] = str(self.watchdog_usec)
        return env

    def receive(self, timeout: float) -> dict[str, str] | None:
        """The next message, or None after ``timeout`` seconds."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(4096)
        except TimeoutError:
            return None
        message = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
        self.messages.append(message)
        return message

    def wait_for(self, key: str, timeout: float = 10.0) -> dict[str, str]:
        """Read messages until one carries ``key``; AssertionError after ``timeout``."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            message = self.receive(left)
            if message and key in message:
                return message
        raise AssertionError(f"no {key} within {timeout} s; got {self.messages}")

    def count(self, key: str, seconds: float) -> int:
        """How many messages carrying ``key`` arrive during ``seconds``."""
        deadline = time.monotonic() + seconds
        seen = 0
        while (left := deadline - time.monotonic()) > 0:
            message = self.receive(left)
            if message and key in message:
                seen += 1
        return seen

    def close(self) -> None:
        """Close and remove the socket."""
        self.sock.close()
        self.path.unlink(missing_ok=True)
