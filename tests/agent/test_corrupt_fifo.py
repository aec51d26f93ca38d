"""Corrupted RX FIFO data loses only the bad records, and the daemon carries on (issue 2).

The simulator appends ``fifo_hex`` scenario lines to its RX FIFO verbatim, as if the chip had
written them: garbage before a sync word, a record with a bad checksum, a truncated record. The
good records around them must all reach the broker, and ``edge-agent run`` must exit 0.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from chirpstack_api import gw

from drivers.sx1302.rx_record import RxRecord, lora_payload_crc
from tests.agent.mqtt_helpers import Subscriber, run_to_completion, scenario_config

pytestmark = [pytest.mark.broker]


def _record(fcnt: int, *, timestamp: int) -> RxRecord:
    """A CRC-OK SF7 record on EU868 channel 0 (868.1 MHz) with a distinct payload."""
    phy = bytes.fromhex("40040302018000") + bytes([fcnt]) + bytes.fromhex("0001a1b2c3d4")
    return RxRecord(
        payload=phy, if_chain=0, sf=7, coding_rate=1, crc_en=True, modem_id=0,
        freq_offset_raw=0, crc_error=False, sync_error=False, header_error=False,
        timing_set=False, snr_raw=20, rssi_chan_raw=120, rssi_sig_raw=118,
        timestamp=timestamp, crc16=lora_payload_crc(phy),
    )  # fmt: skip


def _packet(at_ms: int, fcnt: int) -> dict:
    phy = bytes.fromhex("40040302018000") + bytes([fcnt]) + bytes.fromhex("0001a1b2c3d4")
    return {"at_ms": at_ms, "freq_hz": 868_100_000, "sf": 7, "bw_hz": 125_000, "cr": "4/5",
            "rssi_dbm": -80.0, "snr_db": 5.0, "crc": "ok", "phy": phy.hex()}  # fmt: skip


def test_bad_records_are_skipped_and_every_good_one_is_forwarded(broker, tmp_path: Path) -> None:
    good = {fcnt: _record(fcnt, timestamp=32_000 * fcnt).to_bytes() for fcnt in (2, 4, 6)}
    bad_checksum = bytearray(_record(3, timestamp=96_000).to_bytes())
    bad_checksum[-1] ^= 0x5A
    truncated = _record(5, timestamp=160_000).to_bytes()[:-7]
    wrong_sf = replace(_record(7, timestamp=224_000), sf=3).to_bytes()
    lines = [
        _packet(100, 1),
        {"at_ms": 200, "fifo_hex": (b"\x13\x37\x00\xa5garbage" + good[2]).hex()},
        {"at_ms": 300, "fifo_hex": (bytes(bad_checksum) + good[4]).hex()},
        {"at_ms": 400, "fifo_hex": truncated.hex()},
        {"at_ms": 900, "fifo_hex": (wrong_sf + good[6]).hex()},  # long after the truncation
        _packet(1000, 8),
    ]
    config = scenario_config(tmp_path, broker.url, lines)
    sub = Subscriber(broker.port, "+/gateway/+/event/up")

    proc = run_to_completion(config)

    assert proc.returncode == 0, proc.stderr[-3000:]
    frames = [gw.UplinkFrame.FromString(m.payload) for m in sub.collect("/event/up", 5)]
    fcnts = [frame.phy_payload[7] for frame in frames]
    assert fcnts == [1, 2, 4, 6, 8]
    assert "5 uplinks forwarded" in proc.stdout
    for kind in ("garbage", "checksum", "truncated", "bad_sf"):
        assert f"of kind {kind}" in proc.stderr
    sub.close()
