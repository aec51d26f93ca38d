"""Hardware tests, run on a gateway: ``pytest hw_tests --hw-config PATH``.

Without ``--hw-config``, or when the configured device is absent, every test is skipped with the
reason. Test modules import only pytest at module level, so collection works anywhere; the
driver is imported by the fixtures. The TX test also needs ``--hw-tx`` (it transmits on air).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("edge-agent hardware")
    group.addoption("--hw-config", metavar="PATH", help="edge-agent TOML of this gateway")
    group.addoption("--hw-rx-seconds", type=float, default=30.0, help="RX test duration")
    group.addoption("--hw-tx", action="store_true", help="allow the TX test to transmit")
    group.addoption("--hw-gps-seconds", type=float, default=120.0, help="wait for a GPS fix")


@dataclass
class HwSetup:
    """What the hardware tests need from the gateway's configuration."""

    config_path: Path
    raw: dict[str, Any]
    url: str
    board: Any = None  # drivers.boards.BoardPreset
    firmware_dir: str | None = None
    temperature_c: float = 25.0
    gps: str | None = None
    plan: Any = None  # drivers.sx1302.plan.ChipPlan
    notes: list[str] = field(default_factory=list)


def _device_path(url: str) -> str | None:
    parts = urlsplit(url)
    return parts.path if parts.scheme.removeprefix("spy+") in ("spi", "usb") else None


@pytest.fixture(scope="session")
def hw(request: pytest.FixtureRequest) -> HwSetup:
    """The gateway's setup from ``--hw-config``; skips when absent."""
    path = request.config.getoption("--hw-config")
    if not path:
        pytest.skip("hardware tests need a gateway: pytest hw_tests --hw-config PATH")
    config_path = Path(path)
    if not config_path.is_file():
        pytest.skip(f"--hw-config {path} does not exist")
    raw = tomllib.loads(config_path.read_text())
    conc = raw.get("concentrator", {})
    from drivers.boards import apply_overrides, board_preset

    board = None
    if conc.get("board"):
        board = apply_overrides(board_preset(conc["board"]), conc.get("board_overrides", {}))
    url = conc.get("url") or (board.default_url() if board else "spi:///dev/spidev0.0")
    if url.startswith("sim://"):
        pytest.skip(f"{path} points at the simulator ({url}); hardware tests need a device")
    device = _device_path(url)
    if device and not os.path.exists(device):
        pytest.skip(f"concentrator device {device} is not present on this machine")
    from edge_agent.config import load_config  # the daemon's loader builds the channel plan

    plan = load_config(config_path).concentrator.plan
    gps = raw.get("gps", {}).get("tty") or (board.gps_tty if board else None)
    return HwSetup(
        config_path=config_path,
        raw=raw,
        url=url,
        board=board,
        firmware_dir=conc.get("firmware_dir"),
        temperature_c=float(conc.get("temperature_c", 25.0)),
        gps=gps,
        plan=plan,
    )


@pytest.fixture(scope="session")
def transport(hw: HwSetup) -> Iterator[Any]:
    """The concentrator's transport, after a board reset (GPIO on SPI, the MCU on USB)."""
    from drivers.gpio import ResetLines
    from drivers.transport import open_transport

    lines = None
    if hw.url.startswith("spi") and hw.board is not None:
        lines = ResetLines.for_board(hw.board)
    if lines is not None:
        lines.reset()
    opened = open_transport(hw.url)
    opened.reset()  # no-op on SPI, the MCU GPIO sequence on USB
    yield opened
    opened.close()
    if lines is not None:
        lines.release()


@pytest.fixture(scope="session")
def chip(transport: Any, hw: HwSetup) -> Any:
    """The SX1302 driver on the real chip (not started), with the firmware of ``firmware_dir``."""
    from drivers.errors import FirmwareError
    from drivers.firmware import load_firmware
    from drivers.sx1302.chip import SX1302

    try:
        firmware = load_firmware(hw.firmware_dir)
    except FirmwareError as exc:
        firmware = None  # identity tests still run; start() explains what is missing
        print(f"\nno firmware: {exc}")
    return SX1302(transport, firmware=firmware)


@pytest.fixture(scope="session")
def started_chip(chip: Any, hw: HwSetup) -> Any:
    """The chip after a full bring-up with the configured plan."""
    chip.start(hw.plan)
    yield chip
    stop = getattr(chip, "stop", None)
    if stop is not None:
        stop()
