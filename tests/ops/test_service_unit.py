"""The systemd unit (systemd-analyze verify / security) and install-service / uninstall-service."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from edge_agent.cmd_service import unit_text

REPO = Path(__file__).resolve().parents[2]
UNIT = REPO / "systemd" / "edge-agent.service"
SYSUSERS = REPO / "systemd" / "edge-agent.sysusers"
ANALYZE = shutil.which("systemd-analyze") or "/usr/bin/systemd-analyze"

needs_analyze = pytest.mark.skipif(
    not os.access(ANALYZE, os.X_OK),
    reason="systemd-analyze is not installed (apt-get install systemd)",
)


@needs_analyze
def test_unit_security_exposure_is_at_most_2_5() -> None:
    proc = subprocess.run(
        [ANALYZE, "security", "--offline=yes", "--threshold=25", str(UNIT)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    match = re.search(
        r"Overall exposure level for edge-agent.service: (\d+\.\d+) (\w+)", proc.stdout
    )
    assert match, proc.stdout + proc.stderr
    assert float(match.group(1)) <= 2.5
    assert proc.returncode == 0


@needs_analyze
def test_unit_verifies_without_systemd_as_pid_1(tmp_path: Path) -> None:
    # verify checks that ExecStart exists: point it at a stand-in in tmp (the only change),
    # and disable the man-page lookup and generators, which need a booted systemd.
    (tmp_path / "bin").mkdir()
    stand_in = tmp_path / "bin" / "edge-agent"
    stand_in.write_text("#!/bin/sh\n")
    stand_in.chmod(0o755)
    unit = tmp_path / "edge-agent.service"
    unit.write_text(unit_text(str(tmp_path)))
    proc = subprocess.run(
        [ANALYZE, "verify", "--man=no", "--generators=no", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""


def test_unit_has_the_required_service_settings() -> None:
    text = UNIT.read_text()
    for line in (
        "Type=notify",
        "NotifyAccess=main",
        "WatchdogSec=30s",
        "TimeoutStopSec=30s",
        "Restart=on-failure",
        "RestartPreventExitStatus=2",
        "ExecStart=/opt/edge-agent/bin/edge-agent run -c /etc/edge-agent/config.toml",
        "StateDirectory=edge-agent",
        "ConfigurationDirectory=edge-agent",
        "RuntimeDirectory=edge-agent",
        "User=edge-agent",
        "DevicePolicy=closed",
        "DeviceAllow=char-spi rw",  # /proc/devices name of spidev
        "DeviceAllow=char-gpiochip rw",
        "DeviceAllow=char-i2c rw",
        "DeviceAllow=char-ttyACM rw",
    ):
        assert f"\n{line}\n" in text, line


@pytest.mark.skipif(
    not shutil.which("systemd-sysusers"), reason="systemd-sysusers is not installed"
)
def test_sysusers_creates_the_user_and_device_groups(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    proc = subprocess.run(
        ["systemd-sysusers", f"--root={tmp_path}", str(SYSUSERS)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    groups = {
        line.split(":")[0]: line for line in (tmp_path / "etc/group").read_text().splitlines()
    }
    for name in ("spi", "gpio", "i2c", "dialout"):
        assert groups[name].rstrip().endswith("edge-agent"), groups[name]
    passwd = (tmp_path / "etc/passwd").read_text()
    assert re.search(
        r"^edge-agent:x:\d+:\d+:.*:/var/lib/edge-agent:/usr/sbin/nologin$", passwd, re.M
    )


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edge_agent.cli", *args], capture_output=True, text=True, timeout=60
    )


def test_install_dry_run_prints_every_action_and_changes_nothing(tmp_path: Path) -> None:
    proc = _cli("install-service", "--dry-run", "--root", str(tmp_path), "--prefix", "/opt/x")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    unit = tmp_path / "etc/systemd/system/edge-agent.service"
    assert lines[0] == f"would write {unit} (ExecStart=/opt/x/bin/edge-agent)"
    config = tmp_path / "etc/edge-agent/config.toml"
    assert f"would write starter {config} for EU868 (root:edge-agent 0640)" in lines
    assert list(tmp_path.iterdir()) == []


def test_install_into_a_root_writes_unit_sysusers_and_config(tmp_path: Path) -> None:
    proc = _cli(
        "install-service", "--root", str(tmp_path), "--prefix", "/opt/x", "--region", "US915"
    )
    assert proc.returncode == 0, proc.stderr
    unit = (tmp_path / "etc/systemd/system/edge-agent.service").read_text()
    assert "ExecStart=/opt/x/bin/edge-agent run -c /etc/edge-agent/config.toml" in unit
    assert (tmp_path / "usr/lib/sysusers.d/edge-agent.conf").read_text() == SYSUSERS.read_text()
    config = tmp_path / "etc/edge-agent/config.toml"
    assert 'region = "US915"' in config.read_text()
    # no topic_prefix written: the region's ChirpStack default (us915_1 for sub-band 2) applies
    from edge_agent.config import load_config

    assert load_config(config).mqtt.topic_prefix == "us915_1"
    assert config.stat().st_mode & 0o777 == 0o640


def test_install_keeps_an_existing_config(tmp_path: Path) -> None:
    config = tmp_path / "etc/edge-agent/config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("# mine\n")
    proc = _cli("install-service", "--root", str(tmp_path))
    assert f"keep existing {config}" in proc.stdout
    assert config.read_text() == "# mine\n"


def test_uninstall_removes_the_unit_and_keeps_config_and_state(tmp_path: Path) -> None:
    assert _cli("install-service", "--root", str(tmp_path)).returncode == 0
    (tmp_path / "var/lib/edge-agent").mkdir(parents=True)
    proc = _cli("uninstall-service", "--root", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "etc/systemd/system/edge-agent.service").exists()
    assert not (tmp_path / "usr/lib/sysusers.d/edge-agent.conf").exists()
    assert (tmp_path / "etc/edge-agent/config.toml").exists()
    assert (tmp_path / "var/lib/edge-agent").exists()


def test_uninstall_purge_removes_config_and_state(tmp_path: Path) -> None:
    assert _cli("install-service", "--root", str(tmp_path)).returncode == 0
    (tmp_path / "var/lib/edge-agent").mkdir(parents=True)
    assert _cli("uninstall-service", "--root", str(tmp_path), "--purge").returncode == 0
    assert not (tmp_path / "etc/edge-agent").exists()
    assert not (tmp_path / "var/lib/edge-agent").exists()
