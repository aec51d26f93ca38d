"""The Semtech UDP backend on a loopback GWMP server: acks, resends, hold, downlinks, garbage."""

from __future__ import annotations

import base64
import json
import logging
import queue
import threading
from collections.abc import Iterator

import pytest

from edge_agent.backends.registry import backend_class
from edge_agent.backends.semtech_udp import SemtechUdpBackend
from edge_agent.backends.semtech_udp.backend import PUSH_RETRIES
from edge_agent.config import parse_config
from edge_agent.downlinks import DownlinkPipeline
from edge_agent.store.memory import MemoryUplinkStore
from packet_forwarder import gwmp
from tests.agent.fakes import make_uplink
from tests.backends.udp_server import UdpServer
from tests.waiting import wait_until

GW_ID = "0016c001ff10a235"
SESSION = 0x1234_5678


def udp_config(server: UdpServer, extra: str = "", keepalive_s: float = 0.3) -> str:
    return (
        f'[gateway]\nid = "{GW_ID}"\n[concentrator]\nregion = "EU868"\n'
        f'[[backend]]\nname = "community"\ntype = "semtech_udp"\nserver = "{server.url}"\n'
        f"keepalive_interval_s = {keepalive_s}\npush_timeout_ms = 100\nstat_interval_s = 60\n"
        f"{extra}"
    )


@pytest.fixture
def server() -> Iterator[UdpServer]:
    srv = UdpServer()
    yield srv
    srv.close()


@pytest.fixture
def started() -> Iterator[list[SemtechUdpBackend]]:
    made: list[SemtechUdpBackend] = []
    yield made
    for backend in made:
        backend.stop()


def start(started: list[SemtechUdpBackend], server: UdpServer, **kw: object) -> SemtechUdpBackend:
    cfg = parse_config(udp_config(server, **kw))  # type: ignore[arg-type]
    backend = SemtechUdpBackend(cfg.backends[0], MemoryUplinkStore())
    backend.start(GW_ID)
    started.append(backend)
    return backend


def test_registry_names_the_udp_backend() -> None:
    assert backend_class("semtech_udp") is SemtechUdpBackend


def test_uplink_goes_out_as_rxpk_and_leaves_the_store_on_push_ack(server, started) -> None:
    backend = start(started, server)
    wait_until(backend.connected.is_set)  # the keep-alive was answered
    backend.submit(make_uplink(3))
    (got,) = server.rxpk_pushes(1)
    push = got.datagram
    assert isinstance(push, gwmp.PushData) and push.gateway_eui == int(GW_ID, 16)
    (rxpk,) = push.payload["rxpk"]
    assert base64.b64decode(rxpk["data"]) == make_uplink(3).phy_payload
    assert (rxpk["tmst"], rxpk["freq"], rxpk["datr"]) == (0x1000_0000 + 3000, 868.1, "SF10BW125")
    assert "meta" not in rxpk  # sent at once: not buffered
    wait_until(lambda: backend.store.pending() == 0)
    assert backend.link.delivered == 1 and backend.link.rtt_s is not None


def test_unacknowledged_push_data_is_resent_from_the_store(server, started) -> None:
    backend = start(started, server)
    wait_until(backend.connected.is_set)
    server.drop_pushes = 2
    backend.submit(make_uplink(1))
    first, second, third = server.rxpk_pushes(3)
    assert first.raw == second.raw == third.raw  # the same datagram, token included
    wait_until(lambda: backend.store.pending() == 0)
    assert backend.counters.push_resends == 2
    assert backend.counters.push_give_ups == 0


def test_after_the_retries_uplinks_wait_for_an_answered_keepalive_then_go_in_order(
    server, started
) -> None:
    backend = start(started, server, keepalive_s=0.5)
    wait_until(backend.connected.is_set)
    server.ack_pushes = server.ack_pulls = False  # the server goes silent
    for n in range(3):
        backend.submit(make_uplink(n))
    server.rxpk_pushes(1 + PUSH_RETRIES)  # first send and every resend, then it gives up
    wait_until(lambda: backend.counters.push_give_ups == 1)
    assert not backend.connected.is_set()
    assert backend.store.pending() == 3
    while not server.pushes.empty():
        server.pushes.get_nowait()
    server.ack_pushes = server.ack_pulls = True  # back: the next keep-alive is answered
    wait_until(lambda: backend.store.pending() == 0, timeout=10)
    sent = [base64.b64decode(r["data"])[6] for g in server.rxpk_pushes(1) for r in
            g.datagram.payload["rxpk"]]  # fmt: skip
    assert sent == [0, 1, 2]


def test_buffered_uplinks_carry_the_meta_mark(server, started) -> None:
    server.ack_pulls = False
    backend = start(started, server)
    backend.submit(make_uplink(7))  # not connected yet: buffered
    server.ack_pulls = True
    (got,) = server.rxpk_pushes(1)
    assert got.datagram.payload["rxpk"][0]["meta"] == {"buffered": "true"}


def test_stat_is_pushed_with_the_interval_counts(server, started) -> None:
    from edge_agent.backends.base import StatsReport
    from packet_forwarder.model import GatewayStats

    backend = start(started, server)
    wait_until(backend.connected.is_set)
    stats = GatewayStats(rx_packets_received=5, rx_packets_received_ok=4)
    backend.publish_stats(StatsReport(stats, 1_700_000_000.0, rx_forwarded=3))
    while "stat" not in (got := server.pushes.get(timeout=5)).datagram.payload:
        pass
    stat = got.datagram.payload["stat"]
    assert (stat["rxnb"], stat["rxok"], stat["rxfw"]) == (5, 4, 3)
    assert stat["time"] == "2023-11-14 22:13:20 GMT"


class Radio:
    """A concentrator stand-in: a settable counter and the programs it was given."""

    def __init__(self, now_us: int) -> None:
        from drivers.sx1302.plan import eu868_corecell_plan

        self.now_us = now_us
        self.sent: list[object] = []
        self.lock = threading.RLock()
        self.plan = eu868_corecell_plan()
        self.started = True

    def counter_us(self) -> int:
        return self.now_us

    def tx_status(self, rf_chain: int) -> str:
        return "FREE"

    def send(self, program: object) -> None:
        self.sent.append(program)


def txpk(tmst: int) -> dict[str, object]:
    data = base64.b64encode(b"\x60\x04\x03\x02\x01\x00\x01\x00\xaa\xbb\xcc\xdd").decode()
    return {"tmst": tmst, "freq": 869.525, "rfch": 0, "powe": 14, "modu": "LORA",
            "datr": "SF9BW125", "codr": "4/5", "ipol": True, "size": 12, "data": data}  # fmt: skip


def test_pull_resp_is_scheduled_on_its_tmst_and_answered_tx_ack(server, started) -> None:
    backend = start(started, server)
    cfg = parse_config(udp_config(server))
    pipe = DownlinkPipeline(cfg, lambda: SESSION)
    backend.downlink_sink = pipe.submit
    wait_until(backend.connected.is_set)
    radio = Radio(now_us=4_100_000)
    server.send_down(gwmp.PullResp(0x4242, {"txpk": txpk(5_000_000)}).to_bytes())
    assert pipe.handle_once(radio, timeout=5.0) == 1
    ack = server.tx_acks.get(timeout=5).datagram
    assert isinstance(ack, gwmp.TxAck) and ack.token == 0x4242
    assert ack.payload == {"txpk_ack": {"error": "NONE"}}
    assert pipe.dispatch_once(radio) is None  # 900 ms early: stays queued
    radio.now_us = 5_000_000 - 30_000
    tx = pipe.dispatch_once(radio)
    assert tx is not None and tx.count_us == 5_000_000 and len(radio.sent) == 1


def test_a_late_pull_resp_is_answered_with_the_protocol_error_name(server, started) -> None:
    backend = start(started, server)
    pipe = DownlinkPipeline(parse_config(udp_config(server)), lambda: SESSION)
    backend.downlink_sink = pipe.submit
    wait_until(backend.connected.is_set)
    server.send_down(gwmp.PullResp(7, {"txpk": txpk(5_000_000)}).to_bytes())
    assert pipe.handle_once(Radio(now_us=5_000_000 - 1000), timeout=5.0) == 1
    ack = server.tx_acks.get(timeout=5).datagram
    assert ack.payload == {"txpk_ack": {"error": "TOO_LATE"}}


GARBAGE = [
    b"\x02\x00",  # too short
    b"\x07\x12\x34\x01",  # unknown protocol version
    b"\x02\x12\x34\x09",  # unknown identifier
    b"\x02\x12\x34\x03{not json",  # PULL_RESP, bad JSON
    b"\x02\x12\x34\x03" + json.dumps({"txpk": {"modu": "LORA"}}).encode(),  # txpk lacks fields
    gwmp.PushData(1, 2, {}).to_bytes(),  # a gateway's datagram sent to us
]


def test_malformed_datagrams_are_counted_logged_once_per_kind_and_ignored(
    server, started, caplog
) -> None:
    backend = start(started, server)
    pipe = DownlinkPipeline(parse_config(udp_config(server)), lambda: SESSION)
    backend.downlink_sink = pipe.submit
    wait_until(backend.connected.is_set)
    with caplog.at_level(logging.WARNING, logger="edge_agent.backends.semtech_udp"):
        for data in GARBAGE * 2:
            server.send_down(data)
        wait_until(lambda: sum(backend.counters.malformed.values()) == 2 * len(GARBAGE))
    assert set(backend.counters.malformed.values()) == {2}
    warnings = [r for r in caplog.records if "malformed datagram" in r.getMessage()]
    assert len(warnings) == len(GARBAGE) == len(backend.counters.malformed)
    with pytest.raises(queue.Empty):
        pipe.inbox.get_nowait()  # nothing reached the downlink pipeline
    backend.submit(make_uplink(9))  # and the backend still works
    wait_until(lambda: backend.store.pending() == 0)
    assert backend.running
