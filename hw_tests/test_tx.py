"""One LoRa transmission (needs ``--hw-tx``: it goes on air; use an antenna or a dummy load).

The daemon's TX path on the real chip: ``SX1302.send(program(TxRequest))`` (``drivers.sx1302.tx``)
in IMMEDIATE mode, then ``tx_status(rf_chain)`` polled from SCHEDULED/EMITTING back to FREE.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from drivers.sx1302.tx import TxRequest, program


def test_immediate_transmission_completes(started_chip: Any, hw: Any, request: Any) -> None:
    if not request.config.getoption("--hw-tx"):
        pytest.skip("the TX test transmits on air: pass --hw-tx to allow it")
    radio = hw.plan.radios[0]
    assert radio.tx_enable, "radio_0 must have tx_enable for the TX test"
    assert radio.tx_gain_lut, "radio_0 needs a TX gain table (the board preset gives one)"
    gain = min(radio.tx_gain_lut, key=lambda g: abs(g.rf_power_dbm - 14))
    started_chip.send(
        program(
            TxRequest(
                rf_chain=0,
                freq_hz=radio.freq_hz,
                payload=b"edge-agent hw test",
                mode="IMMEDIATE",
                sf=9,
                bandwidth_hz=125_000,
                lorawan_public=hw.plan.lorawan_public,
                pa_gain=gain.pa_gain,
                pwr_idx=gain.pwr_idx,
                radio_type=radio.type,
            )
        )
    )
    seen = set()
    deadline = time.monotonic() + 3.0  # SF9/125 kHz, 18 bytes: ~200 ms on air
    while time.monotonic() < deadline:
        status = started_chip.tx_status(0)
        seen.add(status)
        if status == "FREE" and len(seen) > 1:
            break
        time.sleep(0.005)
    assert "EMITTING" in seen, f"never saw EMITTING: {seen}"
    assert started_chip.tx_status(0) == "FREE"
