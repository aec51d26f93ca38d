"""``diag --lang fr`` on real checks: no English left in what a French technician reads.

Each state below (healthy simulator with a real broker, broker down, Semtech UDP and several
backends, a missing SPI device and GPIO library, bad firmware, spool problems, config problems,
the receive test, a running daemon) runs the real checks through the CLI. Every detail and hint
must be recognised by the catalogue part by part (``i18n.untranslated``) or be pure data, and
the French text must hold none of the English words the checks write. Only what the system says
(``strerror``, a library's exception) may stay as it is: ``SYSTEM_TEXTS``.
"""

from __future__ import annotations

import contextlib
import io
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from edge_agent.cli import main
from edge_agent.diag.core import CheckResult, DiagContext
from edge_agent.diag.i18n import is_data, localise, untranslated
from tests.broker import free_port
from tests.ops.daemon_config import config_text

#: English words of the checks' own texts; none may be left in the French report
ENGLISH = re.compile(
    r"\b(the|is|are|in|of|not|no|and|or|from|at|on|to|with|packets?|per|passed|warnings|failed|"
    r"missing|bytes|expected|rows|oldest|pending|delivered|dropped|daemon|board|region|preset|"
    r"reference|writable|readable|everyone|owned|group|sentences|since|restarts|starts|reports|"
    r"install|found|cannot|does|answers?|unknown|skipped|ok|bad|none|refuses|radio [AB]:)\b"
)
#: what the operating system or a library writes into a detail, kept as it is
SYSTEM_TEXTS = (
    "Connection refused",
    "Name or service not known",
    "No such file or directory",
    "Temporary failure in name resolution",
    "file is not a database",
    "Expected ']' at the end of a table declaration (at line 1, column 6)",
)


def run_diag(config: Path, *args: str, json_output: bool = True) -> tuple[int, str]:
    """``edge-agent diag`` in this process; (exit code, stdout)."""
    out = io.StringIO()
    extra = ("--json",) if json_output else ()
    with contextlib.redirect_stdout(out):
        code = main(["diag", "-c", str(config), "--timeout", "1", *extra, *args])
    return code, out.getvalue()


def english_words(text: str) -> list[str]:
    """The English words of ``text`` once the system's own messages and quoted commands are out."""
    for system in SYSTEM_TEXTS:
        text = text.replace(system, "")
    text = re.sub(r"\S*\b(apt|pip) install\b|(?<!\w)'[^']*'(?!\w)|\S*[/=]\S*", "", text)
    return ENGLISH.findall(text)


def system_text(text: str) -> bool:
    """True when ``text`` is only data and what the system says."""
    for system in SYSTEM_TEXTS:
        text = text.replace(system, "")
    return is_data(text)


def assert_all_french(config: Path, *names: str, rx_seconds: float = 1.0) -> list[CheckResult]:
    """Run the checks; every text of every backend recognised, no English word in French."""
    import edge_agent.diag as diag

    ctx = diag.DiagContext(config_path=str(config), rx_seconds=rx_seconds, timeout_s=1.0)
    results = diag.run_checks(ctx, names)
    french = [localise(r, "fr") for r in results]
    left = {}
    for result, translated in zip(results, french, strict=True):
        for backend, part in result.parts or (("", result),):
            for key in ("detail", "hint"):
                missed = [m for m in untranslated(getattr(part, key)) if not system_text(m)]
                if missed:
                    left[f"{result.name} {backend} {key}"] = missed
        for key in ("detail", "hint"):
            if words := english_words(getattr(translated, key)):
                left[f"{result.name} {key} in French"] = [getattr(translated, key), words]
    assert not left, "left in English:\n" + "\n".join(f"{k}: {v}" for k, v in left.items())
    assert [r.status for r in results] == [r.status for r in french]
    return french


def sim_config(tmp_path: Path, server: str, extra: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(config_text(tmp_path, server) + extra)
    path.chmod(0o640)
    return path


def test_healthy_simulator_with_a_real_broker(tmp_path: Path, broker) -> None:  # type: ignore[no-untyped-def]
    checks = {r.name: r for r in assert_all_french(sim_config(tmp_path, broker.url))}
    assert checks["broker-auth"].detail == "chirpstack : connecté (anonyme)"
    assert checks["radios"].detail.startswith("radio A : STDBY_RC, radio B : STDBY_RC ; ")


def test_broker_down_and_the_receive_test(tmp_path: Path) -> None:
    config = sim_config(tmp_path, f"tcp://127.0.0.1:{free_port()}")
    assert_all_french(config)
    (rx,) = assert_all_french(config, "rx")
    assert " paquets en 1 s ; par canal " in rx.detail


def backends_config(tmp_path: Path, port: int) -> Path:
    """A Semtech UDP backend and two ChirpStack ones (one with TLS), nothing listening."""
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[gateway]
id = "0016c001ff1e0001"
[concentrator]
url = "sim://"
[[backend]]
name = "tts"
type = "semtech_udp"
server = "udp://127.0.0.1:{port}"
[[backend]]
name = "cs"
type = "chirpstack"
server = "tcp://127.0.0.1:{port}"
[[backend]]
name = "secure"
type = "chirpstack"
server = "mqtts://127.0.0.1:{port}"
tls_cert = "{tmp_path}/gw.pem"
tls_key = "{tmp_path}/gw.key"
[spool]
path = "{tmp_path}/spool.db"
[status]
socket = "{tmp_path}/status.sock"
"""
    )
    (tmp_path / "gw.pem").write_text("not a certificate\n")
    (tmp_path / "gw.key").write_text("not a key\n")
    (tmp_path / "gw.key").chmod(0o600)
    config.chmod(0o640)
    return config


def test_several_backends_udp_and_tls(tmp_path: Path) -> None:
    checks = {r.name: r for r in assert_all_french(backends_config(tmp_path, free_port()))}
    assert checks["client-cert"].detail.startswith("cs : aucun certificat client configuré")
    assert " ; secure : " in checks["client-cert"].detail
    assert checks["client-cert"].hint.startswith("secure : faites émettre ")


def test_spi_board_without_device_gpio_library_firmware_or_edge_agent_spool(
    tmp_path: Path,
) -> None:
    firmware = tmp_path / "fw"
    firmware.mkdir()
    (firmware / "arb.bin").write_bytes(b"x" * 10)
    spool = tmp_path / "spool.db"
    db = sqlite3.connect(spool)
    db.execute("CREATE TABLE t (ts INTEGER)")
    db.execute("INSERT INTO t VALUES (1000)")
    db.commit()
    db.close()
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[concentrator]
url = "spi:///dev/spidev9.9"
board = "rak5146"
firmware_dir = "{firmware}"
[mqtt]
server = "tcp://nohost.invalid:1883"
[spool]
path = "{spool}"
[status]
socket = "{tmp_path}/status.sock"
"""
    )
    config.chmod(0o640)
    assert_all_french(config)


def test_damaged_symlinked_and_tampered_spools(tmp_path: Path) -> None:
    from tests.spool.test_spool_hostile import HUGE_INT, committed_spool, tamper

    config = sim_config(tmp_path, "tcp://127.0.0.1:1")
    spool = tmp_path / "spool.db"
    spool.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    assert_all_french(config, "spool")
    spool.unlink()
    committed_spool(spool)
    tamper(spool, "UPDATE uplinks SET payload = ? WHERE seq = 2", (HUGE_INT,))
    (result,) = assert_all_french(config, "spool")
    assert result.status == "warn"
    spool.rename(tmp_path / "real.db")
    spool.symlink_to(tmp_path / "real.db")
    assert_all_french(config, "spool")


@pytest.mark.parametrize(
    "damage",
    [
        lambda config: config.chmod(0o666),
        lambda config: config.chmod(0o664),
        lambda config: config.write_text("[mqtt\n"),
        lambda config: config.unlink(),
    ],
    ids=["world-writable", "group-writable", "invalid-toml", "missing"],
)
def test_config_problems(tmp_path: Path, damage: Callable[[Path], None]) -> None:
    config = sim_config(tmp_path, "tcp://127.0.0.1:1")
    damage(config)
    assert_all_french(config, "config", "spool")


def test_radio_checks_answered_by_a_running_daemon(tmp_path: Path, broker) -> None:  # type: ignore[no-untyped-def]
    config = sim_config(tmp_path, broker.url)
    daemon = subprocess.Popen(
        [sys.executable, "-m", "edge_agent.cli", "run", "-c", str(config)],
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while DiagContext(str(config)).daemon_status() is None:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        time.sleep(1.0)  # the radio is up a moment after the socket answers
        checks = assert_all_french(config, "concentrator", "radios", "temperature", "gps", "rx")
        by_name = {r.name: r for r in checks}
        assert by_name["concentrator"].detail.endswith("(selon le démon en service)")
        assert "(démon) ; table de gain TX de la radio A" in by_name["radios"].detail
        assert by_name["rx"].detail.endswith(" (selon le démon en service)")
    finally:
        daemon.terminate()
        assert daemon.wait(timeout=30) == 0


def test_the_summary_line_is_french(tmp_path: Path) -> None:
    config = sim_config(tmp_path, "tcp://127.0.0.1:1")
    _code, text = run_diag(config, "--lang", "fr", "config", "gps", "device", json_output=False)
    assert text.splitlines()[-1] == "2 vérifications réussies, 1 avertissement, 0 échec"
    _code, text = run_diag(config, "--lang", "fr", "gps", json_output=False)
    assert text.splitlines()[-1] == "0 vérification réussie, 1 avertissement, 0 échec"


def test_english_output_is_unchanged_by_the_language_option(tmp_path: Path) -> None:
    """``--lang en`` is the default; the per-backend texts keep their English punctuation."""
    port = free_port()
    config = backends_config(tmp_path, port)
    for json_output in (True, False):
        default = run_diag(config, "config", "broker-tcp", json_output=json_output)
        english = run_diag(config, "--lang", "en", "config", "broker-tcp", json_output=json_output)
        assert english == default
    _code, out = run_diag(config, "broker-tcp", json_output=False)
    refused = f"cannot connect to 127.0.0.1:{port}: Connection refused"
    assert f"  cs: {refused}; secure: {refused}\n" in out
    hint = (
        "check the broker runs and listens on that port, and that no firewall blocks it "
        f"(e.g. 'nc -vz 127.0.0.1 {port}')"
    )
    assert f"→ cs: {hint} secure: {hint}\n" in out
    assert out.splitlines()[-1] == "0 passed, 0 warnings, 1 failed"
