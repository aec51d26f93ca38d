"""A real daemon (AgentService + Supervisor) on the simulator, in this process, answering on a
status socket: tests of ``status`` and ``diag`` read the documents it produces."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from edge_agent.config import load_config
from edge_agent.service import AgentService
from edge_agent.supervision import Supervisor
from tests.waiting import wait_until

GW_ID = "0016c001ff1e0001"


def daemon_config_text(
    tmp_path: Path, socket: Path, *, scenario: list[dict[str, Any]] | None = None, extra: str = ""
) -> str:
    """A daemon config on ``sim://`` (broker unreachable: MQTT is not what these tests read)."""
    sim = ""
    if scenario is not None:
        path = tmp_path / "daemon-scenario.jsonl"
        path.write_text("".join(json.dumps(line) + "\n" for line in scenario))
        sim = f'[concentrator.sim]\nscenario = "{path}"\n'
    return (
        f'[gateway]\nid = "{GW_ID}"\nstats_interval_s = 600\n'
        f'[concentrator]\nurl = "sim://"\nregion = "EU868"\nradio_fail_restart_after_s = 0.5\n'
        f"{sim}{extra}\n"
        '[mqtt]\nserver = "tcp://127.0.0.1:1"\nreconnect_min_s = 0.5\nreconnect_max_s = 1\n'
        f'[spool]\npath = "{tmp_path / "daemon-spool.db"}"\n'
        f'[status]\nsocket = "{socket}"\n'
    )


@contextmanager
def supervised(path: Path) -> Iterator[tuple[AgentService, Supervisor]]:
    """The daemon for the config file at ``path`` (reloadable), started; stopped after."""
    service = AgentService(load_config(path), config_path=str(path))
    supervisor = Supervisor(service, environ={})
    service.start()
    supervisor.start()
    try:
        yield service, supervisor
    finally:
        supervisor.close()
        service.stop()


@contextmanager
def live_daemon(
    tmp_path: Path,
    socket: Path,
    *,
    scenario: list[dict[str, Any]] | None = None,
    extra: str = "",
    until: Callable[[dict[str, Any]], bool] = lambda doc: doc["radio"]["state"] == "running",
    timeout_s: float = 20.0,
) -> Iterator[Supervisor]:
    """Run the daemon until ``until(document)`` holds; yields its Supervisor; stops it after."""
    path = tmp_path / "daemon.toml"
    path.write_text(daemon_config_text(tmp_path, socket, scenario=scenario, extra=extra))
    with supervised(path) as (_service, supervisor):
        wait_until(lambda: until(supervisor.document()), timeout_s, "the daemon's state")
        yield supervisor
