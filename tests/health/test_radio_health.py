"""RadioHealth: states from reports, the restart rule, one log line per state change."""

from __future__ import annotations

import logging

import pytest

from drivers.sim.scenario import ScenarioError, ScenarioFault, parse_scenario
from edge_agent.radio_health import RadioHealth


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make() -> tuple[RadioHealth, Clock]:
    clock = Clock()
    return RadioHealth(2.0, monotonic=clock, wall=lambda: 1_700_000_000.0 + clock.now), clock


def test_failed_polls_restart_only_after_the_configured_time() -> None:
    health, clock = make()
    health.start_attempt()
    health.started()
    assert health.state == "running"
    health.poll_failed(OSError("EIO"))
    clock.now += 1.9
    health.poll_failed(OSError("EIO"))
    assert not health.restart_due() and health.state == "running"
    clock.now += 0.1
    assert health.restart_due()
    snap = health.snapshot()
    assert snap["state"] == "down" and snap["restarts"] == 1
    assert snap["down_since"] == 1_700_000_100.0  # the first failed poll
    assert "2 failed polls in 2.0s: OSError: EIO" in snap["last_error"]
    assert not health.restart_due()  # decided once


def test_a_successful_poll_clears_the_failures() -> None:
    health, clock = make()
    health.started()
    health.poll_failed(OSError("EIO"))
    clock.now += 1.5
    health.poll_ok()
    clock.now += 1.0
    health.poll_failed(OSError("EIO"))
    assert not health.restart_due()


def test_a_detected_reset_restarts_at_once_and_recovery_is_logged(caplog) -> None:
    health, clock = make()
    health.started()
    caplog.set_level(logging.INFO, logger="edge_agent.radio_health")
    caplog.clear()
    health.reset_detected("chip reset detected: GLOBAL_EN 0")
    assert health.restart_due()
    health.start_attempt()
    health.start_failed(OSError("gone"), 1.0)
    health.start_attempt()
    clock.now += 3.0
    health.started()
    states = [r.getMessage().split(":")[0] for r in caplog.records]
    assert states == [
        "radio running -> down",
        "radio down -> restarting",
        "radio restarting -> down",
        "radio down -> restarting",
        "radio restarting -> running",
    ]
    assert "after 3.0s down (start 2, restart 1)" in caplog.records[-1].getMessage()
    assert health.snapshot()["down_since"] is None


def test_config_check_is_due_once_per_interval_while_running() -> None:
    health, clock = make()
    assert not health.config_check_due()  # not running yet
    health.started()
    clock.now += 1.0
    assert health.config_check_due()
    assert not health.config_check_due()


def test_fault_lines_are_parsed_exactly() -> None:
    scenario = parse_scenario(
        [
            '{"at_ms": 9, "fault": "unplug", "duration_ms": 5}',
            '{"at_ms": 1, "fault": "chip_reset"}',
            '{"at_ms": 2, "fault": "spi_error", "duration_ms": 3}',
        ]
    )
    assert scenario.items == ()
    assert scenario.faults == (
        ScenarioFault(1, "chip_reset"),
        ScenarioFault(2, "spi_error", 3),
        ScenarioFault(9, "unplug", 5),
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"at_ms": 1, "fault": "chip_reset", "duration_ms": 5}', "unexpected: duration_ms"),
        ('{"at_ms": 1, "fault": "spi_error"}', "missing: duration_ms"),
        ('{"at_ms": 1, "fault": "spi_error", "duration_ms": 0}', "duration_ms must be >= 1"),
        ('{"at_ms": 1, "fault": "melt"}', "fault must be one of"),
    ],
)
def test_bad_fault_lines_name_the_line(line: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=f"line 1: .*{message}"):
        parse_scenario([line])


def _concentrator(extra: str):  # type: ignore[no-untyped-def]
    from edge_agent.config import parse_config

    return parse_config(f'[concentrator]\nurl = "sim://"\n{extra}').concentrator


def test_radio_fail_restart_after_s_defaults_to_two_seconds() -> None:
    assert _concentrator("").radio_fail_restart_after_s == 2.0
    assert _concentrator("radio_fail_restart_after_s = 5").radio_fail_restart_after_s == 5.0


@pytest.mark.parametrize("value", ["0", "-1", "inf", "nan", '"2"'])
def test_radio_fail_restart_after_s_must_be_finite_and_positive(value: str) -> None:
    from edge_agent.errors import ConfigError

    with pytest.raises(ConfigError, match=r"concentrator\.radio_fail_restart_after_s"):
        _concentrator(f"radio_fail_restart_after_s = {value}")
