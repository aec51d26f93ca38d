"""Stats intervals per consumer: each backend reports on its own period from one running total.

The service counts received packets (and folds in the scheduler's TX counters) into one
cumulative ``GatewayStats``; ``take(name)`` returns what changed since ``name``'s previous take.
So a ChirpStack backend reporting every 30 s and a Semtech UDP backend every 10 s each see
every packet exactly once, and neither resets the other's counts.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from dataclasses import fields

from packet_forwarder.downlink import modulation_key
from packet_forwarder.model import GatewayStats, Uplink

_INT_FIELDS = tuple(f.name for f in fields(GatewayStats) if f.type in ("int", int))
_DICT_FIELDS = tuple(
    f.name for f in fields(GatewayStats) if str(f.type).startswith("dict[") and f.name != "metadata"
)


def delta(now: GatewayStats, before: GatewayStats) -> GatewayStats:
    """``now - before``, field by field (per-key for the maps; zero entries left out)."""
    out = GatewayStats()
    for name in _INT_FIELDS:
        setattr(out, name, getattr(now, name) - getattr(before, name))
    for name in _DICT_FIELDS:
        old = getattr(before, name)
        diff = {k: v - old.get(k, 0) for k, v in getattr(now, name).items()}
        setattr(out, name, {k: v for k, v in diff.items() if v})
    return out


class IntervalStats:
    """One running total of RX and TX counters, read as intervals by several consumers."""

    def __init__(self, take_tx: Callable[[GatewayStats], None] | None = None) -> None:
        """``take_tx(stats)`` adds the TX counters gathered since its last call into ``stats``."""
        self._total = GatewayStats()
        self._seen: dict[str, GatewayStats] = {}
        self._take_tx = take_tx
        self._lock = threading.Lock()

    def count_rx(self, uplink: Uplink, crc_ok: bool) -> None:
        """One received packet (any CRC status); per frequency and modulation: CRC_OK only,
        as ChirpStack's concentratord counts them."""
        with self._lock:
            total = self._total
            total.rx_packets_received += 1
            if not crc_ok:
                return
            total.rx_packets_received_ok += 1
            freqs = total.rx_packets_per_frequency
            freqs[uplink.freq_hz] = freqs.get(uplink.freq_hz, 0) + 1
            mods = total.rx_packets_per_modulation
            key = modulation_key(uplink)
            mods[key] = mods.get(key, 0) + 1

    def take(self, consumer: str) -> GatewayStats:
        """What changed since ``consumer``'s previous take (since start for its first)."""
        with self._lock:
            if self._take_tx is not None:
                self._take_tx(self._total)
            before = self._seen.get(consumer, GatewayStats())
            now = copy.deepcopy(self._total)
            self._seen[consumer] = now
            return delta(now, before)
