"""A bounded in-memory ``UplinkStore``: what a backend drains until the durable spool lands.

When full, the oldest record goes first (counted in ``dropped``): newer traffic is worth more
to a LoRaWAN server than a stale backlog, and the radio thread must never block.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from edge_agent.store.protocol import QueuedUplink

LOGGER = logging.getLogger(__name__)


class MemoryUplinkStore:
    """FIFO of at most ``max_records`` uplinks, acknowledged one by one (not durable)."""

    def __init__(self, max_records: int = 10_000, *, clock: Callable[[], float] = time.time):
        if max_records < 1:
            raise ValueError(f"max_records must be >= 1, got {max_records}")
        self.max_records = max_records
        self._clock = clock
        self._cond = threading.Condition()
        self._records: OrderedDict[int, QueuedUplink] = OrderedDict()
        #: seqs handed out by ``take`` since the last rewind
        self._taken: set[int] = set()
        self._next_seq = 1
        self._bytes = 0
        self._dropped = 0
        self._delivered = 0
        self._closed = False

    def append(self, payload: bytes, *, received_at: float, buffered: bool) -> int:
        """Store an uplink, dropping the oldest when full; returns its sequence number."""
        with self._cond:
            seq = self._next_seq
            self._next_seq += 1
            self._records[seq] = QueuedUplink(seq, bytes(payload), received_at, buffered)
            self._bytes += len(payload)
            while len(self._records) > self.max_records:
                old_seq, old = self._records.popitem(last=False)
                self._taken.discard(old_seq)
                self._bytes -= len(old.payload)
                self._dropped += 1
                if self._dropped == 1 or self._dropped % 1000 == 0:
                    LOGGER.warning(
                        "uplink queue full (%d records): dropped the oldest, %d dropped so far",
                        self.max_records,
                        self._dropped,
                    )
            self._cond.notify_all()
            return seq

    def take(self, limit: int) -> list[QueuedUplink]:
        """Up to ``limit`` records not handed out since the last rewind, oldest first."""
        out: list[QueuedUplink] = []
        with self._cond:
            for seq, record in self._records.items():
                if len(out) >= limit:
                    break
                if seq not in self._taken:
                    self._taken.add(seq)
                    out.append(record)
        return out

    def ack(self, seq: int) -> None:
        """``seq`` was confirmed: it leaves the store. Unknown (dropped) seqs are ignored."""
        with self._cond:
            record = self._records.pop(seq, None)
            self._taken.discard(seq)
            if record is not None:
                self._bytes -= len(record.payload)
                self._delivered += 1
            self._cond.notify_all()

    def rewind(self) -> None:
        """Every taken-but-unacked record becomes takeable again, in the original order."""
        with self._cond:
            self._taken.clear()
            self._cond.notify_all()

    def wait(self, timeout: float) -> bool:
        """Block until a record can be taken or ``timeout`` passed; True if one can."""
        with self._cond:
            return (
                self._cond.wait_for(
                    lambda: self._closed or len(self._records) > len(self._taken), timeout
                )
                and not self._closed
            )

    def wait_empty(self, timeout: float) -> bool:
        """Block until every record is acked or ``timeout`` passed; True if empty."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._records, timeout)

    def pending(self) -> int:
        """Records not yet acked."""
        with self._cond:
            return len(self._records)

    def stats(self) -> dict[str, float | int]:
        """pending, bytes, oldest_age_s, dropped, delivered, spooled (always 0 here)."""
        with self._cond:
            oldest = next(iter(self._records.values()), None)
            age = max(0.0, self._clock() - oldest.received_at) if oldest else 0.0
            return {
                "pending": len(self._records),
                "bytes": self._bytes,
                "oldest_age_s": round(age, 3),
                "dropped": self._dropped,
                "delivered": self._delivered,
                "spooled": 0,
            }

    def close(self) -> None:
        """Wake waiters; the records are lost (nothing is durable here). Idempotent."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
