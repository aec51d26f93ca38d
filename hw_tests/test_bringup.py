"""Full bring-up: radios, firmware handshakes, counter running."""

from __future__ import annotations

import time
from typing import Any

import pytest


def test_firmware_images_are_in_firmware_dir(hw: Any) -> None:
    from drivers.firmware import load_firmware

    firmware = load_firmware(hw.firmware_dir)
    assert (firmware.agc_version, firmware.arb_version) == (10, 2)


def test_bring_up_completes_and_the_counter_runs(started_chip: Any) -> None:
    first = started_chip.read_counter()
    time.sleep(1.0)
    elapsed_us = (started_chip.read_counter() - first) % (1 << 32)
    assert elapsed_us == pytest.approx(1_000_000, rel=0.05)
