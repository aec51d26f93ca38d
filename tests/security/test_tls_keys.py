"""An encrypted client key: loaded with its configured password, never a terminal prompt."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import termios
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from edge_agent import logs, tls
from edge_agent.backends.chirpstack import ChirpStackBackend
from edge_agent.config import parse_config
from edge_agent.errors import ConfigError
from edge_agent.store.memory import MemoryUplinkStore
from edge_agent.tls import TlsSetupError, client_context
from tests.security.keys import PASSWORD, make_keys


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_keys(tmp_path_factory.mktemp("keys"))


def _mqtt(keys: dict[str, Path], key: str, **extra: object) -> SimpleNamespace:
    values: dict[str, object] = {
        "ca_cert": None,
        "tls_cert": str(keys["cert"]),
        "tls_key": str(keys[key]),
        "tls_key_password": None,
        "tls_key_password_file": None,
    }
    values.update(extra)
    return SimpleNamespace(**values)


@pytest.mark.parametrize("key", ["pkcs8", "legacy"])
def test_an_encrypted_key_loads_with_its_password(keys: dict[str, Path], key: str) -> None:
    context = client_context(_mqtt(keys, key, tls_key_password=PASSWORD))
    assert context.verify_mode.name == "CERT_REQUIRED" and context.check_hostname


@pytest.mark.parametrize("ending", ["\n", "\r\n", ""])
def test_an_encrypted_key_loads_with_a_password_file(
    keys: dict[str, Path], tmp_path: Path, ending: str
) -> None:
    password_file = tmp_path / "key.pass"
    password_file.write_text(PASSWORD + ending)
    client_context(_mqtt(keys, "pkcs8", tls_key_password_file=str(password_file)))


@pytest.mark.parametrize("key", ["pkcs8", "legacy"])
def test_an_encrypted_key_without_password_is_one_clear_error(
    keys: dict[str, Path], key: str
) -> None:
    with pytest.raises(TlsSetupError) as info:
        client_context(_mqtt(keys, key))
    assert str(info.value) == (
        f"tls_key {keys[key]} is encrypted: set tls_key_password or tls_key_password_file "
        "(or decrypt it: openssl pkey -in KEY -out KEY.plain)"
    )


def test_a_wrong_password_is_named_and_not_printed(keys: dict[str, Path]) -> None:
    with pytest.raises(TlsSetupError, match="cannot decrypt it with the configured password") as e:
        client_context(_mqtt(keys, "pkcs8", tls_key_password="wrong-guess"))
    assert "wrong-guess" not in str(e.value)
    assert logs.redact("password wrong-guess") == "password ***"


def test_a_plain_key_needs_no_password(keys: dict[str, Path]) -> None:
    client_context(_mqtt(keys, "plain"))


NO_PROMPT = """
import sys, time
from types import SimpleNamespace
from edge_agent.tls import TlsSetupError, client_context
mqtt = SimpleNamespace(ca_cert=None, tls_cert=sys.argv[1], tls_key=sys.argv[2],
                       tls_key_password=None, tls_key_password_file=None)
try:
    client_context(mqtt)
except TlsSetupError as exc:
    print("refused:", exc, flush=True)
"""


def test_no_passphrase_prompt_even_on_a_terminal(keys: dict[str, Path]) -> None:
    """With a controlling terminal, OpenSSL would ask "Enter PEM pass phrase:" and wait."""
    controller, terminal = os.openpty()

    def take_terminal() -> None:
        os.setsid()
        import fcntl

        fcntl.ioctl(terminal, termios.TIOCSCTTY, 0)

    child = subprocess.Popen(
        [sys.executable, "-c", NO_PROMPT, str(keys["cert"]), str(keys["pkcs8"])],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        preexec_fn=take_terminal,
    )
    os.close(terminal)
    output = b""
    deadline = time.monotonic() + 20
    try:
        while child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert child.poll() is not None, "the child waits at a passphrase prompt"
        try:
            while chunk := os.read(controller, 4096):
                output += chunk
        except OSError:  # EIO: the terminal's last user is gone
            pass
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)
        os.close(controller)
    assert b"pass phrase" not in output.lower()
    assert b"refused: tls_key" in output and b"is encrypted" in output


def test_the_backend_reports_an_encrypted_key_once_per_backoff(
    keys: dict[str, Path], caplog: pytest.LogCaptureFixture
) -> None:
    cfg = parse_config(
        f"""
[mqtt]
server = "mqtts://127.0.0.1:1"
tls_cert = "{keys["cert"]}"
tls_key = "{keys["pkcs8"]}"
reconnect_min_s = 5.0
"""
    ).backends[0]
    backend = ChirpStackBackend(cfg, MemoryUplinkStore())
    backend.gateway_id = "0016c001ff1e0001"
    caplog.set_level(logging.WARNING)
    started = time.monotonic()
    while time.monotonic() - started < 1.0:
        backend.poll_once(timeout=0.05)
    assert backend.counters.connect_failures == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert f"tls_key {keys['pkcs8']} is encrypted" in warnings[0]
    assert "retrying in" in warnings[0]
    assert not any(r.exc_info for r in caplog.records)


def test_the_backend_connects_the_key_with_its_password(keys: dict[str, Path]) -> None:
    cfg = parse_config(
        f"""
[mqtt]
server = "mqtts://127.0.0.1:1"
tls_cert = "{keys["cert"]}"
tls_key = "{keys["legacy"]}"
tls_key_password = "{PASSWORD}"
"""
    ).mqtt
    assert cfg.tls_key_password == PASSWORD and PASSWORD not in repr(cfg)
    assert tls.key_password(cfg) == PASSWORD


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            'tls_key_password = "x"\ntls_key_password_file = "{pw}"',
            "mqtt.tls_key_password_file: set mqtt.tls_key_password or this key, not both",
        ),
        ('tls_key_password_file = "/nonexistent/key.pass"', "file not found"),
    ],
)
def test_password_keys_are_validated(
    keys: dict[str, Path], tmp_path: Path, extra: str, message: str
) -> None:
    pw = tmp_path / "key.pass"
    pw.write_text(PASSWORD)
    text = f"""
[mqtt]
server = "mqtts://127.0.0.1:1"
tls_cert = "{keys["cert"]}"
tls_key = "{keys["pkcs8"]}"
{extra.format(pw=pw)}
"""
    with pytest.raises(ConfigError, match=message):
        parse_config(text)


def test_a_password_without_a_key_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"mqtt\.tls_key_password: needs mqtt\.tls_key"):
        parse_config('[mqtt]\nserver = "mqtts://127.0.0.1:1"\ntls_key_password = "x"\n')
