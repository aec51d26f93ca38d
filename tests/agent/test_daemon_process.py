"""``edge-agent run`` as a subprocess: config errors, SIGTERM, and the Last Will on SIGKILL."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from chirpstack_api import gw

from tests.agent.mqtt_helpers import GW_ID, Subscriber, config_text, run_agent


def test_config_error_exits_2_naming_the_key_without_traceback(tmp_path: Path) -> None:
    config = tmp_path / "agent.toml"
    config.write_text("[mqtt]\nqos = 3\n")
    proc = run_agent(config)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert "mqtt.qos: must be 0, 1 or 2" in err
    assert "Traceback" not in err


def test_missing_config_file_exits_2(tmp_path: Path) -> None:
    proc = run_agent(tmp_path / "absent.toml")
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert "configuration file not found" in err


@pytest.fixture
def agents() -> Iterator[list[subprocess.Popen[str]]]:
    """Agent processes a test started; killed at the end if still running."""
    procs: list[subprocess.Popen[str]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)


def online_agent(broker, tmp_path: Path, agents):  # type: ignore[no-untyped-def]
    """An agent subprocess whose retained state/conn is ONLINE (the radio need not be up)."""
    config = tmp_path / "agent.toml"
    config.write_text(config_text(broker.url))
    sub = Subscriber(broker.port, f"eu868/gateway/{GW_ID}/state/conn")
    proc = run_agent(config)
    agents.append(proc)
    msg = sub.expect(lambda m: True, timeout=30)
    assert gw.ConnState.FromString(msg.payload).state == gw.ConnState.ONLINE
    return proc, sub


@pytest.mark.broker
def test_sigkill_leaves_retained_last_will_offline(broker, tmp_path: Path, agents) -> None:
    proc, sub = online_agent(broker, tmp_path, agents)
    proc.kill()
    proc.communicate(timeout=30)
    msg = sub.expect(lambda m: True, timeout=30)  # the broker notices the dead socket at once
    assert gw.ConnState.FromString(msg.payload).state == gw.ConnState.OFFLINE
    sub.close()
    late = Subscriber(broker.port, f"eu868/gateway/{GW_ID}/state/conn")
    retained = late.expect(lambda m: True)
    assert retained.retain
    assert gw.ConnState.FromString(retained.payload).state == gw.ConnState.OFFLINE
    late.close()


@pytest.mark.broker
def test_sigterm_publishes_offline_and_exits_0(broker, tmp_path: Path, agents) -> None:
    proc, sub = online_agent(broker, tmp_path, agents)
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    msg = sub.expect(lambda m: True)
    assert gw.ConnState.FromString(msg.payload).state == gw.ConnState.OFFLINE
    sub.close()
