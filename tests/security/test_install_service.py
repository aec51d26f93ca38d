"""``install-service``: the config readable by the service user, ``--prefix`` never injects."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CONFIG = "etc/edge-agent/config.toml"
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="chown to a group needs root")


def _install(root: Path, *args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        [sys.executable, "-m", "edge_agent.cli", "install-service", "--root", str(root), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def _group_id(root: Path, name: str) -> int:
    for line in (root / "etc/group").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == name:
            return int(fields[2])
    raise AssertionError(f"no group {name} in {root}/etc/group")


@needs_root
@pytest.mark.skipif(shutil.which("systemd-sysusers") is None, reason="no systemd-sysusers")
def test_the_config_is_root_edge_agent_0640_with_the_sysusers_group(tmp_path: Path) -> None:
    proc = _install(tmp_path, "--prefix", "/opt/x")
    assert proc.returncode == 0, proc.stderr
    gid = _group_id(tmp_path, "edge-agent")
    st = (tmp_path / CONFIG).stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (0, gid, 0o640)
    st = (tmp_path / CONFIG).parent.stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (0, gid, 0o750)
    assert "warning" not in proc.stderr


@needs_root
def test_without_systemd_sysusers_the_group_of_the_root_is_used(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/group").write_text("root:x:0:\nedge-agent:x:777:\n")
    proc = _install(tmp_path, "--prefix", "/opt/x", path=str(Path(sys.executable).parent))
    assert proc.returncode == 0, proc.stderr
    st = (tmp_path / CONFIG).stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (0, 777, 0o640)


def test_without_the_group_the_config_stays_private_and_a_warning_says_what_to_run(
    tmp_path: Path,
) -> None:
    proc = _install(tmp_path, "--prefix", "/opt/x", path=str(Path(sys.executable).parent))
    assert proc.returncode == 0, proc.stderr
    config = tmp_path / CONFIG
    assert config.stat().st_mode & 0o777 == 0o640
    assert (
        f"warning: group edge-agent does not exist in {tmp_path / 'etc/group'}; {config} is not "
        "readable by the service user: once the group exists run "
        "'chown root:edge-agent /etc/edge-agent/config.toml'"
    ) in proc.stderr


@pytest.mark.parametrize(
    "prefix",
    [
        "/opt/x\nExecStartPre=/bin/sh -c 'id > /tmp/pwned'",
        "/opt/x\rUser=root",
        "opt/x",
        "./venv",
        "/opt/my venv",
        "/opt/x\t",
        "/opt/%h",
        '/opt/"x"',
        "/opt/x;reboot",
        "/opt/$HOME",
        "/opt/x\\",
        "/opt/\x1b[31m",
        "/" + "a" * 1100,
    ],
)
@pytest.mark.parametrize("dry_run", [False, True])
def test_a_prefix_that_could_change_the_unit_is_refused(
    tmp_path: Path, prefix: str, dry_run: bool
) -> None:
    root = tmp_path / "root"
    proc = _install(root, "--prefix", prefix, *(["--dry-run"] if dry_run else []))
    assert proc.returncode == 2
    assert proc.stderr.startswith("edge-agent install-service: --prefix ")
    assert proc.stderr.count("\n") == 1
    assert proc.stdout == ""
    assert not root.exists()


@pytest.mark.parametrize(
    ("prefix", "exec_start"),
    [
        ("/opt/edge-agent/", "/opt/edge-agent/bin/edge-agent"),
        ("/home/pi/.venvs/edge_agent-1.2+local", "/home/pi/.venvs/edge_agent-1.2+local/bin/"),
    ],
)
def test_plain_prefixes_are_accepted(tmp_path: Path, prefix: str, exec_start: str) -> None:
    proc = _install(tmp_path, "--prefix", prefix, "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert f"(ExecStart={exec_start}" in proc.stdout.splitlines()[0]


@needs_root
def test_an_existing_config_the_service_user_cannot_read_is_kept_with_a_warning(
    tmp_path: Path,
) -> None:
    (tmp_path / "etc/edge-agent").mkdir(parents=True)
    (tmp_path / "etc/group").write_text("root:x:0:\nedge-agent:x:777:\n")
    config = tmp_path / CONFIG
    config.write_text("# mine\n")
    config.chmod(0o640)  # root:root 0640, as an earlier install-service left it
    proc = _install(tmp_path, "--prefix", "/opt/x", path=str(Path(sys.executable).parent))
    assert proc.returncode == 0, proc.stderr
    assert config.read_text() == "# mine\n" and config.stat().st_gid == 0
    assert (
        f"warning: {config} is not readable by group edge-agent (the service user cannot read "
        "it): run 'chown root:edge-agent /etc/edge-agent/config.toml && chmod 640 "
        "/etc/edge-agent/config.toml'"
    ) in proc.stderr


@needs_root
def test_an_existing_config_of_the_service_group_is_kept_silently(tmp_path: Path) -> None:
    (tmp_path / "etc/edge-agent").mkdir(parents=True)
    (tmp_path / "etc/group").write_text("edge-agent:x:777:\n")
    config = tmp_path / CONFIG
    config.write_text("# mine\n")
    config.chmod(0o640)
    os.chown(config, 0, 777)
    proc = _install(tmp_path, "--prefix", "/opt/x", path=str(Path(sys.executable).parent))
    assert proc.returncode == 0 and "warning" not in proc.stderr
