"""One backend's view of the spool: the ``UplinkStore`` a backend's sender drains."""

from __future__ import annotations

from typing import Protocol

from edge_agent.store.protocol import QueuedUplink

__all__ = ["BackendQueues", "SpoolStore"]


class BackendQueues(Protocol):
    """Every backend's FIFO by name: what ``edge_agent.store.spool.Spool`` offers a view."""

    @property
    def closed(self) -> bool: ...
    def append(self, backend: str, payload: bytes, received_at: float, buffered: bool) -> int: ...
    def take(self, backend: str, limit: int) -> list[QueuedUplink]: ...
    def ack(self, backend: str, seq: int) -> None: ...
    def rewind(self, backend: str) -> None: ...
    def wait(self, backend: str, timeout: float) -> bool: ...
    def pending(self, backend: str) -> int: ...
    def backend_stats(self, backend: str) -> dict[str, float | int]: ...
    def flush(self) -> int: ...


class SpoolStore:
    """One backend's FIFO in the spool; implements ``edge_agent.store.protocol.UplinkStore``."""

    def __init__(self, spool: BackendQueues, backend: str) -> None:
        self.spool = spool
        self.backend = backend

    def append(self, payload: bytes, *, received_at: float, buffered: bool) -> int:
        """Store an uplink in the memory tail; returns its sequence number."""
        return self.spool.append(self.backend, payload, received_at, buffered)

    def take(self, limit: int) -> list[QueuedUplink]:
        """Up to ``limit`` records not handed out since the last rewind, oldest first."""
        return self.spool.take(self.backend, limit)

    def ack(self, seq: int) -> None:
        """The backend confirmed ``seq``: it leaves the spool (unwritten, if still in memory)."""
        self.spool.ack(self.backend, seq)

    def rewind(self) -> None:
        """Make every taken-but-unacked record takeable again, oldest first."""
        self.spool.rewind(self.backend)

    def wait(self, timeout: float) -> bool:
        """Block until a record can be taken (within the drain rate) or ``timeout`` passed."""
        return self.spool.wait(self.backend, timeout)

    def pending(self) -> int:
        """Records not yet acked (taken or not)."""
        return self.spool.pending(self.backend)

    def stats(self) -> dict[str, float | int]:
        """This backend's pending, bytes, oldest_age_s, dropped, delivered, spooled."""
        return self.spool.backend_stats(self.backend)

    def close(self) -> None:
        """Commit the memory tail (the spool itself is closed by its owner)."""
        if not self.spool.closed:
            self.spool.flush()
