"""Every top-level command: an expected failure is one line on stderr with its documented exit
status, an unexpected one a short message pointing at ``--debug``; a traceback only with it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from edge_agent import cmd_status
from edge_agent.cli import main
from edge_agent.errors import SpoolError
from tests.hw.test_global_conf import GLOBAL_CONF

MISSING = "/nonexistent/edge-agent-test/config.toml"


def run_main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``main(argv)`` in this process: (exit status, stdout, stderr)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    """The single line of ``err`` (asserts there is exactly one and no traceback)."""
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def config_with_spool(tmp_path: Path) -> Path:
    """A valid config whose spool lives (and does not exist yet) in ``tmp_path``."""
    path = tmp_path / "config.toml"
    path.write_text(
        '[concentrator]\nurl = "sim://"\n[mqtt]\nserver = "tcp://127.0.0.1:1"\n'
        f'[spool]\npath = "{tmp_path / "spool.db"}"\n'
    )
    return path


@pytest.mark.parametrize(
    ("argv", "status", "text"),
    [
        (["run", "-c", MISSING], 2, "configuration file not found"),
        (["spool", "stats", "-c", MISSING], 2, "configuration file not found"),
        (["status", "--socket", "/nonexistent/status.sock"], 3, "no daemon is running"),
        (["diag", "no-such-check"], 2, "unknown check no-such-check"),
        (["firmware", "import", "/nonexistent/sx1302_hal", "--dest", "/nonexistent/fw"], 1, "arb"),
        (["config", "import-global-conf", "/nonexistent/global_conf.json"], 2, "cannot import"),
        (["install-service", "--root", "/proc/edge-agent-test"], 1, "failed: write"),
    ],
)
def test_expected_failure_is_one_line_with_the_documented_status(
    capsys: pytest.CaptureFixture[str], argv: list[str], status: int, text: str
) -> None:
    code, _out, err = run_main(capsys, *argv)
    assert code == status
    assert text in err
    assert "Traceback" not in err


def test_diag_reports_a_missing_config_as_a_failed_check(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_main(capsys, "diag", "-c", MISSING, "config")
    assert code == 1
    assert "configuration file not found" in out
    assert "Traceback" not in out + err


def test_spool_stats_of_a_missing_spool_file_fails_with_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = run_main(capsys, "spool", "stats", "-c", str(config_with_spool(tmp_path)))
    assert code == 1
    assert one_line(err).startswith("edge-agent spool: ")


def test_spool_export_to_an_unwritable_file_fails_with_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_with_spool(tmp_path)
    (tmp_path / "spool.db").touch()
    out_file = tmp_path / "missing-dir" / "export.jsonl"
    code, _out, err = run_main(capsys, "spool", "export", "-c", str(config), "-o", str(out_file))
    assert code == 1
    assert str(out_file) in one_line(err)


def test_import_global_conf_to_an_unwritable_file_fails_with_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "global_conf.json"
    source.write_text(GLOBAL_CONF)  # a valid file: only the output path is wrong
    target = tmp_path / "missing-dir" / "config.toml"
    code, _out, err = run_main(
        capsys, "config", "import-global-conf", str(source), "-o", str(target)
    )
    assert code == 2
    assert one_line(err).startswith(f"edge-agent config: cannot write {target}")


def test_install_service_without_root_is_refused_with_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    for command in ("install-service", "uninstall-service"):
        code, _out, err = run_main(capsys, command)
        assert code == 2
        assert "run as root (sudo), or use --dry-run" in one_line(err)


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run_main(capsys)
    assert code == 2
    assert "--debug" in err


def status_raises(monkeypatch: pytest.MonkeyPatch, exc: Exception) -> None:
    """Make ``edge-agent status`` raise ``exc`` (a failure no command catches)."""

    def crash(_args: object) -> int:
        raise exc

    monkeypatch.setattr(cmd_status, "run", crash)


def test_an_uncaught_expected_error_is_one_line_with_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    status_raises(monkeypatch, SpoolError("spool /x: cannot create its directory"))
    code, _out, err = run_main(capsys, "status")
    assert code == 2
    assert one_line(err) == "edge-agent status: spool /x: cannot create its directory"


def test_an_unexpected_error_points_at_debug(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    status_raises(monkeypatch, KeyError("radio_0"))
    code, _out, err = run_main(capsys, "status")
    assert code == 1
    line = one_line(err)
    assert line.startswith("edge-agent status: unexpected error: KeyError: 'radio_0'")
    assert "--debug" in line


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_shows_the_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    status_raises(monkeypatch, KeyError("radio_0"))
    argv = ["--debug", "status"] if where == "before" else ["status", "--debug"]
    code, _out, err = run_main(capsys, *argv)
    assert code == 1
    assert "Traceback (most recent call last)" in err
    assert "in crash" in err
    assert err.strip().splitlines()[-1].startswith("edge-agent status: unexpected error")


def test_debug_after_a_nested_command_is_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run_main(capsys, "spool", "stats", "-c", MISSING, "--debug")
    assert code == 2  # the command caught it: its own line, --debug changes nothing
    assert one_line(err).endswith("configuration file not found")


def test_the_console_script_prints_no_traceback(tmp_path: Path) -> None:
    """End to end through a real process: stderr is exactly the one line."""
    source = tmp_path / "global_conf.json"
    source.write_text("{not json")
    proc = subprocess.run(
        [sys.executable, "-m", "edge_agent.cli", "config", "import-global-conf", str(source)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert one_line(proc.stderr).startswith(f"edge-agent config: cannot import {source}")


def test_a_closed_stdout_ends_the_command_quietly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``edge-agent ... | head``: the reader went away; nothing to report, status 1."""
    status_raises(monkeypatch, BrokenPipeError(32, "Broken pipe"))
    code, _out, err = run_main(capsys, "status")
    assert (code, err) == (1, "")
