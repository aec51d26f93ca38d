"""GPS for the daemon: ``[gps] tty`` (serial or ``gpsd://``) feeds the concentrator's time.

``GpsConcentrator`` wraps a ``packet_forwarder.concentrator.Concentrator``: once started it runs
a ``drivers.gps.GpsReader`` that pairs the PPS-latched counter with GPS time; while that
reference is valid, every uplink's ``gw_time`` and ``time_since_gps_epoch`` come from GPS
(docs/hardware.md, "GPS"). ``location`` is the receiver's fix, for the gateway stats. A GPS
that cannot be opened is a warning, never a failed radio start.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from drivers.errors import SensorError
from drivers.gps import GpsReader
from packet_forwarder.model import Uplink

LOGGER = logging.getLogger(__name__)

ReaderFactory = Callable[..., GpsReader]


#: GPS reader restart backoff: first wait, doubling up to the last (seconds)
READER_BACKOFF_S = (1.0, 60.0)


class GpsConcentrator:
    """A Concentrator whose uplinks carry GPS time while the GPS reference is valid.

    The GPS reader is watched from the radio thread (``poll_once``): a reader that cannot be
    opened, or whose thread died, is reported (``gps_status``) and restarted with backoff.
    """

    def __init__(
        self,
        inner: Any,
        source: str,
        *,
        reader_factory: ReaderFactory = GpsReader,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inner = inner
        self.source = source
        self.reader: GpsReader | None = None
        self._reader_factory = reader_factory
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._active = False
        self._reader_error: str | None = None
        self._reader_starts = 0
        self._backoff_s = READER_BACKOFF_S[0]
        self._next_attempt = 0.0
        self._reader_started = 0.0

    def __getattr__(self, name: str) -> Any:
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def start(self) -> None:
        """Start the concentrator, then the GPS reader (a failure is reported and retried)."""
        self.inner.start()
        self._active = True
        self._watch_reader()

    def _watch_reader(self) -> None:
        """Start the reader when due; notice a dead one and schedule its restart."""
        if not self._active:
            return
        reader = self.reader
        if reader is not None:
            if getattr(reader, "alive", True):
                return
            with self._lock:
                self.reader = None
                self._reader_error = getattr(reader, "error", None) or "the reader thread ended"
                if self._monotonic() - self._reader_started > READER_BACKOFF_S[1]:
                    self._backoff_s = READER_BACKOFF_S[0]  # it ran well for a while: start over
                self._next_attempt = self._monotonic() + self._backoff_s
            LOGGER.warning("GPS %s reader down (%s); restarting in %.0fs",
                           self.source, self._reader_error, self._backoff_s)  # fmt: skip
            reader.close()
            return
        if self._monotonic() < self._next_attempt:
            return
        try:
            reader = self._reader_factory(self.source, read_pps_count_us=self.inner.pps_us)
        except SensorError as exc:
            with self._lock:
                self._reader_error = str(exc)
                self._next_attempt = self._monotonic() + self._backoff_s
                self._backoff_s = min(self._backoff_s * 2, READER_BACKOFF_S[1])
            retry_s = self._next_attempt - self._monotonic()
            LOGGER.warning("GPS %s unavailable (%s); uplinks use the system clock; retrying "
                           "in %.0fs", self.source, exc, retry_s)  # fmt: skip
            return
        reader.start()
        with self._lock:
            self.reader = reader
            self._reader_started = self._monotonic()
            self._reader_starts += 1
            if self._reader_starts > 1:  # a reader that ran restarted: back off next time
                self._backoff_s = min(self._backoff_s * 2, READER_BACKOFF_S[1])
        LOGGER.info("GPS time and location from %s", self.source)

    def stop(self) -> None:
        """Stop the GPS reader and the concentrator. Idempotent."""
        self._active = False
        with self._lock:
            reader, self.reader = self.reader, None
        if reader is not None:
            reader.close()
        self.inner.stop()

    def close(self) -> None:
        """Close the GPS reader, then the concentrator and its transport. Idempotent."""
        try:
            self.stop()
        finally:
            self.inner.close()

    def poll_once(self) -> list[Uplink]:
        """The concentrator's uplinks, with GPS timestamps while the reference is valid (one
        snapshot of the reference converts the whole batch)."""
        uplinks = self.inner.poll_once()
        self._watch_reader()
        reader = self.reader
        ref = reader.reference.snapshot() if reader is not None and uplinks else None
        if reader is None or ref is None:
            return uplinks
        out = []
        for uplink in uplinks:
            times = reader.reference.rx_times(uplink.count_us, ref=ref)
            out.append(
                dataclasses.replace(
                    uplink,
                    gw_time=times.gw_time_s,
                    time_since_gps_epoch=times.time_since_gps_epoch_s,
                )
            )
        return out

    def use_sim_gps(self, chip: Any) -> None:
        """A ``sim://gps`` source reads the simulator's GPS persona on ``chip``'s world."""
        if not self.source.startswith("sim:"):
            return
        from drivers.sim.gps import open_sim_gps

        self._reader_factory = functools.partial(
            GpsReader, serial_factory=lambda url: open_sim_gps(chip, url)
        )

    def gps_to_count_us(self, gps_epoch_us: int) -> int | None:
        """The counter value at a GPS-epoch time, or None while unlocked (GPS_UNLOCKED)."""
        reader = self.reader
        return None if reader is None else reader.reference.gps_to_count_us(gps_epoch_us)

    @property
    def location(self) -> tuple[float, float, float] | None:
        """(latitude, longitude, altitude m) of the current fix, or None."""
        reader = self.reader
        if reader is None or reader.location is None:
            return None
        loc = reader.location
        return (loc.latitude, loc.longitude, loc.altitude_m)

    def gps_status(self) -> dict[str, Any]:
        """The status document's ``gps`` section, from the reader and its time reference."""
        with self._lock:
            reader, error, starts = self.reader, self._reader_error, self._reader_starts
            next_in = max(0.0, self._next_attempt - self._monotonic())
        status: dict[str, Any] = {"enabled": True, "source": self.source, "reader_starts": starts}
        if reader is None or not getattr(reader, "alive", True):
            status.update(
                reader="down" if error else "starting",
                error=error,
                retry_in_s=round(next_in, 1),
                fix=False,
                pps=False,
                time_valid=False,
            )
            return status
        ref = reader.reference.snapshot()
        loc = reader.location
        now = self._monotonic()
        status.update(
            reader="running",
            sentences=getattr(reader, "messages", 0),
            fix=bool(getattr(reader, "fix", False)),
            satellites=loc.satellites if loc is not None else 0,
            location=None if loc is None else [loc.latitude, loc.longitude, loc.altitude_m],
            # PPS lock: a PPS-latched counter paired with GPS time within the validity window
            pps=ref is not None,
            time_valid=ref is not None,
            time_ref_age_s=None if ref is None else round(now - ref.updated_monotonic, 1),
        )
        return status


def gps_source(gps_config: dict[str, Any], board: Any) -> str | None:
    """``[gps] tty``, else the board preset's GNSS tty, else None."""
    return gps_config.get("tty") or (getattr(board, "gps_tty", None) if board else None)
