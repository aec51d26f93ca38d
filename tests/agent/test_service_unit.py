"""Service pieces that need no broker: transport options, routing, stats, summary."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from chirpstack_api import gw

from edge_agent.config import parse_config
from edge_agent.service import AgentService, transport_options
from packet_forwarder.model import CrcStatus
from tests.agent.fakes import make_uplink


def test_sim_gets_its_keys_and_rssi_calibration_but_not_exit_when_done() -> None:
    cfg = parse_config(
        '[concentrator.sim]\nscenario = "s.jsonl"\nexit_when_done = true\nseed = 3\n'
        "[concentrator]\ntemperature_c = 31.5\n"
    )
    opts = transport_options(cfg)
    assert opts["scenario"] == "s.jsonl"
    assert opts["seed"] == 3
    assert opts["temperature_c"] == 31.5
    assert opts["rssi_offset_db"] == -215.4
    assert opts["rssi_tcomp"] == (0.0, 0.0, 20.41, 2162.56, 0.0)
    assert "exit_when_done" not in opts


def test_hardware_urls_get_no_sim_options() -> None:
    assert transport_options(parse_config('[concentrator]\nurl = "spi:///dev/spidev0.0"')) == {}


@pytest.fixture
def service() -> Iterator[Callable[..., AgentService]]:
    """Make services (never started: no connection); each is stopped after the test (its
    spool's commit thread ends)."""
    made: list[AgentService] = []

    def make(text: str = '[gateway]\nid = "0016c001ff10a235"') -> AgentService:
        spool = Path(tempfile.mkdtemp(prefix="edge-agent-test-")) / "spool.db"
        made.append(AgentService(parse_config(text + f'\n[spool]\npath = "{spool}"\n')))
        return made[-1]

    yield make
    for svc in made:
        svc.stop()


def test_route_counts_and_queues_accepted_uplinks_as_buffered_while_offline(service) -> None:  # type: ignore[no-untyped-def]
    svc = service()
    assert svc.route(make_uplink(1)) is True
    record = svc.store.take(1)[0]
    assert record.buffered is True
    assert gw.UplinkFrame.FromString(record.payload).phy_payload == make_uplink(1).phy_payload


def test_route_holds_back_crc_bad(service) -> None:  # type: ignore[no-untyped-def]
    svc = service()
    assert svc.route(make_uplink(crc=CrcStatus.BAD)) is False
    assert (svc.counters.received, svc.counters.filtered, svc.store.pending()) == (1, 1, 0)


def test_stats_interval_counts_and_resets(service) -> None:  # type: ignore[no-untyped-def]
    svc = service()
    for n in range(3):
        svc.route(make_uplink(n, crc=CrcStatus.BAD if n == 2 else CrcStatus.OK))
    first = gw.GatewayStats.FromString(svc.stats_once())
    second = gw.GatewayStats.FromString(svc.stats_once())
    assert (first.rx_packets_received, first.rx_packets_received_ok) == (3, 2)
    # per frequency: CRC_OK only, as concentratord counts (the BAD_CRC one on 868.5 MHz is not)
    assert dict(first.rx_packets_per_frequency) == {868_100_000: 1, 868_300_000: 1}
    assert first.metadata["queue_pending"] == "2"
    assert second.rx_packets_received == 0


def test_stats_carry_configured_location(service) -> None:  # type: ignore[no-untyped-def]
    svc = service('[gateway]\nid = "0016c001ff10a235"\nlatitude = 52.5\nlongitude = 13.4')
    stats = gw.GatewayStats.FromString(svc.stats_once())
    assert (stats.location.latitude, stats.location.longitude) == (52.5, 13.4)


def test_summary_says_when_stopped_early(service) -> None:  # type: ignore[no-untyped-def]
    assert service().summary(finished=False).startswith("edge-agent: stopped early: 0 packets")
