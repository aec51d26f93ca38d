"""``edge-agent run`` on the real concentrator engine and simulated SX1302, scenario to broker."""

from __future__ import annotations

from pathlib import Path

import pytest
from chirpstack_api import gw

from tests.agent.mqtt_helpers import GW_ID, Subscriber, run_to_completion, scenario_config

pytestmark = [pytest.mark.broker, pytest.mark.slow]

PACKETS = [
    {"at_ms": 100, "freq_hz": 868_100_000, "sf": 7, "bw_hz": 125_000, "cr": "4/5",
     "rssi_dbm": -57.0, "snr_db": 9.5, "crc": "ok", "phy": "4004030201800100010aa1b2c3d4"},
    {"at_ms": 300, "freq_hz": 868_300_000, "sf": 9, "bw_hz": 125_000, "cr": "4/5",
     "rssi_dbm": -98.0, "snr_db": -2.25, "crc": "ok", "phy": "4004030201800200010bb1b2c3d4"},
    {"at_ms": 500, "freq_hz": 867_900_000, "sf": 8, "bw_hz": 125_000, "cr": "4/5",
     "rssi_dbm": -88.0, "snr_db": 4.0, "crc": "bad", "phy": "4004030201800300010cc1b2c3d4"},
    {"at_ms": 700, "freq_hz": 867_100_000, "sf": 12, "bw_hz": 125_000, "cr": "4/5",
     "rssi_dbm": -118.0, "snr_db": -16.5, "crc": "ok", "phy": "4004030201800400010dd1b2c3d4"},
]  # fmt: skip


def test_scenario_is_forwarded_and_run_exits_0_with_summary(broker, tmp_path: Path) -> None:
    config = scenario_config(tmp_path, broker.url, PACKETS)
    sub = Subscriber(broker.port, "+/gateway/+/event/up")
    proc = run_to_completion(config)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines() == [
        "edge-agent: done: 4 packets played, 3 uplinks forwarded, 1 filtered, 0 dropped"
    ]
    frames = [gw.UplinkFrame.FromString(m.payload) for m in sub.collect("/event/up", 3)]
    sent = [p for p in PACKETS if p["crc"] == "ok"]
    for frame, packet in zip(frames, sent, strict=True):
        assert frame.phy_payload.hex() == packet["phy"]
        assert frame.tx_info.frequency == packet["freq_hz"]
        assert frame.tx_info.modulation.lora.spreading_factor == packet["sf"]
        assert frame.tx_info.modulation.lora.bandwidth == packet["bw_hz"]
        assert frame.tx_info.modulation.lora.code_rate == gw.CR_4_5
        assert frame.rx_info.rssi == round(packet["rssi_dbm"])
        assert frame.rx_info.snr == pytest.approx(packet["snr_db"], abs=0.25)
        assert frame.rx_info.crc_status == gw.CRC_OK
        assert frame.rx_info.gateway_id == GW_ID
        assert len(frame.rx_info.context) == 8
    sub.close()
