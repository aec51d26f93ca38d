"""Board detection reads the chip version through the real driver, with a timeout."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from drivers.transport import register_transport
from edge_agent import config_init
from edge_agent.cli import main
from edge_agent.config import load_config

RELEASE = threading.Event()


def hanging_open(url: str, **_options: Any) -> Any:
    """A device that never answers (until the test releases it)."""
    RELEASE.wait(10)
    raise OSError("released")


register_transport("kithang", "tests.kit.test_detect:hanging_open")


def test_a_simulated_corecell_is_found_by_its_version_register() -> None:
    (found,) = config_init.detect(["sim://"])
    assert (found.found, found.detail, found.board) == (
        True,
        "SX1302 version 0x10",
        "semtech_corecell",
    )


def test_a_missing_spi_device_is_reported_with_the_driver_error() -> None:
    (result,) = config_init.detect(["spi:///dev/spidev9.9"])
    assert not result.found
    assert "cannot open /dev/spidev9.9" in result.detail
    assert (
        "No concentrator answers on spi:///dev/spidev9.9" in config_init.detect_report([result])[0]
    )


def test_a_usb_port_maps_to_the_usb_corecell_board() -> None:
    (result,) = config_init.detect(["usb:///dev/ttyACM99"])
    assert (result.found, result.board) == (False, "semtech_corecell_usb")


def test_a_device_that_hangs_is_given_up_after_the_timeout() -> None:
    try:
        (result,) = config_init.detect(["kithang://x"], timeout_s=0.2)
    finally:
        RELEASE.set()
    assert (result.found, result.detail) == (False, "no answer within 0.2 s")


def test_board_detect_flag_uses_what_answered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(config_init, "candidates", lambda: ["spi:///dev/spidev9.9", "sim://"])
    out = tmp_path / "config.toml"
    args = ["config", "init", "--board", "detect", "--udp", "udp://127.0.0.1:1700"]
    assert main([*args, "--spool", str(tmp_path / "s.db"), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "Found SX1302 version 0x10 on sim://" in err
    assert "No concentrator answers on spi:///dev/spidev9.9" in err
    cfg = load_config(out)
    assert (cfg.concentrator.board, cfg.concentrator.url) == ("semtech_corecell", "sim://")


def test_board_detect_with_nothing_answering_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(config_init, "candidates", lambda: [])
    out = tmp_path / "config.toml"
    assert main(["config", "init", "--board", "detect", "--udp", "udp://h:1", "-o", str(out)]) == 2
    assert "no concentrator answered; give --board NAME" in capsys.readouterr().err
    assert not out.exists()
