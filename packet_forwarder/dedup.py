"""Downlink ids seen recently: a network server's frame is sent once, however often it arrives.

A retained ``command/down`` comes back at every reconnect, and a broker may deliver a QoS 1
message twice. ``RecentIds.seen`` answers "was this id already taken in the last ``window_s``?"
in O(1) amortized time with bounded memory: ids leave in arrival order once older than the
window, or the oldest first when ``max_ids`` are held (a flood shortens the memory, never grows
it). Id 0 means "no id" and is never remembered.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

#: how long a downlink id is remembered, seconds
DEDUP_WINDOW_S = 600.0
#: most ids remembered at once (~2 MB): 27 downlinks a second for 10 minutes, far above what
#: a gateway can transmit; a flood beyond that shortens the memory instead of growing it
DEDUP_MAX_IDS = 16_384


class RecentIds:
    """The downlink ids taken in the last ``window_s`` seconds (at most ``max_ids``)."""

    def __init__(
        self,
        window_s: float = DEDUP_WINDOW_S,
        max_ids: int = DEDUP_MAX_IDS,
        clock_s: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window_s = window_s
        self.max_ids = max_ids
        self._clock_s = clock_s
        self._ids: OrderedDict[int, float] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._ids)

    def seen(self, downlink_id: int) -> bool:
        """True when ``downlink_id`` was taken within the window; otherwise take it now."""
        if downlink_id == 0:
            return False
        now = self._clock_s()
        with self._lock:
            ids = self._ids
            while ids:
                oldest_id, taken = next(iter(ids.items()))
                if now - taken < self.window_s and len(ids) < self.max_ids:
                    break
                del ids[oldest_id]
            if downlink_id in ids:
                return True
            ids[downlink_id] = now
            return False
