"""``edge-agent diag`` gpio check: without the gpiod v2 bindings it says what to install.

The sysfs fallback is gone (drivers/gpio.py says why), so a board with reset/power lines on
``spi://`` needs ``gpiod`` >= 2; the check fails with the install command instead of letting the
radio fail at its first start.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from edge_agent.diag import core
from tests.ops.conftest import make_config, run_one


@pytest.fixture
def spi_board(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = make_config(
        tmp_path, concentrator={"url": "spi:///dev/spidev0.0", "board": "semtech_corecell"}
    )
    monkeypatch.setattr(core, "_load_config", lambda _path: cfg)


def test_missing_gpiod_fails_with_the_install_command(spi_board, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "gpiod", None)
    result = run_one("gpio")
    assert result.status == "fail"
    assert result.detail.startswith("the gpiod Python package is not installed")
    assert "no /sys/class/gpio fallback" in result.detail
    assert "sudo /opt/edge-agent/bin/pip install 'gpiod>=2.1'" in result.hint
    assert "python3-libgpiod" in result.hint


def test_gpiod_v1_bindings_fail_by_version(spi_board, monkeypatch) -> None:
    v1 = types.ModuleType("gpiod")
    v1.__version__ = "1.6.3"
    monkeypatch.setitem(sys.modules, "gpiod", v1)
    result = run_one("gpio")
    assert result.status == "fail"
    assert "gpiod 1.6.3 is the libgpiod v1 API" in result.detail


def test_gpiod_v2_goes_on_to_the_gpiochip_checks(spi_board, monkeypatch) -> None:
    v2 = types.ModuleType("gpiod")
    v2.request_lines = lambda *a, **k: None
    monkeypatch.setitem(sys.modules, "gpiod", v2)
    result = run_one("gpio")
    assert "gpiod" not in result.detail  # the device checks decide now
