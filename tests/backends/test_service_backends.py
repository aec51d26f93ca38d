"""The service with several backends: reload per backend, stats on each backend's own period,
and the ``udp`` diag check."""

from __future__ import annotations

import time

import pytest

import edge_agent.diag.core as core
from edge_agent.config import parse_config
from edge_agent.diag import run_checks
from edge_agent.service import AgentService
from tests.agent.fakes import FakeConcentrator
from tests.backends.udp_server import UdpServer

GW_ID = "0016c001ff10a235"


def backends(udp: str, town_filters: str = "", town_server: str = "tcp://127.0.0.1:1") -> str:
    return (
        '[concentrator]\nregion = "EU868"\n'
        f'[[backend]]\nname = "town"\ntype = "chirpstack"\nserver = "{town_server}"\n'
        f"[backend.filters]\n{town_filters}\n"
        f'[[backend]]\nname = "community"\ntype = "semtech_udp"\nserver = "{udp}"\n'
    )


def test_reload_keeps_unchanged_backends_swaps_filters_restarts_changed_adds_and_removes() -> None:
    svc = AgentService(parse_config(backends("udp://127.0.0.1:9")))  # no gateway id: not started
    town, community = svc.backends
    svc.cfg = parse_config(backends("udp://127.0.0.1:9", 'dev_addr_prefixes = ["26000000/7"]'))
    assert svc.apply_backends() == {"town": "filters replaced", "community": "unchanged"}
    assert svc.backends == [town, community]
    assert town.filter.dev_addr_prefixes == ((0x2600_0000, 7),)
    svc.cfg = parse_config(backends("udp://127.0.0.1:10", town_server="tcp://127.0.0.1:2"))
    actions = svc.apply_backends()
    assert actions == {"town": "restarted", "community": "restarted"}
    assert svc.backends[0] is not town and svc.backends[0].store is town.store  # same FIFO
    text = '[concentrator]\nregion = "EU868"\n[[backend]]\nname = "metro"\ntype = "chirpstack"\n'
    svc.cfg = parse_config(text + 'server = "tcp://127.0.0.1:3"\n')
    actions = svc.apply_backends()
    assert actions["metro"] == "added" and actions["town"].startswith("removed")
    assert [b.name for b in svc.backends] == ["metro"]
    svc.stop()


def test_each_backend_reports_stats_on_its_own_period() -> None:
    server = UdpServer()
    text = (
        f'[gateway]\nid = "{GW_ID}"\nstats_interval_s = 600\n[concentrator]\nregion = "EU868"\n'
        f'[[backend]]\nname = "community"\ntype = "semtech_udp"\nserver = "{server.url}"\n'
        "keepalive_interval_s = 0.2\nstat_interval_s = 0.3\n"
    )
    svc = AgentService(parse_config(text), concentrator_factory=lambda _c: FakeConcentrator())
    try:
        svc.start()
        stats = []
        deadline = time.monotonic() + 10
        while len(stats) < 2 and time.monotonic() < deadline:
            got = server.pushes.get(timeout=5)
            if "stat" in got.datagram.payload:  # type: ignore[union-attr]
                stats.append(got.datagram.payload["stat"])  # type: ignore[union-attr]
        assert len(stats) == 2  # every 0.3 s, not every 600 s
        assert {"rxnb", "rxok", "rxfw", "ackr", "dwnb", "txnb"} <= set(stats[0])
    finally:
        svc.stop()
        server.close()


@pytest.fixture
def diag_config(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def install(text: str) -> None:
        cfg = parse_config(text)
        monkeypatch.setattr(core, "_load_config", lambda _path: cfg)

    return install


def test_udp_check_passes_when_the_server_answers_the_keepalive(diag_config) -> None:
    server = UdpServer()
    try:
        diag_config(f'[gateway]\nid = "{GW_ID}"\n' + backends(server.url))
        ctx = core.DiagContext(config_path="test.toml", timeout_s=2.0)
        (result,) = run_checks(ctx, ["udp"])
        assert result.status == "pass"
        assert result.detail.startswith(f"community: 127.0.0.1:{server.port} answered PULL_DATA")
        pull = server.pulls.get(timeout=1).datagram
        assert pull.gateway_eui == int(GW_ID, 16)  # type: ignore[union-attr]
    finally:
        server.close()


def test_udp_check_fails_with_a_hint_when_nothing_answers(diag_config) -> None:
    server = UdpServer()
    server.ack_pulls = False
    try:
        diag_config(f'[gateway]\nid = "{GW_ID}"\n' + backends(server.url))
        (result,) = run_checks(core.DiagContext(config_path="t.toml", timeout_s=0.5), ["udp"])
        assert (result.status, result.detail) == (
            "fail",
            f"community: no PULL_ACK from 127.0.0.1:{server.port} within 0 s",
        )
        assert "firewall" in result.hint
    finally:
        server.close()


def test_udp_check_passes_without_udp_backends(diag_config) -> None:
    diag_config("")
    (result,) = run_checks(core.DiagContext(config_path="t.toml"), ["udp"])
    assert (result.status, result.detail) == ("pass", "no semtech_udp backend configured")


def test_broker_checks_name_each_chirpstack_backend(diag_config) -> None:
    text = backends("udp://127.0.0.1:9") + (
        '[[backend]]\nname = "metro"\ntype = "chirpstack"\nserver = "tcp://127.0.0.1:1"\n'
        'client_id = "m"\n'
    )
    diag_config(text)
    results = {r.name: r for r in run_checks(core.DiagContext(config_path="t", timeout_s=1), [
        "broker-dns", "broker-tcp"])}  # fmt: skip
    assert (
        results["broker-dns"].detail == "town: 127.0.0.1 → 127.0.0.1; metro: 127.0.0.1 → 127.0.0.1"
    )
    tcp = results["broker-tcp"]
    assert tcp.status == "fail" and tcp.detail.startswith("town: cannot connect to 127.0.0.1:1")
    assert "; metro: cannot connect" in tcp.detail
