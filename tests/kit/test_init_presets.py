"""``config init`` for every board × region preset (both lists read from the code): each result
is loaded by the daemon's loader, valid against the published schema, and run on the simulator.

Batched for speed: one test per region runs the nine boards' daemons side by side, in-process
(``AgentService.start``/``stop``, what ``edge-agent run`` wraps), each through a one-uplink
scenario on the region's own channel until both its servers (a mosquitto, a loopback Semtech
UDP server) confirmed the uplink. One more test runs
the real ``edge-agent run`` command on an init result."""

from __future__ import annotations

import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from drivers.boards import board_names, board_preset
from edge_agent.cli import main
from edge_agent.config import load_config
from edge_agent.schemas import schema
from edge_agent.service import AgentService
from edge_agent.testing_broker import Broker, mosquitto_binary
from packet_forwarder.regions import region_names, region_preset
from tests.backends.udp_server import UdpServer
from tests.kit.helpers import cli, on_simulator, scenario_for

pytestmark = pytest.mark.broker
CONFIG_SCHEMA = jsonschema.Draft202012Validator(schema("config"))


@pytest.fixture(scope="module")
def shared_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """One mosquitto for the module (one per region test would dominate its time)."""
    if mosquitto_binary() is None:
        pytest.fail("mosquitto is not installed (apt-get install mosquitto)")
    broker = Broker(tmp_path_factory.mktemp("broker")).start()
    yield broker
    broker.stop(kill=True)


@pytest.fixture(scope="module")
def gwmp_server() -> Iterator[UdpServer]:
    """A loopback Semtech UDP server that acknowledges every PUSH_DATA."""
    server = UdpServer()
    yield server
    server.close()


def init(
    tmp_path: Path, board: str, region: str, servers: tuple[str, str], gateway_id: str
) -> Path:
    """``edge-agent config init`` with every answer a flag (in-process: the CLI's own main)."""
    out = tmp_path / "config.toml"
    code = main([
        "config", "init", "--non-interactive", "--board", board, "--region", region,
        "--chirpstack", servers[0], "--udp", servers[1],
        "--spool", str(tmp_path / "spool.db"), "--gateway-id", gateway_id, "-o", str(out),
    ])  # fmt: skip
    assert code == 0
    return out


def run_side_by_side(configs: list[Path], timeout_s: float = 30.0) -> list[AgentService]:
    """Start a daemon per config, wait until each played its scenario and emptied its spool."""
    services = [AgentService(load_config(c), config_path=str(c)) for c in configs]
    try:
        for service in services:
            service.start()
        deadline = time.monotonic() + timeout_s
        while not all(s.done for s in services):
            assert time.monotonic() < deadline, [s.counters for s in services]
            time.sleep(0.02)
    finally:
        for service in services:
            service.stop(drain_timeout_s=2.0)
    return services


@pytest.mark.parametrize("region", region_names())
def test_every_board_init_result_runs_in_this_region(
    tmp_path: Path, shared_broker: Broker, gwmp_server: UdpServer, region: str
) -> None:
    servers = (shared_broker.url, gwmp_server.url)
    configs = []
    for index, board in enumerate(board_names()):
        folder = tmp_path / board
        folder.mkdir()
        config = init(folder, board, region, servers, f"0016c001ff1e{index:04x}")
        cfg = load_config(config)
        assert cfg.concentrator.board == board
        assert cfg.concentrator.region == region_preset(region).name  # aliases: AU915
        assert cfg.concentrator.url == board_preset(board).default_url()
        assert [b.type for b in cfg.backends] == ["chirpstack", "semtech_udp"]
        with config.open("rb") as file:
            CONFIG_SCHEMA.validate(tomllib.load(file))
        configs.append(on_simulator(config, scenario_for(region, folder / "one.jsonl"), folder))
    services = run_side_by_side(configs)
    for board, service in zip(board_names(), services, strict=True):
        assert service.cfg.concentrator.board == board
        assert (service.counters.received, service.counters.forwarded) == (1, 1), board
        assert [b.link.delivered for b in service.backends] == [1, 1], board


def test_edge_agent_run_command_starts_on_an_init_result(
    tmp_path: Path, shared_broker: Broker, gwmp_server: UdpServer
) -> None:
    board, region = board_names()[0], region_names()[-1]
    servers = (shared_broker.url, gwmp_server.url)
    config = init(tmp_path, board, region, servers, "0016c001ff1effff")
    sim = on_simulator(config, scenario_for(region, tmp_path / "one.jsonl"), tmp_path)
    run = cli("run", "-c", str(sim), timeout=60)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "1 packets played, 1 uplinks forwarded" in run.stdout
