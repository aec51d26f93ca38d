"""What the kit tests share: running the CLI, a tiny scenario on a region's own channel."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from packet_forwarder.regions import region_preset

#: a LoRaWAN unconfirmed data uplink (the docs' scenario example, first line)
PHY_HEX = "4034120b268001000119a47e1e70bcc9515adfa480"


def cli(
    *args: str, timeout: float = 60, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``edge-agent ARGS`` in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "edge_agent.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin,
    )


def scenario_for(region: str, path: Path) -> Path:
    """A one-uplink scenario on the first uplink channel of ``region``'s plan."""
    freq_hz = region_preset(region).uplink_frequencies_hz()[0]
    line = {"at_ms": 20, "freq_hz": freq_hz, "sf": 7, "bw_hz": 125000, "cr": "4/5"}
    line |= {"rssi_dbm": -60.0, "snr_db": 8.0, "crc": "ok", "phy": PHY_HEX}
    path.write_text(json.dumps(line) + "\n")
    return path


def on_simulator(config: Path, scenario: Path, tmp: Path) -> Path:
    """A copy of ``config`` that runs the simulator through ``scenario`` and exits when done.

    Only the concentrator URL changes (and the sim table is added): the board, region,
    backends and spool are the ones ``config init`` wrote."""
    text = config.read_text()
    lines = [line for line in text.splitlines() if not line.startswith(("url =", "firmware_dir ="))]
    out = "\n".join(lines).replace("[concentrator]\n", '[concentrator]\nurl = "sim://"\n', 1)
    out += f'\n[concentrator.sim]\nscenario = "{scenario}"\nexit_when_done = true\n'
    out += f'\n[status]\nsocket = "{tmp / "status.sock"}"\n'
    path = tmp / "sim.toml"
    path.write_text(out)
    return path


@contextlib.contextmanager
def running_daemon(config: Path, timeout_s: float = 30.0) -> Iterator[dict[str, Any]]:
    """``edge-agent run -c config`` until the block ends (SIGTERM, exit 0 asserted); yields
    its status document once the radio runs and has received something."""
    daemon = subprocess.Popen(
        [sys.executable, "-m", "edge_agent.cli", "run", "-c", str(config)],
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            status = cli("status", "-c", str(config), "--json")
            document = json.loads(status.stdout) if status.returncode == 0 else {}
            radio = document.get("radio", {})
            if radio.get("state") == "running" and radio["rx"]["total"]:
                break
            assert time.monotonic() < deadline, status.stderr
            time.sleep(0.2)
        yield document
    finally:
        daemon.terminate()
        assert daemon.wait(timeout=30) == 0
