"""A spool written by the single-backend release (one ``[mqtt]`` table) drains after the upgrade.

The file is made here as that release made it: the same SQL schema (``uplinks`` and ``counters``,
WAL, ``user_version`` 1), rows under the backend name it hard-coded (``chirpstack``), payloads
the protobuf ``gw.UplinkFrame`` it stored, counters it persisted. No code of today writes it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from chirpstack_api import gw

from edge_agent.config import parse_config
from edge_agent.service import AgentService
from tests.agent.fakes import FakeConcentrator, make_uplink
from tests.agent.mqtt_helpers import GW_ID, Subscriber, config_text
from tests.waiting import wait_until

pytestmark = pytest.mark.broker

#: the schema of edge_agent/spool_db.py at the single-backend release (SCHEMA_VERSION 1)
OLD_SCHEMA = """
CREATE TABLE IF NOT EXISTS uplinks (
    seq INTEGER PRIMARY KEY,
    backend TEXT NOT NULL,
    received_at REAL NOT NULL,
    buffered INTEGER NOT NULL,
    payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""
OLD_BACKEND = "chirpstack"
RECEIVED_AT = 1_700_000_000.5


def old_frame(fcnt: int) -> bytes:
    """A ``gw.UplinkFrame`` as that release encoded it (phy payload, tx and rx info)."""
    phy = bytes([0x40, 0x04, 0x03, 0x02, 0x01, 0x80, fcnt, 0, 0x01, 0xAA]) + bytes(4)
    frame = gw.UplinkFrame(phy_payload=phy)
    frame.tx_info.frequency = 868_100_000
    lora = frame.tx_info.modulation.lora
    lora.bandwidth, lora.spreading_factor, lora.code_rate = 125_000, 7, gw.CR_4_5
    rx = frame.rx_info
    rx.gateway_id, rx.uplink_id, rx.rssi, rx.snr = GW_ID, 1000 + fcnt, -60, 9.0
    rx.gw_time.FromMicroseconds(round((RECEIVED_AT + fcnt) * 1e6))
    rx.crc_status = gw.CRC_OK
    return frame.SerializeToString()


def write_old_spool(path: Path, fcnts: list[int]) -> None:
    """The file the earlier release left behind when it stopped with these uplinks pending."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(OLD_SCHEMA)
    conn.execute("PRAGMA user_version=1")
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO uplinks(seq, backend, received_at, buffered, payload) VALUES (?,?,?,?,?)",
        [(i + 1, OLD_BACKEND, RECEIVED_AT + f, 1, old_frame(f)) for i, f in enumerate(fcnts)],
    )
    counters = {"spooled": len(fcnts) + 5, "delivered": 5, "dropped": 0, "committed_writes": 2}
    conn.executemany("INSERT INTO counters(name, value) VALUES (?, ?)", counters.items())
    conn.execute("COMMIT")
    conn.close()


def fcnt(payload: bytes) -> int:
    frame = gw.UplinkFrame.FromString(payload)
    return frame.phy_payload[6] | frame.phy_payload[7] << 8


def test_old_single_backend_spool_drains_in_order_before_new_traffic_marked_buffered(
    broker, running, tmp_path: Path
) -> None:
    spool = tmp_path / "spool.db"
    write_old_spool(spool, [10, 11, 12])
    sub = Subscriber(broker.port, "+/gateway/+/event/up")
    conc = FakeConcentrator(hold=True)
    text = config_text(broker.url, spool_path=str(spool))  # the legacy [mqtt] table, unchanged
    svc = AgentService(parse_config(text), concentrator_factory=lambda _cfg: conc)
    running.append(svc)
    assert [b.name for b in svc.backends] == ["chirpstack"]
    assert svc.store.pending() == 3
    svc.start()
    wait_until(svc.backend.connected.is_set)
    conc.feed([make_uplink(13)])
    conc.hold.clear()
    msgs = sub.collect("/event/up", 4)
    assert [fcnt(m.payload) for m in msgs] == [10, 11, 12, 13]
    frames = [gw.UplinkFrame.FromString(m.payload) for m in msgs]
    assert [f.rx_info.metadata.get("buffered") for f in frames[:3]] == ["true"] * 3
    assert frames[0].rx_info.gw_time.ToMicroseconds() == round((RECEIVED_AT + 10) * 1e6)
    wait_until(lambda: svc.uplinks.pending() == 0)
    assert svc.uplinks.stats()["delivered"] == 5 + 4
    sub.close()
