"""A paho subscriber for the daemon's integration tests, config text builders, test brokers
that keep their state, and the ``running`` fixture (services stopped at teardown)."""

from __future__ import annotations

import json
import os
import queue
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import paho.mqtt.client as mqtt
import pytest

if TYPE_CHECKING:
    from edge_agent.service import AgentService

GW_ID = "0016c001ff10a235"


@dataclass(frozen=True)
class Received:
    topic: str
    payload: bytes
    retain: bool


class Subscriber:
    """Subscribes to ``topic`` on the test broker and queues what arrives."""

    def __init__(
        self,
        port: int,
        topic: str = "#",
        *,
        ca_cert: str | None = None,
        username: str | None = None,
        password: str | None = None,
        persistent: bool = False,
    ) -> None:
        self.messages: queue.Queue[Received] = queue.Queue()
        self.subscribed = queue.Queue[int]()
        # persistent: a durable session (clean_session=False) the broker keeps across restarts
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"test-sub-{port}",
            clean_session=not persistent,
        )
        if ca_cert:
            self.client.tls_set(ca_certs=ca_cert, cert_reqs=ssl.CERT_REQUIRED)
        if username:
            self.client.username_pw_set(username, password)
        self.client.on_message = lambda _c, _u, m: self.messages.put(
            Received(m.topic, m.payload, bool(m.retain))
        )
        self.client.on_connect = lambda c, _u, _f, _rc, _p: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda _c, _u, mid, _rc, _p: self.subscribed.put(mid)
        self.client.connect("127.0.0.1", port, keepalive=10)
        self.client.loop_start()
        self.subscribed.get(timeout=10)

    def reconnected(self, timeout: float = 10.0) -> None:
        """Wait until the subscriber resubscribed after a broker restart."""
        self.subscribed.get(timeout=timeout)

    def expect(self, match: Callable[[Received], bool], timeout: float = 10.0) -> Received:
        """The first message (in arrival order) for which ``match`` is true; others are skipped."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("expected MQTT message did not arrive")
            try:
                msg = self.messages.get(timeout=left)
            except queue.Empty:
                continue
            if match(msg):
                return msg

    def collect(self, suffix: str, count: int, timeout: float = 10.0) -> list[Received]:
        """The next ``count`` messages whose topic ends with ``suffix``."""
        return [self.expect(lambda m: m.topic.endswith(suffix), timeout) for _ in range(count)]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def enable_persistence(broker, extra: str = "") -> None:  # type: ignore[no-untyped-def]
    """Make a not yet started test broker save its state in its workdir; ``extra``: more lines."""
    store = broker.workdir / "db"
    store.mkdir()
    broker.conf_path.write_text(
        broker.conf_path.read_text().replace("persistence false", "persistence true")
        + f"persistence_location {store}/\n"
        + extra
        # as root, mosquitto drops to user "mosquitto", which cannot write to pytest's tmp dir
        + ("user root\n" if os.geteuid() == 0 else "")
    )


def persistent_broker(broker_factory):  # type: ignore[no-untyped-def]
    """A started broker that saves sessions and queued messages across a SIGTERM restart."""
    probe = broker_factory()
    enable_persistence(probe)
    return probe.start()


@pytest.fixture
def running() -> Iterator[list[AgentService]]:
    """Services a test started; stopped at the end even when the test fails."""
    made: list[AgentService] = []
    yield made
    for svc in made:
        svc.stop()


def config_text(
    server: str,
    *,
    extra_mqtt: str = "",
    extra: str = "",
    gateway_id: bool = True,
    spool_path: str | None = None,
    spool_extra: str = "",
) -> str:
    """A daemon configuration for the test broker at ``server``, its spool in a fresh temp dir."""
    gateway = f'[gateway]\nid = "{GW_ID}"\nstats_interval_s = 600\n' if gateway_id else ""
    if spool_path is None:
        spool_path = os.path.join(tempfile.mkdtemp(prefix="edge-agent-test-"), "spool.db")
    return (
        f"{gateway}"
        '[concentrator]\nurl = "sim://"\nregion = "EU868"\n'
        f'[mqtt]\nserver = "{server}"\nreconnect_min_s = 0.1\nreconnect_max_s = 0.5\n'
        f"{extra_mqtt}\n{extra}\n"
        f'[spool]\npath = "{spool_path}"\n{spool_extra}\n'
    )


def run_agent(config: Path) -> subprocess.Popen[str]:
    """``edge-agent run -c config`` as a subprocess, output piped, environment inherited."""
    return subprocess.Popen(
        [sys.executable, "-m", "edge_agent.cli", "run", "-c", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )


def scenario_config(tmp_path: Path, server: str, lines: list[dict[str, object]]) -> Path:
    """A config that plays scenario ``lines`` and exits when done (written below ``tmp_path``)."""
    scenario = tmp_path / "scenario.jsonl"
    scenario.write_text("".join(json.dumps(line) + "\n" for line in lines))
    config = tmp_path / "agent.toml"
    sim = f'[concentrator.sim]\nscenario = "{scenario}"\nexit_when_done = true'
    config.write_text(config_text(server, extra=sim))
    return config


def run_to_completion(config: Path) -> subprocess.CompletedProcess[str]:
    """``edge-agent run -c config`` until it exits (at most 60 s), output captured."""
    return subprocess.run(
        [sys.executable, "-m", "edge_agent.cli", "run", "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),
    )
