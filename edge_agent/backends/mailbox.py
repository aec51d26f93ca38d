"""A sender thread's inbox that its ``select()`` can wait on beside the network socket.

Other threads (the radio thread's new uplinks, the stats thread, command replies, stop) ``put``
events; the owner waits on ``fileno()`` together with its MQTT socket, so one ``select()`` wakes
for either. One byte is written per wake-up, not per event: a batch of uplinks routed in one
radio poll costs one ``write()`` and wakes the sender once.

``put`` appends, then writes a byte only when no wake-up is pending; ``drain`` reads the byte,
re-arms, then pops. An event put between the two is either popped by this drain or announced by
a fresh byte (a spurious wake-up at worst, never a lost one). The pipe is opened by the first
``fileno()`` and released by ``close()`` (the sender thread's end); events put while it is
closed are kept and drained by the next owner.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from typing import Any


class Mailbox:
    """Events from other threads plus a pipe whose read end becomes readable when one arrives."""

    def __init__(self) -> None:
        self._items: deque[Any] = deque()
        self._fds: tuple[int, int] | None = None
        self._signalled = False
        self._fd_lock = threading.Lock()  # a write never meets a closed (or reused) descriptor

    def fileno(self) -> int:
        """The pipe's read end (for ``select``), opened on first use."""
        with self._fd_lock:
            if self._fds is None:
                read_fd, write_fd = os.pipe()
                os.set_blocking(read_fd, False)
                os.set_blocking(write_fd, False)
                self._fds = (read_fd, write_fd)
                self._signalled = False
            return self._fds[0]

    def put(self, event: Any) -> None:
        """Queue ``event`` and wake the owner (any thread)."""
        self._items.append(event)
        if not self._signalled:
            self._signalled = True
            with self._fd_lock:
                if self._fds is not None:
                    try:
                        os.write(self._fds[1], b"\0")
                    except BlockingIOError:  # full: a wake-up is pending anyway
                        pass

    def drain(self) -> list[Any]:
        """Every queued event, oldest first (the owner's thread only)."""
        fds = self._fds
        if fds is not None:
            try:
                os.read(fds[0], 4096)
            except BlockingIOError:
                pass
        self._signalled = False
        items = []
        pop = self._items.popleft
        while self._items:
            items.append(pop())
        return items

    def __len__(self) -> int:
        return len(self._items)

    def close(self) -> None:
        """Release the pipe (the owner's thread; ``fileno()`` opens a new one)."""
        with self._fd_lock:
            fds, self._fds = self._fds, None
            if fds is not None:
                os.close(fds[0])
                os.close(fds[1])

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown
            pass
