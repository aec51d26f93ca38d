"""``edge-agent diag`` end to end on the simulator with a real mosquitto: the full report, the
receive test without a daemon, and the radio checks answered by a running daemon."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.ops.daemon_config import write_config

pytestmark = pytest.mark.broker

#: what the simulator in a container cannot answer; every other check must pass
MAY_WARN = {"clock", "gps"}


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edge_agent.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_every_check_passes_on_the_simulator_with_a_real_broker(tmp_path: Path, broker) -> None:  # type: ignore[no-untyped-def]
    proc = cli("diag", "-c", str(write_config(tmp_path, broker.url)), "--json")
    report = json.loads(proc.stdout)
    not_passed = {c["name"]: c for c in report["checks"] if c["status"] != "pass"}
    assert proc.returncode == 0, not_passed
    assert set(not_passed) <= MAY_WARN
    assert all(c["hint"] for c in not_passed.values())
    assert report["summary"]["failed"] == 0


def test_rx_without_daemon_reports_packets_per_channel(tmp_path: Path) -> None:
    proc = cli(
        "diag",
        "-c",
        str(write_config(tmp_path, "tcp://127.0.0.1:1")),
        "rx",
        "--seconds",
        "2",
        "--json",
    )
    (rx,) = json.loads(proc.stdout)["checks"]
    assert (proc.returncode, rx["status"]) == (0, "pass"), rx
    assert " packets in 2 s; per channel 86" in rx["detail"]
    assert "CRC ok " in rx["detail"]


def test_radio_checks_ask_the_running_daemon(tmp_path: Path, broker) -> None:  # type: ignore[no-untyped-def]
    config = write_config(tmp_path, broker.url)
    daemon = subprocess.Popen(
        [sys.executable, "-m", "edge_agent.cli", "run", "-c", str(config)],
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            status = cli("status", "-c", str(config), "--json")
            if status.returncode == 0 and json.loads(status.stdout)["radio"]["state"] == "running":
                break
            assert time.monotonic() < deadline, status.stderr
            time.sleep(0.2)
        proc = cli(
            "diag", "-c", str(config), "--json", "concentrator", "radios", "rx", "--seconds", "2"
        )
        by_name = {c["name"]: c for c in json.loads(proc.stdout)["checks"]}
        assert proc.returncode == 0, by_name
        assert by_name["concentrator"]["detail"] == (
            "SX1302 version 0x10, EUI 0016c001ff1a08f0 (from the running daemon)"
        )
        assert by_name["rx"]["status"] == "pass"
        assert by_name["rx"]["detail"].endswith("(from the running daemon)")
    finally:
        daemon.terminate()
        assert daemon.wait(timeout=30) == 0
