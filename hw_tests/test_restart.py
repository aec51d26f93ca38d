"""Restart without a chip reset, and the board lines held while the radio runs.

The session's ``transport`` fixture reset the board once (held lines on SPI, the MCU on USB);
these tests then stop and start the chip again with no reset in between, as the daemon does when
it restarts the radio on a board without a reset line.
"""

from __future__ import annotations

import time
from typing import Any


def _counter_runs(chip: Any) -> bool:
    first = chip.read_counter()
    time.sleep(0.2)
    return 150_000 < (chip.read_counter() - first) % (1 << 32) < 250_000


def test_stop_then_start_again_without_a_chip_reset(started_chip: Any, hw: Any) -> None:
    started_chip.stop()
    started_chip.start(hw.plan)  # the AGC of the first start owned the radios: taken back
    assert started_chip.version() in (0x10, 0x12)
    assert _counter_runs(started_chip)


def test_a_new_driver_starts_a_chip_left_running(started_chip: Any, hw: Any) -> None:
    from drivers.sx1302.chip import SX1302

    # as after a crashed daemon: the chip still runs the previous start's firmware
    again = SX1302(started_chip.transport, firmware=started_chip.firmware)
    again.start(hw.plan)
    assert _counter_runs(again)
    started_chip.stop()  # the session fixture's chip object is the one the teardown stops
    started_chip.start(hw.plan)
