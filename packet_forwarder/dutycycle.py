"""ETSI EN 300 220 duty cycle for EU868: per-band airtime over a one-hour sliding window.

Bands as chirpstack-concentratord's ``regulation/standard/etsi_en_300_220.rs`` defines them
(ref/ecosystem.md §4): ``[freq_min, freq_max)`` on the centre frequency, a duty-cycle limit and
a maximum power. ETSI states power as ERP; we take EIRP from the network server and compare
``EIRP - 2.15 dB`` (dipole gain) with the band's ERP limit. Between 869.7 and 870.0 MHz a packet
at <= 7 dBm ERP falls in the unrestricted band, a stronger one in band Q (1 %).

A transmission occupies ``[start, start + time on air]``. ``would_exceed`` refuses it when the
airtime inside any one-hour window containing it, plus the packet, passes the band's budget
(``3600 s × duty cycle``), including windows that end at already-recorded later packets. A
transmission that fits no band (a gap such as 868.6-868.7 MHz, or too much power) is refused
while enforcing.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

WINDOW_US = 3_600_000_000
#: dipole gain: ERP = EIRP - 2.15 dB
DIPOLE_GAIN_DB = 2.15


@dataclass(frozen=True, slots=True)
class Band:
    """One ETSI sub-band: frequency range, duty-cycle limit (fraction) and ERP limit."""

    name: str
    freq_min_hz: int
    freq_max_hz: int
    duty_cycle: float
    max_erp_dbm: float

    def admits(self, freq_hz: int, eirp_dbm: float) -> bool:
        """Whether a TX at this centre frequency and EIRP belongs to this band."""
        erp_dbm = eirp_dbm - DIPOLE_GAIN_DB
        return self.freq_min_hz <= freq_hz < self.freq_max_hz and erp_dbm <= self.max_erp_dbm

    @property
    def load_max_us(self) -> int:
        """Airtime allowed in one window, µs."""
        return round(WINDOW_US * self.duty_cycle)


EU868_BANDS: tuple[Band, ...] = (
    Band("K", 863_000_000, 865_000_000, 0.001, 14),
    Band("L", 865_000_000, 868_000_000, 0.01, 14),
    Band("M", 868_000_000, 868_600_000, 0.01, 14),
    Band("N", 868_700_000, 869_200_000, 0.001, 14),
    Band("P", 869_400_000, 869_650_000, 0.1, 27),
    Band("Q-7dBm", 869_700_000, 870_000_000, 1.0, 7),
    Band("Q", 869_700_000, 870_000_000, 0.01, 14),
)


@dataclass(frozen=True, slots=True)
class BandLoad:
    """One band in the stats, shaped like ``gw.DutyCycleBand`` (durations in µs)."""

    name: str
    frequency_min: int
    frequency_max: int
    load_max_us: int
    load_tracked_us: int


@dataclass(frozen=True, slots=True)
class DutyCycleStats:
    """Shaped like ``gw.DutyCycleStats``: regulation, window, bands."""

    regulation: str
    window_us: int
    bands: tuple[BandLoad, ...]


def _overlap(start: int, end: int, win_start: int, win_end: int) -> int:
    return max(0, min(end, win_end) - max(start, win_start))


class DutyCycleTracker:
    """Tracks airtime per band; ``enforce`` decides whether ``would_exceed`` can say True."""

    def __init__(
        self,
        bands: tuple[Band, ...] = EU868_BANDS,
        enforce: bool = True,
        regulation: str = "EN_300_220",
    ) -> None:
        self.bands = bands
        self.enforce = enforce
        self.regulation = regulation
        self._items: dict[str, list[tuple[int, int]]] = {band.name: [] for band in bands}
        self._lock = threading.Lock()

    def band_for(self, freq_hz: int, eirp_dbm: float) -> Band | None:
        """The first band that admits this frequency and power, or None."""
        return next((b for b in self.bands if b.admits(freq_hz, eirp_dbm)), None)

    def would_exceed(self, freq_hz: int, eirp_dbm: float, toa_us: int, now_s: float) -> bool:
        """True when enforcing and a TX starting at ``now_s`` would break its band's budget."""
        if not self.enforce:
            return False
        band = self.band_for(freq_hz, eirp_dbm)
        if band is None:
            return True
        start = round(now_s * 1e6)
        end = start + toa_us
        with self._lock:
            items = self._items[band.name]
            ends = [end] + [e for s, e in items if s > start]
            return any(
                self._tracked(items, window_end) + toa_us > band.load_max_us for window_end in ends
            )

    def record(self, freq_hz: int, eirp_dbm: float, toa_us: int, now_s: float) -> None:
        """Count a transmission starting at ``now_s`` (seconds, monotonic) in its band."""
        band = self.band_for(freq_hz, eirp_dbm)
        if band is None:
            return
        start = round(now_s * 1e6)
        with self._lock:
            items = self._items[band.name]
            items.append((start, start + toa_us))
            horizon = start - WINDOW_US
            items[:] = [(s, e) for s, e in items if e > horizon]

    def stats(self, now_s: float) -> DutyCycleStats:
        """Load per band over the window ending at ``now_s``."""
        now = round(now_s * 1e6)
        with self._lock:
            bands = tuple(
                BandLoad(
                    b.name,
                    b.freq_min_hz,
                    b.freq_max_hz,
                    b.load_max_us,
                    self._tracked(self._items[b.name], now),
                )
                for b in self.bands
            )
        return DutyCycleStats(self.regulation, WINDOW_US, bands)

    @staticmethod
    def _tracked(items: list[tuple[int, int]], window_end: int) -> int:
        return sum(_overlap(s, e, window_end - WINDOW_US, window_end) for s, e in items)
