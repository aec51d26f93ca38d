"""Receive statistics over the daemon's life: counts per channel and SF, CRC, RSSI/SNR spread.

The daemon feeds every uplink it routes into one ``RxTracker`` (it survives a concentrator
restart on reload, unlike the concentrator's own counters); the status socket serves its
``snapshot()`` as ``radio.rx``, and ``edge-agent diag rx`` uses one to summarise a receive test.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from packet_forwarder.model import CrcStatus, Modulation, Uplink

RATE_WINDOW_S = 60.0


def sf_label(uplink: Uplink) -> str:
    """``"7"``…``"12"`` for LoRa, ``"FSK"`` otherwise (the ``by_sf`` keys)."""
    return str(uplink.sf) if uplink.modulation is Modulation.LORA else "FSK"


def _spread(count: int, total: float, low: float, high: float) -> dict[str, float | None]:
    if not count:
        return {"min": None, "max": None, "mean": None}
    return {"min": round(low, 2), "max": round(high, 2), "mean": round(total / count, 2)}


class RxTracker:
    """Thread-safe receive counters; ``add()`` from the radio thread, ``snapshot()`` from any.

    ``add()`` runs for every uplink, so it only bumps plain integers: one count per (frequency,
    modulation, SF, CRC status), one per frequency in the current second, sums and extremes of
    RSSI and SNR. The per-channel, per-SF and per-minute views are built in ``snapshot()``.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: dict[tuple[int, Modulation, int, CrcStatus], int] = {}
        #: whole seconds of the last minute, oldest first: (second, {freq_hz: packets})
        self._seconds: deque[tuple[int, dict[int, int]]] = deque()
        self._count = 0
        self._rssi_total = self._snr_total = 0.0
        self._rssi_low = self._snr_low = math.inf
        self._rssi_high = self._snr_high = -math.inf
        self._last_uplink: float | None = None

    def add(self, uplink: Uplink) -> None:
        """Count one received packet."""
        second = int(self._clock())
        freq_hz, rssi, snr = uplink.freq_hz, uplink.rssi_dbm, uplink.snr_db
        key = (freq_hz, uplink.modulation, uplink.sf, uplink.crc_status)
        with self._lock:
            counts = self._counts
            counts[key] = counts.get(key, 0) + 1
            seconds = self._seconds
            if not seconds or seconds[-1][0] != second:
                seconds.append((second, {}))
                self._expire(second)
            bucket = seconds[-1][1]
            bucket[freq_hz] = bucket.get(freq_hz, 0) + 1
            self._count += 1
            self._rssi_total += rssi
            self._snr_total += snr
            if rssi < self._rssi_low:
                self._rssi_low = rssi
            if rssi > self._rssi_high:
                self._rssi_high = rssi
            if snr < self._snr_low:
                self._snr_low = snr
            if snr > self._snr_high:
                self._snr_high = snr
            self._last_uplink = uplink.gw_time

    def _expire(self, now: float) -> None:
        while self._seconds and self._seconds[0][0] < now - RATE_WINDOW_S:
            self._seconds.popleft()

    @property
    def total(self) -> int:
        """Packets counted so far."""
        with self._lock:
            return self._count

    def snapshot(self) -> dict[str, Any]:
        """The ``radio.rx`` document (keys as in docs/technician-guide.md)."""
        with self._lock:
            self._expire(self._clock())
            crc: Counter[CrcStatus] = Counter()
            by_channel: Counter[int] = Counter()
            by_sf: Counter[str] = Counter()
            for (freq_hz, modulation, sf, status), n in self._counts.items():
                crc[status] += n
                by_channel[freq_hz] += n
                by_sf[str(sf) if modulation is Modulation.LORA else "FSK"] += n
            rates: Counter[int] = Counter()
            for _second, bucket in self._seconds:
                rates.update(bucket)
            ok, bad = crc[CrcStatus.OK], crc[CrcStatus.BAD]
            return {
                "total": self._count,
                "crc_ok": ok,
                "crc_bad": bad,
                "crc_none": crc[CrcStatus.NONE],
                "crc_ratio": round(ok / (ok + bad), 4) if ok + bad else None,
                "by_channel": {str(f): n for f, n in sorted(by_channel.items())},
                "by_sf": dict(sorted(by_sf.items(), key=lambda kv: _sf_order(kv[0]))),
                "rate_per_min": {str(f): n for f, n in sorted(rates.items())},
                "rssi_dbm": _spread(self._count, self._rssi_total, self._rssi_low, self._rssi_high),
                "snr_db": _spread(self._count, self._snr_total, self._snr_low, self._snr_high),
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
