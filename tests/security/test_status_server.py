"""The status socket under load and at a hostile path: concurrent clients, deadlines, no deletes."""

from __future__ import annotations

import os
import socket
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge_agent.errors import StatusBusy, StatusError
from edge_agent.status import StatusClient, StatusServer

DOCUMENT = {"radio": {"state": "running"}}


def _silent_client(path: Path) -> socket.socket:
    """A client that connects and never sends its request (a slow or hostile client)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(str(path))
    return sock


@pytest.fixture
def server(tmp_path: Path) -> Iterator[StatusServer]:
    srv = StatusServer(tmp_path / "status.sock", lambda: DOCUMENT)
    srv.start()
    yield srv
    srv.stop()


def test_a_silent_client_does_not_delay_another(server: StatusServer) -> None:
    with _silent_client(server.path):
        time.sleep(0.3)  # the server has accepted it and waits for its request
        started = time.monotonic()
        assert StatusClient(server.path).query("/", timeout=1.0) == DOCUMENT
        assert time.monotonic() - started < 1.0


def test_several_silent_clients_do_not_delay_another(server: StatusServer) -> None:
    holders = [_silent_client(server.path) for _ in range(4)]
    try:
        time.sleep(0.3)
        assert StatusClient(server.path).query("/radio", timeout=1.0) == DOCUMENT["radio"]
    finally:
        for sock in holders:
            sock.close()


def test_a_client_past_its_deadline_is_dropped(tmp_path: Path) -> None:
    with (
        StatusServer(tmp_path / "s.sock", lambda: DOCUMENT, deadline_s=0.3) as srv,
        _silent_client(srv.path) as sock,
    ):
        sock.settimeout(3.0)
        started = time.monotonic()
        assert sock.recv(100) == b""  # closed by the server, no answer
        assert time.monotonic() - started < 2.0


def test_a_client_trickling_its_request_is_dropped_at_the_deadline(tmp_path: Path) -> None:
    with (
        StatusServer(tmp_path / "s.sock", lambda: DOCUMENT, deadline_s=0.5) as srv,
        _silent_client(srv.path) as sock,
    ):
        sock.settimeout(3.0)
        started = time.monotonic()
        for byte in b"GET /":  # one byte every 0.2 s: each recv is quick, the whole is not
            try:
                sock.send(bytes([byte]))
            except OSError:
                break
            time.sleep(0.2)
        try:
            reply = sock.recv(100)
        except ConnectionResetError:  # closed with our bytes unread
            reply = b""
        assert reply == b""
        assert time.monotonic() - started < 2.5


def test_clients_beyond_the_limit_are_told_busy_at_once(tmp_path: Path) -> None:
    with StatusServer(tmp_path / "s.sock", lambda: DOCUMENT, max_clients=2) as srv:
        holders = [_silent_client(srv.path) for _ in range(2)]
        try:
            time.sleep(0.3)
            started = time.monotonic()
            with pytest.raises(StatusBusy, match="busy"):
                StatusClient(srv.path).query("/", timeout=1.5)
            assert time.monotonic() - started < 1.0
            assert srv.busy_refused == 1
        finally:
            for sock in holders:
                sock.close()
        time.sleep(0.3)
        assert StatusClient(srv.path).query("/", timeout=1.5) == DOCUMENT


def test_busy_is_reported_even_when_the_server_closes_before_the_request(
    tmp_path: Path,
) -> None:
    with (
        StatusServer(tmp_path / "s.sock", lambda: DOCUMENT, max_clients=1) as srv,
        _silent_client(srv.path),
    ):
        time.sleep(0.3)
        for _ in range(30):  # the "busy" line often arrives before the request is sent
            with pytest.raises(StatusBusy):
                StatusClient(srv.path).query("/", timeout=1.5)


def test_a_listener_that_never_answers_is_busy_not_absent(tmp_path: Path) -> None:
    path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(str(path))
        listener.listen(1)
        with pytest.raises(StatusBusy, match="did not answer"):
            StatusClient(path).query("/", timeout=0.3)


def test_no_socket_is_absent_not_busy(tmp_path: Path) -> None:
    with pytest.raises(StatusError, match="does not exist") as info:
        StatusClient(tmp_path / "none.sock").query("/", timeout=0.3)
    assert not isinstance(info.value, StatusBusy)


# -- the socket path ----------------------------------------------------------------------


def test_a_regular_file_at_the_socket_path_is_an_error_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "status.sock"
    path.write_text("precious\n")
    srv = StatusServer(path, lambda: DOCUMENT)
    with pytest.raises(StatusError, match=f"{path}.*not a socket"):
        srv.start()
    assert path.read_text() == "precious\n"
    srv.stop()
    assert path.read_text() == "precious\n"


def test_a_symlink_at_the_socket_path_is_an_error_and_its_target_kept(tmp_path: Path) -> None:
    target = tmp_path / "important.conf"
    target.write_text("keep me\n")
    path = tmp_path / "status.sock"
    path.symlink_to(target)
    with pytest.raises(StatusError, match="symlink"):
        StatusServer(path, lambda: DOCUMENT).start()
    assert path.is_symlink() and target.read_text() == "keep me\n"


def test_a_directory_at_the_socket_path_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "status.sock"
    path.mkdir()
    with pytest.raises(StatusError, match="not a socket"):
        StatusServer(path, lambda: DOCUMENT).start()
    assert path.is_dir()


def test_a_stale_socket_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "status.sock"
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(path))
    stale.close()  # the file stays, nobody listens
    with StatusServer(path, lambda: DOCUMENT):
        assert StatusClient(path).query("/", timeout=1.0) == DOCUMENT


def test_a_live_socket_of_another_process_is_not_stolen(tmp_path: Path) -> None:
    path = tmp_path / "status.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as other:
        other.bind(str(path))
        other.listen(1)
        inode = path.stat().st_ino
        with pytest.raises(StatusError, match="in use by another process"):
            StatusServer(path, lambda: DOCUMENT).start()
        assert path.stat().st_ino == inode


def test_the_socket_and_its_directory_are_created_with_safe_modes(tmp_path: Path) -> None:
    path = tmp_path / "run" / "edge-agent" / "status.sock"
    old = os.umask(0)  # a careless parent umask must not widen the modes
    try:
        with StatusServer(path, lambda: DOCUMENT):
            assert stat.S_ISSOCK(path.stat().st_mode)
            assert stat.S_IMODE(path.stat().st_mode) == 0o660
            assert stat.S_IMODE(path.parent.stat().st_mode) == 0o750
    finally:
        os.umask(old)
