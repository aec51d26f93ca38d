"""One LoRa transmission (needs ``--hw-tx``: it goes on air; use an antenna or a dummy load).

Written against the TX path of issue 5: ``SX1302.send(DownlinkRequest)`` and ``tx_status()``
(an enum named after ref/sx1302.md §7: FREE, SCHEDULED, EMITTING, ...); skipped until those exist.
"""

from __future__ import annotations

import time
from typing import Any

import pytest


def test_immediate_transmission_completes(started_chip: Any, hw: Any, request: Any) -> None:
    if not request.config.getoption("--hw-tx"):
        pytest.skip("the TX test transmits on air: pass --hw-tx to allow it")
    send = getattr(started_chip, "send", None)
    tx_status = getattr(started_chip, "tx_status", None)
    if send is None or tx_status is None:
        pytest.skip("this build's SX1302 driver has no TX path (send, tx_status)")
    from packet_forwarder.model import DownlinkRequest, Modulation, Timing

    radio = hw.plan.radios[0]
    assert radio.tx_enable, "radio_0 must have tx_enable for the TX test"
    send(
        DownlinkRequest(
            downlink_id=1,
            phy_payload=b"edge-agent hw test",
            freq_hz=radio.freq_hz,
            power_dbm=14,
            modulation=Modulation.LORA,
            timing=Timing.IMMEDIATELY,
            sf=9,
        )
    )
    seen = set()
    deadline = time.monotonic() + 3.0  # SF9/125 kHz, 18 bytes: ~200 ms on air
    while time.monotonic() < deadline:
        status = tx_status().name
        seen.add(status)
        if status.endswith("FREE") and len(seen) > 1:
            break
        time.sleep(0.005)
    assert any(s.endswith("EMITTING") for s in seen), f"never saw EMITTING: {seen}"
    assert tx_status().name.endswith("FREE")
