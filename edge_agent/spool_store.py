"""One backend's view of the spool (the ``UplinkStore`` protocol); re-exports ``mark_buffered``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from edge_agent.backends.chirpstack_codec import BUFFERED_MARK, mark_buffered
from edge_agent.uplink_queue import QueuedUplink

__all__ = ["BUFFERED_MARK", "SpoolStore", "mark_buffered"]

if TYPE_CHECKING:
    from edge_agent.spool import Spool


class SpoolStore:
    """One backend's FIFO in the spool; implements ``edge_agent.uplink_queue.UplinkStore``."""

    def __init__(self, spool: Spool, backend: str) -> None:
        self.spool = spool
        self.backend = backend

    def append(self, payload: bytes, *, received_at: float, buffered: bool) -> int:
        """Store an uplink in the memory tail; returns its sequence number."""
        return self.spool._append(self.backend, payload, received_at, buffered)

    def take(self, limit: int) -> list[QueuedUplink]:
        """Up to ``limit`` records not handed out since the last rewind, oldest first."""
        return self.spool._take(self.backend, limit)

    def ack(self, seq: int) -> None:
        """The backend confirmed ``seq``: it leaves the spool (unwritten, if still in memory)."""
        self.spool._ack(self.backend, seq)

    def rewind(self) -> None:
        """Make every taken-but-unacked record takeable again, oldest first."""
        self.spool._rewind(self.backend)

    def wait(self, timeout: float) -> bool:
        """Block until a record can be taken (within the drain rate) or ``timeout`` passed."""
        return self.spool._wait(self.backend, timeout)

    def pending(self) -> int:
        """Records not yet acked (taken or not)."""
        with self.spool._lock:
            return self.spool._state(self.backend).pending()

    def stats(self) -> dict[str, float | int]:
        """This backend's pending, bytes, oldest_age_s, dropped, delivered, spooled."""
        with self.spool._lock:
            return self.spool._backend_stats(self.spool._state(self.backend))

    def close(self) -> None:
        """Commit the memory tail (the spool itself is closed by its owner)."""
        if not self.spool._closed:
            self.spool.flush()
