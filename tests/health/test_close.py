"""Closing the service leaves nothing behind: no thread, no socket, no open file."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from tests.health.live import supervised
from tests.ops.daemon_config import config_text
from tests.waiting import wait_until


def open_fds() -> dict[int, str]:
    """This process's open file descriptors and what they point at."""
    out = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            out[int(name)] = os.readlink(f"/proc/self/fd/{name}")
        except OSError:  # the listing's own descriptor, closed already
            continue
    return out


@pytest.mark.broker
def test_a_stopped_daemon_leaves_no_thread_socket_or_file(tmp_path: Path, broker) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "config.toml"
    path.write_text(config_text(tmp_path, broker.url) + '\n[gps]\ntty = "sim://gps"\n')
    threads, fds = set(threading.enumerate()), open_fds()
    with supervised(path) as (service, supervisor):
        wait_until(lambda: service.health.running and service.backend.connected.is_set())
        wait_until(lambda: supervisor.document()["gps"].get("time_valid"), 20, "the GPS lock")
        assert len(threading.enumerate()) > len(threads)
    wait_until(lambda: set(threading.enumerate()) <= threads, 5, "the daemon's threads to end")
    left = {fd: target for fd, target in open_fds().items() if fds.get(fd) != target}
    assert left == {}, left
    assert not (tmp_path / "status.sock").exists()
