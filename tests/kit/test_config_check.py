"""``edge-agent config check FILE``: the effective configuration, secrets masked, loadable back;
``config init`` refusals and file modes."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from edge_agent.cli import main
from edge_agent.config import load_config, parse_config

CONFIG = """
[gateway]
id = "0016C001FF1E0001"

[concentrator]
board = "rak2287"
url = "sim://"

[mqtt]
server = "tcp://broker.example.org:1883"
username = "gw"
password = "s3cret-passw0rd"

[[backend]]
name = "partner"
type = "semtech_udp"
server = "udp://ns.partner.example:1700"
"""


def check(path: Path, capsys: pytest.CaptureFixture[str], *flags: str) -> tuple[int, str, str]:
    code = main(["config", "check", str(path), *flags])
    out, err = capsys.readouterr()
    return code, out, err


def test_check_prints_every_key_with_defaults_and_masks_the_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    code, out, _err = check(path, capsys)
    assert code == 0
    assert "s3cret-passw0rd" not in out
    data = tomllib.loads(out)
    assert out.startswith(f"# edge-agent: {path}: configuration OK; backends: chirpstack")
    assert data["gateway"] == {"id": "0016c001ff1e0001", "stats_interval_s": 30.0}
    assert data["spool"]["commit_interval_ms"] == 1000  # a default, filled in
    chirpstack, partner = data["backend"]
    assert (chirpstack["name"], chirpstack["password"], chirpstack["topic_prefix"]) == (
        "chirpstack",
        "********",
        "eu868",
    )
    assert partner["keepalive_interval_s"] == 10.0
    assert "tls_key_password" not in chirpstack  # unset keys without a default are absent
    assert partner["filters"]["forward_crc_ok"] is True


def test_a_tls_key_passphrase_is_masked_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("gw.crt", "gw.key"):
        (tmp_path / name).write_text("-----BEGIN-----\n")
    path = tmp_path / "config.toml"
    path.write_text(
        f'[mqtt]\nserver = "mqtts://h:8883"\ntls_cert = "{tmp_path / "gw.crt"}"\n'
        f'tls_key = "{tmp_path / "gw.key"}"\ntls_key_password = "k3y-secret"\n'
    )
    code, out, _err = check(path, capsys)
    assert code == 0 and "k3y-secret" not in out
    assert tomllib.loads(out)["backend"][0]["tls_key_password"] == "********"


def test_the_printed_configuration_loads_back_to_the_same_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    _code, out, _err = check(path, capsys)
    again = parse_config(out.replace("********", "s3cret-passw0rd"))
    original = load_config(path)
    assert again.backends == original.backends
    assert again.concentrator == original.concentrator
    assert (again.gateway, again.spool, again.status, again.log) == (
        original.gateway, original.spool, original.status, original.log,
    )  # fmt: skip


def test_check_json_is_one_document_with_the_verdict_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    code, out, err = check(path, capsys, "--json")
    assert code == 0
    document = json.loads(out)
    assert [b["name"] for b in document["backend"]] == ["chirpstack", "partner"]
    assert document["backend"][0]["password"] == "********"
    assert "configuration OK" in err


def test_a_bad_file_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[concentrator]\nregion = "XX999"\n')
    code, out, err = check(path, capsys)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert err.startswith("edge-agent: configuration error: concentrator.region: must be one of")


def init(tmp_path: Path, *flags: str) -> int:
    return main(["config", "init", "--non-interactive", *flags])


def test_init_refuses_to_overwrite_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "config.toml"
    out.write_text("# mine\n")
    flags = ["--board", "rak2287", "--udp", "udp://h:1700", "-o", str(out)]
    assert init(tmp_path, *flags) == 2
    assert "exists; add --force to replace it" in capsys.readouterr().err
    assert out.read_text() == "# mine\n"
    assert init(tmp_path, *flags, "--force") == 0
    assert load_config(out).concentrator.board == "rak2287"


def test_a_file_with_a_password_is_0600_and_tls_files_are_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("ca.crt", "gw.crt", "gw.key"):
        (tmp_path / name).write_text("-----BEGIN-----\n")
    out = tmp_path / "config.toml"
    flags = ["--board", "rak5146", "--region", "us915", "--chirpstack", "mqtts://ns:8883"]
    flags += ["--ca", "ca.crt", "--cert", "gw.crt", "--key", "gw.key"]
    flags += ["--username", "gw", "--password", "pw", "-o", str(out)]
    assert init(tmp_path, *flags) == 0
    assert out.stat().st_mode & 0o777 == 0o600
    mqtt = load_config(out).backends[0].mqtt
    assert mqtt is not None
    assert (mqtt.ca_cert, mqtt.tls_cert, mqtt.tls_key) == tuple(
        str(tmp_path / n) for n in ("ca.crt", "gw.crt", "gw.key")
    )
    assert load_config(out).concentrator.region == "US915"


def test_init_writes_comments_on_the_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert init(tmp_path, "--board", "seeed_wm1302", "--udp", "udp://h:1700", "-o", "-") == 0
    text = capsys.readouterr().out
    assert "# Seeed WM1302 (mPCIe) on the Seeed Pi HAT (docs/hardware.md)" in text
    assert 'url = "spi:///dev/spidev0.0"' in text
    assert 'firmware_dir = "/var/lib/edge-agent/firmware"' in text
    assert "# id unset: the concentrator chip's EUI is the gateway id" in text


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--board", "nope", "--udp", "udp://h:1"], "unknown board 'nope'"),
        (["--board", "rak2287", "--region", "XX1", "--udp", "udp://h:1"], "unknown region 'XX1'"),
        (["--board", "rak2287"], "give at least one network server"),
        (["--udp", "udp://h:1"], "give --board"),
        (["--board", "rak2287", "--udp", "tcp://h:1"], "--udp tcp://h:1: must be udp://HOST:PORT"),
        (["--board", "rak2287", "--chirpstack", "http://h"], "server: must be tcp://HOST:PORT"),
        (["--board", "rak2287", "--udp", "udp://h:1", "--gateway-id", "12"], "gateway.id: must be"),
        (
            ["--board", "rak2287", "--chirpstack", "mqtts://h:8883", "--ca", "/nonexistent.crt"],
            "file not found: /nonexistent.crt",
        ),
    ],
)
def test_init_refuses_bad_answers_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    out = tmp_path / "config.toml"
    assert init(tmp_path, *flags, "-o", str(out)) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    assert not out.exists()


def test_init_names_two_identical_chirpstack_servers_apart(tmp_path: Path) -> None:
    """Two networks on the same broker (a partner's tenant) get two backend names."""
    import subprocess
    import sys

    out = tmp_path / "config.toml"
    args = ["--board", "rak2287", "--region", "EU868", "--url", "sim://", "--non-interactive"]
    server = ["--chirpstack", "tcp://127.0.0.1:1883"]
    proc = subprocess.run(
        [sys.executable, "-m", "edge_agent.cli", "config", "init", *args, *server, *server,
         "-o", str(out)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    from edge_agent.config import load_config

    assert [b.name for b in load_config(out).backends] == ["chirpstack", "chirpstack-2"]
