"""The demo's decoding of uplinks (the full demo needs the simulator; run by ``make demo``)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from edge_agent.backends.chirpstack.codec import uplink_frame
from edge_agent.config import parse_config
from edge_agent.demo import demo_config, describe_phy, describe_uplink
from tests.agent.fakes import make_uplink


def test_data_up_shows_dev_addr_and_fcnt() -> None:
    assert describe_phy(make_uplink(258).phy_payload) == (
        "UnconfDataUp DevAddr 01020304 FCnt   258"
    )


def test_join_request_shows_euis() -> None:
    phy = bytes([0x00]) + bytes(range(1, 9)) + bytes(range(9, 17)) + bytes(6)
    assert describe_phy(phy) == ("JoinRequest  JoinEUI 0807060504030201 DevEUI 100f0e0d0c0b0a09")


def test_uplink_line_has_frequency_sf_rssi_snr_and_length() -> None:
    line = describe_uplink(uplink_frame(make_uplink(1), "0016c001ff10a235"))
    assert "868.300 MHz" in line
    assert "SF8 " in line
    assert "RSSI  -58 dBm" in line
    assert "SNR   9.2 dB" in line or "SNR   9.3 dB" in line
    assert line.endswith(" 14 B")


def test_demo_config_is_valid() -> None:
    cfg = parse_config(demo_config("tcp://127.0.0.1:40000", "devices = 2"))
    assert cfg.concentrator.url == "sim://"
    assert cfg.concentrator.sim.options == {"devices": 2}


@pytest.mark.broker
@pytest.mark.slow
def test_demo_shows_uplinks_arriving() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "edge_agent.demo", "--duration", "8", "--interval", "0.5"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert " MHz " in proc.stdout
