"""The diag framework: results, prerequisites, exit codes and the JSON contract."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import edge_agent.diag.core as core
from edge_agent.cli import main
from edge_agent.errors import ConfigError
from tests.ops.conftest import run_one


def test_config_check_fails_naming_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    def bad(_path: str) -> None:
        raise ConfigError("mqtt.qos", "must be 0, 1 or 2, not 3")

    monkeypatch.setattr(core, "_load_config", bad)
    result = run_one("config")
    assert result.status == "fail"
    assert result.detail == "mqtt.qos: must be 0, 1 or 2, not 3"
    assert "test.toml" in result.hint


def test_config_check_reports_a_missing_file(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(path: str) -> None:
        raise FileNotFoundError(path)

    monkeypatch.setattr(core, "_load_config", missing)
    assert run_one("config").detail == "test.toml does not exist"


def test_config_check_passes_and_names_the_gateway(use_config) -> None:
    use_config()
    result = run_one("config")
    assert result.status == "pass"
    assert "0016c001ff1e0001" in result.detail and "EU868" in result.detail


def test_checks_after_a_failed_prerequisite_are_skipped_as_warnings(use_config) -> None:
    use_config(mqtt={"server": "tcp://127.0.0.1:1"})
    ctx = core.DiagContext(config_path="x.toml", timeout_s=1.0)
    results = {r.name: r for r in core.run_checks(ctx, ["broker-tcp", "broker-auth"])}
    assert results["broker-tcp"].status == "fail"
    assert results["broker-auth"].status == "warn"
    assert results["broker-auth"].detail == "skipped: broker-tcp failed"


def test_a_crashing_check_is_reported_as_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(_ctx: core.DiagContext) -> core.CheckResult:
        raise RuntimeError("sensor exploded")

    monkeypatch.setitem(core.REGISTRY, "boom", core.CheckSpec("boom", boom, "test"))
    result = run_one("boom")
    assert result.status == "fail"
    assert result.detail == "check crashed: RuntimeError: sensor exploded"


def test_json_output_follows_the_contract_and_exits_1_on_failure(
    use_config, capsys: pytest.CaptureFixture[str]
) -> None:
    use_config(concentrator={"url": "usb:///dev/ttyACM97"})
    code = main(["diag", "config", "device", "-c", "x.toml", "--json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 1
    assert [c["name"] for c in document["checks"]] == ["config", "device"]
    assert set(document["checks"][1]) == {"name", "status", "detail", "hint"}
    assert document["checks"][1]["status"] == "fail"
    assert document["summary"] == {"total": 2, "passed": 1, "warned": 0, "failed": 1}


def test_exit_code_is_0_when_only_warnings(use_config, capsys: pytest.CaptureFixture[str]) -> None:
    use_config()
    assert main(["diag", "config", "gps", "-c", "x.toml"]) == 0  # gps warns: no daemon
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "1 passed, 1 warnings, 0 failed"


def test_text_output_puts_the_hint_under_a_failure() -> None:
    import io

    out = io.StringIO()
    core.write_text([core.failed("device", "gone", "plug it in"), core.passed("disk", "ok")], out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "FAIL  device  gone"
    assert lines[1].strip() == "→ plug it in"
    assert lines[2] == "PASS  disk    ok"


def test_unknown_check_is_a_usage_error_exit_2() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "edge_agent.cli", "diag", "no-such-check"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert "unknown check no-such-check" in proc.stderr


def test_rx_is_not_run_by_default() -> None:
    import edge_agent.diag as diag

    assert diag.REGISTRY["rx"].default is False
    assert all(spec.default for name, spec in diag.REGISTRY.items() if name != "rx")
