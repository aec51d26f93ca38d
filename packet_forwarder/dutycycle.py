"""Duty cycle: per-band airtime over a one-hour sliding window (ETSI EN 300 220 for EU868).

Bands as chirpstack-concentratord's ``regulation/standard/etsi_en_300_220.rs`` defines them
(ref/ecosystem.md §4): ``[freq_min, freq_max)`` on the centre frequency, a duty-cycle limit and
a maximum power. ETSI states power as ERP; a band keeps its EIRP limit (ERP + 2.15 dB, the
dipole gain), so 500 mW ERP in band P is 29.15 dBm EIRP. Between 869.7 and 870.0 MHz a packet
at <= 7 dBm ERP falls in the unrestricted band, a stronger one in band Q (1 %).

A transmission occupies ``[start, start + time on air]``. ``would_exceed`` refuses it when the
airtime of every recorded transmission that can share a one-hour window with it, plus the
packet, passes the band's budget (``3600 s × duty cycle``). The check is O(1) amortized: each
band keeps a running total over a FIFO of its transmissions, and a transmission leaves the FIFO
(once) when it ended more than an hour before the caller's clock. The total therefore also
holds the few transmissions that ended between ``now - 1 h`` and ``start - 1 h`` (``start`` is
at most a few seconds after ``now`` for Class A and C), and a transmission recorded out of
order waits behind a later-ending one: both only make the check stricter, never looser. A
transmission that fits no band (a gap such as 868.6-868.7 MHz, or too much power) is refused
while enforcing.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field

WINDOW_US = 3_600_000_000
#: dipole gain: ERP = EIRP - 2.15 dB
DIPOLE_GAIN_DB = 2.15


@dataclass(frozen=True, slots=True)
class Band:
    """One regulatory sub-band: frequency range, duty-cycle limit (fraction), EIRP limit."""

    name: str
    freq_min_hz: int
    freq_max_hz: int
    duty_cycle: float
    max_eirp_dbm: float

    @property
    def max_erp_dbm(self) -> float:
        """The limit as ERP (what ETSI states)."""
        return self.max_eirp_dbm - DIPOLE_GAIN_DB

    def holds(self, freq_hz: int) -> bool:
        """Whether a centre frequency lies in ``[freq_min, freq_max)``."""
        return self.freq_min_hz <= freq_hz < self.freq_max_hz

    def admits(self, freq_hz: int, eirp_dbm: float) -> bool:
        """Whether a TX at this centre frequency and EIRP belongs to this band."""
        return self.holds(freq_hz) and eirp_dbm <= self.max_eirp_dbm + 1e-9

    @property
    def load_max_us(self) -> int:
        """Airtime allowed in one window, µs."""
        return round(WINDOW_US * self.duty_cycle)


def etsi_band(name: str, freq_min_hz: int, freq_max_hz: int, duty: float, erp_dbm: float) -> Band:
    """An ETSI EN 300 220 band given, as ETSI does, with an ERP limit."""
    return Band(name, freq_min_hz, freq_max_hz, duty, erp_dbm + DIPOLE_GAIN_DB)


#: ETSI EN 300 220 / ERC REC 70-03 annex 1 bands h1.3..h1.7 as concentratord tracks them:
#: 25 mW ERP (14 dBm) except band P, 500 mW ERP (27 dBm, 10 %), and the 5 mW (7 dBm) band
EU868_BANDS: tuple[Band, ...] = (
    etsi_band("K", 863_000_000, 865_000_000, 0.001, 14),
    etsi_band("L", 865_000_000, 868_000_000, 0.01, 14),
    etsi_band("M", 868_000_000, 868_600_000, 0.01, 14),
    etsi_band("N", 868_700_000, 869_200_000, 0.001, 14),
    etsi_band("P", 869_400_000, 869_650_000, 0.1, 27),
    etsi_band("Q-7dBm", 869_700_000, 870_000_000, 1.0, 7),
    etsi_band("Q", 869_700_000, 870_000_000, 0.01, 14),
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


@dataclass(slots=True)
class _Fifo:
    """The transmissions of one band in record order, with their total airtime."""

    items: deque[tuple[int, int]] = field(default_factory=deque)
    total_us: int = 0


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
        #: transmissions dropped from a FIFO so far: the work ``would_exceed`` and ``record``
        #: did beyond O(1) (tests count it to prove the amortized bound)
        self.evicted = 0
        self._fifos: dict[str, _Fifo] = {band.name: _Fifo() for band in bands}
        self._lock = threading.Lock()

    def band_for(self, freq_hz: int, eirp_dbm: float) -> Band | None:
        """The first band that admits this frequency and power, or None."""
        return next((b for b in self.bands if b.admits(freq_hz, eirp_dbm)), None)

    def would_exceed(
        self, freq_hz: int, eirp_dbm: float, toa_us: int, start_s: float, now_s: float | None = None
    ) -> bool:
        """True when enforcing and a TX starting at ``start_s`` would break its band's budget.

        ``now_s`` is the caller's clock (same time base, never going back); it defaults to
        ``start_s``. Transmissions that ended an hour before it are forgotten.
        """
        if not self.enforce:
            return False
        band = self.band_for(freq_hz, eirp_dbm)
        if band is None:
            return True
        with self._lock:
            fifo = self._fifos[band.name]
            self._evict(fifo, start_s if now_s is None else now_s)
            return fifo.total_us + toa_us > band.load_max_us

    def record(
        self, freq_hz: int, eirp_dbm: float, toa_us: int, start_s: float, now_s: float | None = None
    ) -> None:
        """Count a transmission starting at ``start_s`` (seconds, monotonic) in its band."""
        band = self.band_for(freq_hz, eirp_dbm)
        if band is None:
            return
        start = round(start_s * 1e6)
        with self._lock:
            fifo = self._fifos[band.name]
            self._evict(fifo, start_s if now_s is None else now_s)
            fifo.items.append((start, start + toa_us))
            fifo.total_us += toa_us

    def stats(self, now_s: float) -> DutyCycleStats:
        """Load per band over the window ending at ``now_s`` (once per stats interval)."""
        now = round(now_s * 1e6)
        with self._lock:
            bands = tuple(
                BandLoad(
                    b.name,
                    b.freq_min_hz,
                    b.freq_max_hz,
                    b.load_max_us,
                    sum(_overlap(s, e, now - WINDOW_US, now) for s, e in self._fifos[b.name].items),
                )
                for b in self.bands
            )
        return DutyCycleStats(self.regulation, WINDOW_US, bands)

    def _evict(self, fifo: _Fifo, now_s: float) -> None:
        horizon = round(now_s * 1e6) - WINDOW_US
        items = fifo.items
        while items and items[0][1] <= horizon:
            start, end = items.popleft()
            fifo.total_us -= end - start
            self.evicted += 1
