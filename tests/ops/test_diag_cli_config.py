"""``edge-agent diag -c FILE --json`` end to end with a real TOML file and the real loader."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.broker import free_port


def diag_json(config: Path, *checks: str) -> tuple[int, dict]:
    proc = subprocess.run(
        [sys.executable, "-m", "edge_agent.cli", "diag", "-c", str(config), "--json", *checks],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return proc.returncode, json.loads(proc.stdout)


def test_missing_spi_device_and_unreachable_broker_fail_with_exit_1(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[gateway]
id = "0016c001ff1e0001"

[concentrator]
url = "spi:///dev/spidev9.9"

[mqtt]
server = "tcp://127.0.0.1:{port}"
"""
    )
    code, report = diag_json(config, "config", "device", "broker-dns", "broker-tcp")
    by_name = {c["name"]: c for c in report["checks"]}
    assert code == 1
    assert by_name["config"]["status"] == "pass"
    assert by_name["device"]["status"] == "fail"
    assert (
        by_name["broker-tcp"]["detail"]
        == f"chirpstack: cannot connect to 127.0.0.1:{port}: Connection refused"
    )


def test_invalid_config_fails_the_config_check_naming_the_key(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[mqtt]\nqos = 7\n")
    code, report = diag_json(config, "config")
    assert code == 1
    assert report["checks"][0]["status"] == "fail"
    assert "mqtt.qos" in report["checks"][0]["detail"]
