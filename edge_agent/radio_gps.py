"""GPS for the daemon: ``[gps] tty`` (serial or ``gpsd://``) feeds the concentrator's time.

``GpsConcentrator`` wraps a ``packet_forwarder.concentrator.Concentrator``: once started it runs
a ``drivers.gps.GpsReader`` that pairs the PPS-latched counter with GPS time; while that
reference is valid, every uplink's ``gw_time`` and ``time_since_gps_epoch`` come from GPS
(docs/hardware.md, "GPS"). ``location`` is the receiver's fix, for the gateway stats. A GPS
that cannot be opened is a warning, never a failed radio start.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

from drivers.errors import SensorError
from drivers.gps import GpsReader
from packet_forwarder.model import Uplink

LOGGER = logging.getLogger(__name__)

ReaderFactory = Callable[..., GpsReader]


class GpsConcentrator:
    """A Concentrator whose uplinks carry GPS time while the GPS reference is valid."""

    def __init__(
        self, inner: Any, source: str, *, reader_factory: ReaderFactory = GpsReader
    ) -> None:
        self.inner = inner
        self.source = source
        self.reader: GpsReader | None = None
        self._reader_factory = reader_factory

    def __getattr__(self, name: str) -> Any:
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def start(self) -> None:
        """Start the concentrator, then (once) the GPS reader."""
        self.inner.start()
        if self.reader is not None:
            return
        try:
            self.reader = self._reader_factory(self.source, read_pps_count_us=self.inner.pps_us)
        except SensorError as exc:
            LOGGER.warning(
                "GPS %s unavailable (%s); uplinks use the system clock", self.source, exc
            )
            return
        self.reader.start()
        LOGGER.info("GPS time and location from %s", self.source)

    def stop(self) -> None:
        """Stop the GPS reader and the concentrator. Idempotent."""
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
        """The concentrator's uplinks, with GPS timestamps while the reference is valid."""
        uplinks = self.inner.poll_once()
        reader = self.reader
        if reader is None or not uplinks or not reader.reference.valid():
            return uplinks
        out = []
        for uplink in uplinks:
            times = reader.reference.rx_times(uplink.count_us)
            out.append(
                dataclasses.replace(
                    uplink,
                    gw_time=times.gw_time_s,
                    time_since_gps_epoch=times.time_since_gps_epoch_s,
                )
            )
        return out

    @property
    def location(self) -> tuple[float, float, float] | None:
        """(latitude, longitude, altitude m) of the current fix, or None."""
        reader = self.reader
        if reader is None or reader.location is None:
            return None
        loc = reader.location
        return (loc.latitude, loc.longitude, loc.altitude_m)


def gps_source(gps_config: dict[str, Any], board: Any) -> str | None:
    """``[gps] tty``, else the board preset's GNSS tty, else None."""
    return gps_config.get("tty") or (getattr(board, "gps_tty", None) if board else None)
