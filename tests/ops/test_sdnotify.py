"""The notify protocol client and the watchdog, against a harness that plays systemd."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from edge_agent import sdnotify
from tests.ops.notify_harness import NotifyHarness


@pytest.fixture
def harness(tmp_path: Path):
    h = NotifyHarness(tmp_path / "notify.sock", watchdog_usec=100_000)
    yield h
    h.close()


def test_notify_is_a_no_op_outside_systemd() -> None:
    assert sdnotify.notify("READY=1", environ={}) is False


def test_notify_sends_all_fields_in_one_datagram(harness: NotifyHarness) -> None:
    env = {"NOTIFY_SOCKET": str(harness.path)}
    assert sdnotify.notify("READY=1", "STATUS=up", environ=env) is True
    assert harness.receive(2.0) == {"READY": "1", "STATUS": "up"}


def test_abstract_socket_address_is_supported() -> None:
    name = f"edge-agent-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(2.0)
        assert sdnotify.notify("WATCHDOG=1", environ={"NOTIFY_SOCKET": "@" + name})
        assert sock.recv(100) == b"WATCHDOG=1"


def test_relative_notify_socket_is_ignored() -> None:
    assert sdnotify.notify_socket_address({"NOTIFY_SOCKET": "relative/path"}) is None


def test_watchdog_interval_is_half_of_watchdog_usec() -> None:
    assert sdnotify.watchdog_interval_s({"WATCHDOG_USEC": "30000000"}) == 15.0
    assert sdnotify.watchdog_interval_s({}) is None
    assert sdnotify.watchdog_interval_s({"WATCHDOG_USEC": "0"}) is None


def test_watchdog_meant_for_another_pid_is_not_ours() -> None:
    env = {"WATCHDOG_USEC": "1000000", "WATCHDOG_PID": str(os.getpid() + 1)}
    assert sdnotify.watchdog_interval_s(env) is None
    env["WATCHDOG_PID"] = str(os.getpid())
    assert sdnotify.watchdog_interval_s(env) == 0.5


def test_watchdog_withholds_pings_while_unhealthy(harness: NotifyHarness) -> None:
    healthy = [False]
    dog = sdnotify.Watchdog(lambda: healthy[0], environ=harness.environ())
    assert dog.poll_once() is False
    healthy[0] = True
    assert dog.poll_once() is True
    assert harness.receive(2.0) == {"WATCHDOG": "1"}
    assert (dog.pings, dog.missed) == (1, 1)


def test_watchdog_treats_a_raising_health_check_as_unhealthy(harness: NotifyHarness) -> None:
    dog = sdnotify.Watchdog(lambda: 1 / 0 > 0, environ=harness.environ())
    assert dog.poll_once() is False


def test_watchdog_does_not_start_without_watchdog_usec() -> None:
    dog = sdnotify.Watchdog(lambda: True, environ={})
    dog.start()
    assert dog.enabled is False and dog._thread is None


def test_daemon_sends_ready_periodic_watchdog_and_stopping(
    harness: NotifyHarness, tmp_path: Path
) -> None:
    flag = tmp_path / "unhealthy"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.ops.fake_daemon", str(flag)], env=harness.environ()
    )
    try:
        assert harness.wait_for("READY")["STATUS"] == "running"
        assert harness.count("WATCHDOG", 0.6) >= 3  # every 50 ms while healthy
        flag.touch()
        harness.count("WATCHDOG", 0.2)  # drain pings sent before the flag was seen
        assert harness.count("WATCHDOG", 0.4) == 0
        flag.unlink()
        harness.wait_for("WATCHDOG")
        proc.send_signal(signal.SIGTERM)
        assert harness.wait_for("STOPPING") == {"STOPPING": "1", "STATUS": "draining"}
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.wait()
