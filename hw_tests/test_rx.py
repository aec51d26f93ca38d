"""Receive for ``--hw-rx-seconds`` and report per-channel counts."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any


def test_receive_for_n_seconds_with_per_channel_counts(
    started_chip: Any, transport: Any, hw: Any, request: Any
) -> None:
    from packet_forwarder.concentrator import Concentrator

    seconds = request.config.getoption("--hw-rx-seconds")
    concentrator = Concentrator(
        transport,
        hw.plan,
        temperature_c=lambda: hw.temperature_c,
        chip_factory=lambda _transport: started_chip,
    )
    concentrator.start()
    per_channel: Counter[int] = Counter()
    per_crc: Counter[str] = Counter()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for uplink in concentrator.poll_once():
            per_channel[uplink.channel] += 1
            per_crc[uplink.crc_status.name] += 1
        time.sleep(0.01)
    request.node.user_properties.append(("per_channel", dict(per_channel)))
    print(f"\nRX {seconds:.0f} s: per channel {dict(sorted(per_channel.items()))}, {dict(per_crc)}")
    assert all(0 <= channel <= 9 for channel in per_channel)
    for uplink_freq in concentrator.stats().get("rx_packets_per_frequency", {}):
        assert 100_000_000 <= int(uplink_freq) <= 1_000_000_000
