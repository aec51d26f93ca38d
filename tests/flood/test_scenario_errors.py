"""Issue 14.3: under ``exit_when_done`` a scenario that cannot be loaded is fatal at start: exit 2
with one line naming the file and the line, instead of retrying a radio that never starts."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.agent.mqtt_helpers import run_to_completion, scenario_config

GOOD: dict[str, object] = {
    "at_ms": 100, "freq_hz": 868_100_000, "sf": 7, "bw_hz": 125_000, "cr": "4/5",
    "rssi_dbm": -60.0, "snr_db": 8.0, "crc": "ok", "phy": "40010203048001000101aabbccdd",
}  # fmt: skip


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([GOOD, {"at_ms": 200, "sf": 13}], "line 2: missing field(s)"),
        ([GOOD, GOOD, {**GOOD, "sf": 13}], "line 3: sf must be 5..12, got 13"),
        ([{**GOOD, "surprise": 1}], "line 1:"),
    ],
)
def test_bad_scenario_line_exits_2_naming_file_and_line(
    tmp_path: Path, lines: list[dict[str, object]], expected: str
) -> None:
    config = scenario_config(tmp_path, "tcp://127.0.0.1:1", lines)
    started = time.monotonic()
    out = run_to_completion(config)
    assert out.returncode == 2, out.stderr
    assert time.monotonic() - started < 20
    errors = [line for line in out.stderr.splitlines() if line.startswith("edge-agent:")]
    assert len(errors) == 1 and "Traceback" not in out.stderr, out.stderr
    assert str(tmp_path / "scenario.jsonl") in errors[0] and expected in errors[0], errors[0]
    assert "connected" not in out.stderr  # nothing ran


def test_unreadable_scenario_exits_2(tmp_path: Path) -> None:
    config = scenario_config(tmp_path, "tcp://127.0.0.1:1", [GOOD])
    (tmp_path / "scenario.jsonl").unlink()
    out = run_to_completion(config)
    assert out.returncode == 2, out.stderr
    assert "cannot read scenario" in out.stderr and "Traceback" not in out.stderr


def test_scenario_named_in_the_url_is_checked_too(tmp_path: Path) -> None:
    config = scenario_config(tmp_path, "tcp://127.0.0.1:1", [GOOD, {**GOOD, "cr": "4/9"}])
    scenario = tmp_path / "scenario.jsonl"
    text = config.read_text().replace(f'scenario = "{scenario}"\n', "")
    config.write_text(text.replace('url = "sim://"', f'url = "sim://?scenario={scenario}"'))
    out = run_to_completion(config)
    assert out.returncode == 2, out.stderr
    assert f"{scenario} line 2:" in out.stderr
