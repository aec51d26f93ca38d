"""The real daemon under a harness that plays systemd's notify side (READY, WATCHDOG, STOPPING),
with its status socket and signals."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ops.daemon_config import write_config
from tests.ops.notify_harness import NotifyHarness

pytestmark = pytest.mark.broker


def test_daemon_notifies_ready_watchdog_and_stopping(tmp_path: Path, broker) -> None:
    harness = NotifyHarness(tmp_path / "notify.sock", watchdog_usec=1_000_000)
    config = write_config(tmp_path, broker.url, sim="", stats_interval_s=5)
    proc = subprocess.Popen(
        [sys.executable, "-m", "edge_agent.cli", "run", "-c", str(config)],
        env=harness.environ(),
    )
    try:
        harness.wait_for("READY", timeout=30)
        assert harness.count("WATCHDOG", 1.6) >= 2  # every WATCHDOG_USEC/2 = 0.5 s
        status = subprocess.run(
            [sys.executable, "-m", "edge_agent.cli", "status", "-c", str(config), "--json"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["gateway_id"] == "0016c001ff1e0001"
        proc.send_signal(signal.SIGHUP)  # reload: the daemon stays up
        harness.wait_for("RELOADING", timeout=5)
        harness.wait_for("READY", timeout=5)
        harness.wait_for("WATCHDOG", timeout=5)
        assert proc.poll() is None
        status = subprocess.run(
            [sys.executable, "-m", "edge_agent.cli", "status", "-c", str(config), "--json"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert json.loads(status.stdout)["reloads"] == 1
        proc.send_signal(signal.SIGTERM)
        harness.wait_for("STOPPING", timeout=10)
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
        proc.wait()
        harness.close()
