"""The config, TLS key and password file: refused when others may read a secret or rewrite them."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from edge_agent.config import load_config
from edge_agent.errors import ConfigError
from edge_agent.file_modes import check_config_files, config_problems
from edge_agent.service import AgentService
from edge_agent.supervision import Supervisor
from tests.security.keys import make_keys

BASE = """
[gateway]
id = "0016c001ff1e0001"

[concentrator]
url = "sim://"

[mqtt]
server = "{server}"
{extra}
"""


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_keys(tmp_path_factory.mktemp("keys"))


def write_config(
    tmp_path: Path, mode: int, extra: str = "", server: str = "tcp://127.0.0.1:1"
) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(BASE.format(server=server, extra=extra))
    path.chmod(mode)
    return path


PASSWORD = 'username = "gw"\npassword = "s3cret-pw"'


def _run(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edge_agent.cli", "run", "-c", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_the_daemon_refuses_a_world_readable_config_holding_a_password(tmp_path: Path) -> None:
    path = write_config(tmp_path, 0o644, PASSWORD)
    proc = _run(path)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith(
        f"edge-agent: refused: config {path}: holds a password and is readable by everyone "
        "(mode 0644)"
    )
    assert f"chmod 640 {path} && chown root:edge-agent {path}" in proc.stderr
    assert "s3cret-pw" not in proc.stderr


@pytest.mark.parametrize("mode", [0o600, 0o640])
def test_a_private_config_holding_a_password_is_accepted(tmp_path: Path, mode: int) -> None:
    path = write_config(tmp_path, mode, PASSWORD)
    assert config_problems(path, load_config(path)) == []


def test_a_world_readable_config_without_secret_is_accepted(tmp_path: Path) -> None:
    path = write_config(tmp_path, 0o644)
    assert config_problems(path, load_config(path)) == []


def test_a_world_writable_config_is_refused(tmp_path: Path) -> None:
    path = write_config(tmp_path, 0o646)
    with pytest.raises(ConfigError, match=r"writable by everyone \(mode 0646\)"):
        check_config_files(path, load_config(path))


def test_a_group_writable_config_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_config(tmp_path, 0o660, PASSWORD)
    caplog.set_level(logging.WARNING)
    check_config_files(path, load_config(path))
    assert [r.getMessage() for r in caplog.records] == [
        f"start: config {path}: writable by its group (mode 0660) (fix: chmod 640 {path})"
    ]


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_a_config_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    path = write_config(tmp_path, 0o600)
    os.chown(path, 4242, 4242)
    with pytest.raises(ConfigError, match=r"owned by 4242, not root or edge-agent"):
        check_config_files(path, load_config(path), when="start")


def _tls_config(tmp_path: Path, keys: dict[str, Path], key: Path, extra: str = "") -> Path:
    lines = f'tls_cert = "{keys["cert"]}"\ntls_key = "{key}"\n{extra}'
    return write_config(tmp_path, 0o600, lines, server="mqtts://127.0.0.1:1")


@pytest.mark.parametrize("mode", [0o644, 0o604, 0o606])
def test_a_tls_key_readable_by_others_is_refused(
    tmp_path: Path, keys: dict[str, Path], mode: int
) -> None:
    key = tmp_path / "gateway.key"
    key.write_bytes(keys["plain"].read_bytes())
    key.chmod(mode)
    path = _tls_config(tmp_path, keys, key)
    with pytest.raises(ConfigError, match=rf"tls_key {key}: .*readable by everyone"):
        check_config_files(path, load_config(path))


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o400])
def test_a_private_tls_key_is_accepted(tmp_path: Path, keys: dict[str, Path], mode: int) -> None:
    key = tmp_path / "gateway.key"
    key.write_bytes(keys["plain"].read_bytes())
    key.chmod(mode)
    path = _tls_config(tmp_path, keys, key)
    assert config_problems(path, load_config(path)) == []


def test_a_readable_password_file_is_refused(tmp_path: Path, keys: dict[str, Path]) -> None:
    password_file = tmp_path / "key.pass"
    password_file.write_text("x\n")
    password_file.chmod(0o644)
    path = _tls_config(tmp_path, keys, keys["pkcs8"], f'tls_key_password_file = "{password_file}"')
    with pytest.raises(ConfigError, match=rf"tls_key_password_file {password_file}: "):
        check_config_files(path, load_config(path))


def test_a_tls_key_password_in_a_readable_config_is_refused(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    path = _tls_config(tmp_path, keys, keys["pkcs8"], 'tls_key_password = "pw"')
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="holds a password and is readable by everyone"):
        check_config_files(path, load_config(path))


def test_reload_keeps_the_running_config_when_the_new_file_is_refused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool = f'[spool]\npath = "{tmp_path / "spool.db"}"'
    path = write_config(tmp_path, 0o600, spool)
    service = AgentService(load_config(path))
    try:
        running = service.cfg
        supervisor = Supervisor(service, environ={})
        write_config(tmp_path, 0o644, f"{PASSWORD}\n{spool}")
        assert supervisor.reload(str(path)) is False
        assert service.cfg is running and supervisor.reloads == 0
    finally:
        service.stop()
    assert "holds a password and is readable by everyone" in caplog.text


def test_diag_config_fails_with_the_fix(tmp_path: Path) -> None:
    path = write_config(tmp_path, 0o644, PASSWORD)
    proc = subprocess.run(
        [sys.executable, "-m", "edge_agent.cli", "diag", "-c", str(path), "--json", "config"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    (check,) = json.loads(proc.stdout)["checks"]
    assert proc.returncode == 1
    assert check["status"] == "fail"
    assert "holds a password and is readable by everyone (mode 0644)" in check["detail"]
    assert check["hint"] == f"chmod 640 {path} && chown root:edge-agent {path}"
