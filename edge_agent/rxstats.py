"""Receive statistics over the daemon's life: counts per channel and SF, CRC, RSSI/SNR spread.

The daemon feeds every uplink it routes into one ``RxTracker`` (it survives a concentrator
restart on reload, unlike the concentrator's own counters); the status socket serves its
``snapshot()`` as ``radio.rx``, and ``edge-agent diag rx`` uses one to summarise a receive test.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from packet_forwarder.model import CrcStatus, Modulation, Uplink

RATE_WINDOW_S = 60.0


class _Spread:
    """min / max / mean of a stream of floats."""

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self.low: float | None = None
        self.high: float | None = None

    def add(self, value: float) -> None:
        self.count += 1
        self.total += value
        self.low = value if self.low is None else min(self.low, value)
        self.high = value if self.high is None else max(self.high, value)

    def as_dict(self) -> dict[str, float | None]:
        mean = round(self.total / self.count, 2) if self.count else None
        low = None if self.low is None else round(self.low, 2)
        high = None if self.high is None else round(self.high, 2)
        return {"min": low, "max": high, "mean": mean}


def sf_label(uplink: Uplink) -> str:
    """``"7"``…``"12"`` for LoRa, ``"FSK"`` otherwise (the ``by_sf`` keys)."""
    return str(uplink.sf) if uplink.modulation is Modulation.LORA else "FSK"


class RxTracker:
    """Thread-safe receive counters; ``add()`` from the radio thread, ``snapshot()`` from any."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._crc: Counter[CrcStatus] = Counter()
        self._by_channel: Counter[int] = Counter()
        self._by_sf: Counter[str] = Counter()
        self._recent: deque[tuple[float, int]] = deque()
        self._rssi = _Spread()
        self._snr = _Spread()
        self._last_uplink: float | None = None

    def add(self, uplink: Uplink) -> None:
        """Count one received packet."""
        now = self._clock()
        with self._lock:
            self._crc[uplink.crc_status] += 1
            self._by_channel[uplink.freq_hz] += 1
            self._by_sf[sf_label(uplink)] += 1
            self._recent.append((now, uplink.freq_hz))
            self._expire(now)
            self._rssi.add(uplink.rssi_dbm)
            self._snr.add(uplink.snr_db)
            self._last_uplink = uplink.gw_time

    def _expire(self, now: float) -> None:
        while self._recent and self._recent[0][0] < now - RATE_WINDOW_S:
            self._recent.popleft()

    @property
    def total(self) -> int:
        """Packets counted so far."""
        with self._lock:
            return sum(self._crc.values())

    def snapshot(self) -> dict[str, Any]:
        """The ``radio.rx`` document (keys as in docs/technician-guide.md)."""
        with self._lock:
            self._expire(self._clock())
            ok, bad = self._crc[CrcStatus.OK], self._crc[CrcStatus.BAD]
            rates = Counter(freq for _t, freq in self._recent)
            return {
                "total": sum(self._crc.values()),
                "crc_ok": ok,
                "crc_bad": bad,
                "crc_none": self._crc[CrcStatus.NONE],
                "crc_ratio": round(ok / (ok + bad), 4) if ok + bad else None,
                "by_channel": {str(f): n for f, n in sorted(self._by_channel.items())},
                "by_sf": dict(sorted(self._by_sf.items(), key=lambda kv: _sf_order(kv[0]))),
                "rate_per_min": {str(f): n for f, n in sorted(rates.items())},
                "rssi_dbm": self._rssi.as_dict(),
                "snr_db": self._snr.as_dict(),
                "last_uplink": _iso(self._last_uplink),
            }


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    moment = datetime.fromtimestamp(epoch, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _sf_order(label: str) -> int:
    return int(label) if label.isdigit() else 99


def delta(after: dict[str, Any], before: dict[str, Any]) -> dict[str, int]:
    """Per-key differences of two count maps, without the zero ones."""
    out = {k: int(v) - int(before.get(k, 0)) for k, v in after.items()}
    return {k: v for k, v in out.items() if v}


def describe(
    channels: dict[str, int],
    sfs: dict[str, int],
    crc_ok: int,
    crc_bad: int,
    rssi: dict[str, Any],
    snr: dict[str, Any],
    seconds: float,
) -> str:
    """One line: packets, per channel (MHz), per SF, RSSI/SNR spread, CRC counts."""
    total = sum(channels.values())
    ordered = sorted(channels.items(), key=lambda kv: int(kv[0]))
    per_channel = ", ".join(f"{int(f) / 1e6:.1f} MHz: {n}" for f, n in ordered)
    per_sf = ", ".join(
        f"SF{sf}: {n}" if sf.isdigit() else f"{sf}: {n}"
        for sf, n in sorted(sfs.items(), key=lambda kv: _sf_order(kv[0]))
    )
    return (
        f"{total} packets in {seconds:g} s; per channel {per_channel}; per SF {per_sf}; "
        f"RSSI {_num(rssi.get('min'))}..{_num(rssi.get('max'))} dBm, "
        f"SNR {_num(snr.get('min'))}..{_num(snr.get('max'))} dB; CRC ok {crc_ok}, bad {crc_bad}"
    )


def _num(value: Any) -> str:
    return "?" if value is None else f"{round(float(value), 1):g}"
