"""GPS fix and, with a PPS-capable driver, a valid time reference."""

from __future__ import annotations

import time
from typing import Any

import pytest


def test_gps_gets_a_fix_and_a_location(hw: Any, request: Any) -> None:
    if not hw.gps:
        pytest.skip("no GPS configured ([gps] tty) and the board preset has none")
    from drivers.gps import GpsReader

    reader = GpsReader(hw.gps)
    try:
        deadline = time.monotonic() + request.config.getoption("--hw-gps-seconds")
        while time.monotonic() < deadline and reader.location is None:
            reader.poll_once()
        assert reader.location is not None, "no GGA fix within the wait (antenna outside?)"
        assert -90 <= reader.location.latitude <= 90
        assert -180 <= reader.location.longitude <= 180
        assert reader.location.satellites >= 3
    finally:
        reader.close()
