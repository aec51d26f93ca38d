"""The store a backend's sender thread drains: the seam between a backend and the spool.

Each backend owns one ``UplinkStore``. The radio side appends uplinks the backend encoded (the
store never looks inside them); the sender takes them in FIFO order, sends them, and acks each
one when its server confirmed it (MQTT PUBACK, Semtech PUSH_ACK).
After a reconnect the sender calls ``rewind`` so that everything taken but never acked is taken
again, oldest first: delivery is at-least-once and strictly ordered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class QueuedUplink:
    """One uplink waiting for its backend's confirmation."""

    #: increasing sequence number within this store
    seq: int
    #: the uplink as its backend encoded it at reception (opaque to the store)
    payload: bytes
    #: reception time, seconds since the Unix epoch
    received_at: float
    #: True when the uplink could not be sent at once (backend disconnected, or a backlog)
    buffered: bool


class UplinkStore(Protocol):
    """FIFO of uplinks for one backend, acknowledged one by one."""

    def append(self, payload: bytes, *, received_at: float, buffered: bool) -> int:
        """Store an uplink; returns its sequence number. Never blocks the radio thread for long."""
        ...

    def take(self, limit: int) -> list[QueuedUplink]:
        """Hand out up to ``limit`` records not handed out since the last rewind, oldest first."""
        ...

    def ack(self, seq: int) -> None:
        """The backend confirmed ``seq``: it leaves the store for good."""
        ...

    def rewind(self) -> None:
        """Make every taken-but-unacked record takeable again (after a reconnect)."""
        ...

    def wait(self, timeout: float) -> bool:
        """Block until a record can be taken or ``timeout`` seconds passed; True if one can."""
        ...

    def pending(self) -> int:
        """Records not yet acked (taken or not)."""
        ...

    def stats(self) -> dict[str, float | int]:
        """Counters: at least pending, bytes, oldest_age_s, dropped, delivered, spooled."""
        ...

    def close(self) -> None:
        """Persist what must be persisted and release resources. Idempotent."""
        ...
