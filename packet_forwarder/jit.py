"""Just-in-time downlink queue, one per RF chain, on the concentrator's 32-bit µs counter.

Rules (sx1302_hal ``packet_forwarder/src/jitqueue.c``, ref/sx1302.md §7), with every time a
``count_us`` value compared modulo 2^32 so a schedule survives the counter wrap (every ~71.6 min):

- a downlink reserves ``[t - TX_PRE_DELAY_US, t + airtime]`` on its chain, ``t`` being the start
  on air; two reservations closer than ``TX_MARGIN_DELAY_US`` collide (COLLISION_PACKET);
- TOO_LATE when ``t - now <= TX_START_DELAY + TX_MARGIN_DELAY + TX_JIT_DELAY`` (42.5 ms), and
  also when ``t`` lies in the past (Semtech's unsigned test calls that TOO_EARLY; a signed
  difference says what happened);
- TOO_EARLY when ``t - now > TX_MAX_ADVANCE_US`` (512 s);
- immediate (Class C): scheduled at the first free slot, no earlier than ``now + 80 ms``
  (2 × TX_JIT_DELAY, as jitqueue.c) — either that instant or the first gap after queued packets;
- GPS epoch: converted to ``count_us`` by the time-reference callable; no reference ->
  GPS_UNLOCKED;
- a packet handed out by ``dequeue`` keeps its reservation until it has left the air (a
  busy-until per RF chain): a later request that would overlap it is COLLISION_PACKET, not
  accepted and then lost at dispatch because the chain is still emitting;
- QUEUE_FULL when 32 packets are already queued and the new one is otherwise acceptable: the
  timing checks and the collision check come first, because a late or colliding packet would be
  refused even with room to spare. Nothing queued is ever evicted to make room.

The radio thread calls ``dequeue(now)`` every few ms: it hands out the earliest packet whose
start is less than TX_JIT_DELAY away, so the chip is programmed ~30-40 ms ahead. Packets that
can no longer be programmed safely (start less than TX_MIN_LEAD_US away, or in the past) are
removed by ``expire(now)`` and reported, never programmed: a delayed trigger that is already
past when the writes land would fire one 32 MHz counter period (134 s) later.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from packet_forwarder.model import COUNT_US_MASK, Timing, TxStatus

LOGGER = logging.getLogger(__name__)

TX_START_DELAY_US = 1_500
TX_MARGIN_DELAY_US = 1_000
TX_JIT_DELAY_US = 40_000
#: a downlink reserves this much before its start (start delay + JIT pre-programming)
TX_PRE_DELAY_US = TX_START_DELAY_US + TX_JIT_DELAY_US
#: TOO_LATE at or below this much ahead of now (42.5 ms)
TX_TOO_LATE_US = TX_START_DELAY_US + TX_MARGIN_DELAY_US + TX_JIT_DELAY_US
#: TOO_EARLY beyond this much ahead of now: (3 beacon periods + 1) × 128 s
TX_MAX_ADVANCE_US = 512_000_000
#: hand a packet out no later than this before its start: the 1.5 ms start delay plus time for
#: the register writes of one send (a few ms over USB); the 10 ms radio tick always finds a
#: packet inside [TX_MIN_LEAD_US, TX_JIT_DELAY_US)
TX_MIN_LEAD_US = 10_000
#: Class C packets go no earlier than now + 80 ms
TX_IMMEDIATE_ASAP_US = 2 * TX_JIT_DELAY_US
JIT_QUEUE_MAX = 32

#: GPS time reference: µs since the GPS epoch -> count_us, or None while GPS is not locked
GpsToCountUs = Callable[[int], "int | None"]


def wrap_diff(a_us: int, b_us: int) -> int:
    """Signed ``a - b`` on the 32-bit µs counter, in [-2^31, 2^31)."""
    diff = (a_us - b_us) & COUNT_US_MASK
    return diff - (1 << 32) if diff >= (1 << 31) else diff


@dataclass(frozen=True, slots=True)
class JitEntry:
    """A packet to queue: when it starts on air, how long it lasts, and what to send."""

    timing: Timing
    #: Timing.DELAY: start on air, counter µs (context count_us + delay, already wrapped)
    count_us: int = 0
    #: Timing.GPS_EPOCH: start on air, µs since the GPS epoch
    gps_epoch_us: int | None = None
    #: reservation after the start: the HAL's rounded time on air (``airtime.time_on_air_us``)
    airtime_us: int = 0
    #: whatever the caller needs back at dequeue time (the scheduled TX)
    item: Any = None


@dataclass(frozen=True, slots=True)
class QueuedTx:
    """A packet in the queue, with its start resolved to the counter domain."""

    count_us: int
    airtime_us: int
    timing: Timing
    item: Any


class JitQueue:
    """The JIT queue of one RF chain; thread-safe (the daemon enqueues, the radio dequeues)."""

    def __init__(
        self, gps_to_count_us: GpsToCountUs | None = None, max_entries: int = JIT_QUEUE_MAX
    ) -> None:
        self._gps_to_count_us = gps_to_count_us
        self._max_entries = max_entries
        self._entries: list[QueuedTx] = []
        #: packets handed to the chip whose reservation has not ended yet (at most a few)
        self._on_air: list[QueuedTx] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def enqueue(self, now_us: int, entry: JitEntry) -> TxStatus:
        """Queue one packet; OK or the TxStatus saying why it was refused."""
        with self._lock:
            if entry.timing is Timing.IMMEDIATELY:
                count_us = self._first_free_slot(now_us, entry.airtime_us)
            elif entry.timing is Timing.GPS_EPOCH:
                resolved = self._resolve_gps(entry)
                if resolved is None:
                    return TxStatus.GPS_UNLOCKED
                count_us = resolved
            else:
                count_us = entry.count_us & COUNT_US_MASK
            ahead = wrap_diff(count_us, now_us)
            if ahead <= TX_TOO_LATE_US:
                return TxStatus.TOO_LATE
            if ahead > TX_MAX_ADVANCE_US:
                return TxStatus.TOO_EARLY
            queued = QueuedTx(count_us, entry.airtime_us, entry.timing, entry.item)
            if any(self._collide(queued, other) for other in self._reserved(now_us)):
                return TxStatus.COLLISION_PACKET
            if len(self._entries) >= self._max_entries:
                return TxStatus.QUEUE_FULL
            self._entries.append(queued)
            LOGGER.debug("queued TX at count_us %d (%d µs ahead)", count_us, ahead)
            return TxStatus.OK

    def peek(self, now_us: int) -> QueuedTx | None:
        """The earliest packet due within the JIT window (TX_JIT_DELAY), without removing it."""
        with self._lock:
            return self._due(now_us)

    def dequeue(self, now_us: int) -> QueuedTx | None:
        """Remove and return the earliest packet due within the JIT window, if any."""
        with self._lock:
            due = self._due(now_us)
            if due is not None:
                self._entries.remove(due)
                self._prune_on_air(now_us)
                self._on_air.append(due)
            return due

    def expire(self, now_us: int) -> list[QueuedTx]:
        """Remove and return the packets that can no longer start on time."""
        with self._lock:
            late = [e for e in self._entries if wrap_diff(e.count_us, now_us) < TX_MIN_LEAD_US]
            for entry in late:
                self._entries.remove(entry)
                LOGGER.warning("TX at count_us %d missed (now %d): dropped", entry.count_us, now_us)
            return late

    def entries(self, now_us: int) -> list[QueuedTx]:
        """Queued packets, earliest first."""
        with self._lock:
            return sorted(self._entries, key=lambda e: wrap_diff(e.count_us, now_us))

    def clear(self) -> list[QueuedTx]:
        """Drop everything (the concentrator restarted: every count_us is meaningless now)."""
        with self._lock:
            dropped, self._entries = self._entries, []
            self._on_air = []
            return dropped

    def busy_until(self, now_us: int) -> int | None:
        """count_us at which the last packet handed to the chip leaves the air, if still on."""
        with self._lock:
            self._prune_on_air(now_us)
            ends = [(e.count_us + e.airtime_us) & COUNT_US_MASK for e in self._on_air]
            return max(ends, key=lambda end: wrap_diff(end, now_us)) if ends else None

    # -- internals (lock held) -------------------------------------------------------------

    def _prune_on_air(self, now_us: int) -> None:
        """Forget dispatched packets that have left the air (their end + margin is past)."""
        self._on_air = [
            e for e in self._on_air
            if wrap_diff(e.count_us + e.airtime_us + TX_MARGIN_DELAY_US, now_us) > 0
        ]  # fmt: skip

    def _reserved(self, now_us: int) -> list[QueuedTx]:
        """Queued packets and the dispatched ones still on air."""
        self._prune_on_air(now_us)
        return self._entries + self._on_air

    def _resolve_gps(self, entry: JitEntry) -> int | None:
        if self._gps_to_count_us is None or entry.gps_epoch_us is None:
            return None
        count_us = self._gps_to_count_us(entry.gps_epoch_us)
        return None if count_us is None else count_us & COUNT_US_MASK

    def _due(self, now_us: int) -> QueuedTx | None:
        best: QueuedTx | None = None
        best_ahead = 0
        for entry in self._entries:
            ahead = wrap_diff(entry.count_us, now_us)
            if TX_MIN_LEAD_US <= ahead < TX_JIT_DELAY_US and (best is None or ahead < best_ahead):
                best, best_ahead = entry, ahead
        return best

    @staticmethod
    def _collide(new: QueuedTx, old: QueuedTx) -> bool:
        # new starts after old: old's tail + margin must end before new's pre-delay begins
        diff = wrap_diff(new.count_us, old.count_us)
        if diff >= 0:
            return diff <= old.airtime_us + TX_PRE_DELAY_US + TX_MARGIN_DELAY_US
        return -diff <= new.airtime_us + TX_PRE_DELAY_US + TX_MARGIN_DELAY_US

    def _first_free_slot(self, now_us: int, airtime_us: int) -> int:
        asap = (now_us + TX_IMMEDIATE_ASAP_US) & COUNT_US_MASK
        candidates = [asap]
        reserved = self._reserved(now_us)
        for entry in reserved:
            after = entry.count_us + entry.airtime_us + TX_PRE_DELAY_US + TX_MARGIN_DELAY_US + 1
            if wrap_diff(after & COUNT_US_MASK, asap) > 0:
                candidates.append(after & COUNT_US_MASK)
        candidates.sort(key=lambda c: wrap_diff(c, now_us))
        for count_us in candidates:
            probe = QueuedTx(count_us, airtime_us, Timing.IMMEDIATELY, None)
            if not any(self._collide(probe, other) for other in reserved):
                return count_us
        return candidates[-1]  # the caller's checks report TOO_EARLY / COLLISION
