"""``diag`` never opens the concentrator while a daemon holds it: busy is not absent."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

import edge_agent.diag.radio as radio
from drivers.errors import DeviceBusy
from drivers.lock import DeviceLock, is_locked
from drivers.transport import _REGISTRY, open_transport
from edge_agent.status import StatusServer
from tests.ops.conftest import run_one

HOLD_LOCK = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(60)
"""


class _FakeTransport:
    """What a transport opener returns, recording that the device was opened and closed."""

    opened: ClassVar[list[str]] = []

    def __init__(self, url: str, **_options: Any) -> None:
        self.url = url
        self.closed = False
        _FakeTransport.opened.append(url)

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def chip_opens(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every attempt of diag to open or start the concentrator, by check."""
    opens: list[str] = []

    def open_chip(_ctx: Any) -> Any:
        opens.append("open_chip")
        raise RuntimeError("the test's chip must not be opened")

    def receive_here(_ctx: Any) -> Any:
        opens.append("receive_here")
        raise RuntimeError("the test's chip must not be started")

    monkeypatch.setattr(radio, "open_chip", open_chip)
    monkeypatch.setattr(radio, "receive_here", receive_here)
    return opens


@pytest.fixture
def busy_socket(use_config) -> Iterator[Path]:
    """A daemon's status socket that accepts but does not answer (a slow client holds it)."""
    cfg = use_config()
    path = Path(cfg.status.socket)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(str(path))
        listener.listen(8)
        yield path


@pytest.fixture
def held_device(tmp_path: Path) -> Iterator[Path]:
    """A device node whose lock another process holds for the test's duration."""
    device = tmp_path / "ttyACM0"
    device.write_bytes(b"")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(device)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield device
    finally:
        holder.kill()
        holder.wait(timeout=10)


@pytest.mark.parametrize("name", ["concentrator", "radios", "rx"])
def test_diag_against_a_busy_socket_never_opens_the_chip(
    busy_socket: Path, chip_opens: list[str], name: str
) -> None:
    result = run_one(name, rx_seconds=0.1)
    assert chip_opens == []
    assert result.status == "warn"
    assert result.detail.startswith("busy: ")
    assert str(busy_socket) in result.detail
    assert "systemctl stop edge-agent" in result.hint


def test_gps_against_a_busy_socket_says_busy_not_no_daemon(busy_socket: Path) -> None:
    result = run_one("gps")
    assert result.detail.startswith("busy: ")


def test_busy_socket_names_the_device_the_daemon_holds(
    use_config, held_device: Path, chip_opens: list[str], tmp_path: Path
) -> None:
    cfg = use_config(concentrator={"url": f"usb://{held_device}"})
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(cfg.status.socket)
        listener.listen(8)
        result = run_one("concentrator")
    assert chip_opens == []
    assert result.detail.startswith("busy: ")
    assert result.detail.endswith(f"; it holds {held_device}")


@pytest.mark.parametrize("name", ["concentrator", "radios", "rx"])
def test_diag_reports_busy_when_another_process_holds_the_device(
    use_config, held_device: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    use_config(concentrator={"url": f"usb://{held_device}"})  # no status socket at all
    _FakeTransport.opened = []
    monkeypatch.setitem(_REGISTRY, "usb", f"{__name__}:_FakeTransport")
    result = run_one(name, rx_seconds=0.1)
    assert _FakeTransport.opened == []  # the lock came first: the device was never opened
    assert result.status == "warn"
    assert result.detail == f"busy: {held_device} is in use by another process " + (
        "(a running edge-agent, diag or packet forwarder holds its lock)"
    )


def test_an_open_transport_holds_its_device_lock_until_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    device = tmp_path / "spidev0.0"
    device.write_bytes(b"")
    monkeypatch.setitem(_REGISTRY, "spi", f"{__name__}:_FakeTransport")
    transport = open_transport(f"spi://{device}")
    assert is_locked(str(device))
    with pytest.raises(DeviceBusy, match=str(device)):
        open_transport(f"spi://{device}")
    transport.close()
    assert transport.closed and not is_locked(str(device))


def test_a_failed_open_releases_the_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    device = tmp_path / "ttyACM0"
    device.write_bytes(b"")
    monkeypatch.setitem(_REGISTRY, "usb", f"{__name__}:_failing_opener")
    with pytest.raises(OSError, match="no MCU"):
        open_transport(f"usb://{device}")
    assert not is_locked(str(device))


def _failing_opener(url: str, **_options: Any) -> Any:
    raise OSError("no MCU")


def test_the_lock_dies_with_its_holder_even_by_sigkill(tmp_path: Path) -> None:
    device = tmp_path / "spidev0.0"
    device.write_bytes(b"")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(device)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    assert is_locked(str(device))
    holder.kill()
    holder.wait(timeout=10)
    lock = DeviceLock.acquire(str(device))
    assert lock is not None and lock.held
    lock.release()


def test_a_missing_device_takes_no_lock(tmp_path: Path) -> None:
    assert DeviceLock.acquire(str(tmp_path / "spidev9.9")) is None


def test_a_real_daemon_status_socket_is_not_busy(use_config, chip_opens: list[str]) -> None:
    cfg = use_config()
    running = {"radio": {"state": "running", "model": "SX1302", "version": 0x10, "eui": "1"}}
    with StatusServer(cfg.status.socket, lambda: running):
        result = run_one("concentrator")
    assert (result.status, chip_opens) == ("pass", [])
