"""In-memory state of one backend's FIFO inside the spool, and the drain-rate limiter.

No locking here: ``edge_agent.store.spool.Spool`` holds its lock around every use.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(slots=True)
class MemoryRecord:
    """An uplink in the memory tail: appended but not committed to disk (yet)."""

    seq: int
    backend: str
    payload: bytes
    received_at: float
    buffered: bool
    appended_mono: float
    size: int


@dataclass(slots=True)
class BackendState:
    """Where one backend's pending records are: the memory tail, the disk, or handed out."""

    name: str
    cond: threading.Condition
    limiter: DrainLimiter | None = None
    #: uncommitted records in seq order (insertion order of the dict)
    tail: dict[int, MemoryRecord] = field(default_factory=dict)
    #: tail seqs not yet handed out since the last rewind, oldest first (stale entries skipped)
    untaken: deque[int] = field(default_factory=deque)
    #: seq -> counted size of every record handed out and not yet acked (or dropped)
    inflight: dict[int, int] = field(default_factory=dict)
    #: highest seq handed out since the last rewind; disk records above it are takeable
    cursor: int = 0
    tail_bytes: int = 0
    disk_count: int = 0
    disk_bytes: int = 0
    disk_max_seq: int = 0
    #: records with seq <= this were found on disk at open: they waited for a restart
    restored_max_seq: int = 0
    spooled: int = 0
    delivered: int = 0
    dropped: int = 0

    def pending(self) -> int:
        """Records not yet acked (taken or not)."""
        return self.disk_count + len(self.tail)

    def bytes(self) -> int:
        """Counted bytes of the pending records."""
        return self.disk_bytes + self.tail_bytes

    def next_untaken(self) -> MemoryRecord | None:
        """The oldest tail record not handed out yet, skipping ones acked or dropped meanwhile."""
        while self.untaken:
            record = self.tail.get(self.untaken[0])
            if record is not None:
                return record
            self.untaken.popleft()
        return None

    def takeable(self) -> bool:
        """True when take() would find a record (disk above the cursor, or an untaken tail)."""
        return self.cursor < self.disk_max_seq or self.next_untaken() is not None


class DrainLimiter:
    """Token bucket capping how many records per second a backend may take (drain_max_per_s)."""

    def __init__(self, rate_per_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate_per_s = rate_per_s
        self.capacity = max(1.0, rate_per_s)
        self._clock = clock
        self._tokens = self.capacity
        self._stamp = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate_per_s)
        self._stamp = now

    def available(self) -> int:
        """Whole records that may be taken now."""
        self._refill()
        return int(self._tokens)

    def consume(self, count: int) -> None:
        """Spend ``count`` tokens (records handed out)."""
        self._tokens -= count

    def seconds_to_next(self) -> float:
        """Time until one more record may be taken."""
        self._refill()
        return 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.rate_per_s
