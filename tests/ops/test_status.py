"""The status socket (server, client) and ``edge-agent status``."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from edge_agent.cmd_status import render
from edge_agent.errors import StatusError
from edge_agent.status import StatusClient, StatusServer
from tests.health.live import live_daemon


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A status document produced by a real daemon on the simulator (then stopped)."""
    tmp = tmp_path_factory.mktemp("daemon")
    with live_daemon(tmp, tmp / "status.sock") as supervisor:
        return json.loads(json.dumps(supervisor.document(), default=str))


@pytest.fixture
def server(tmp_path: Path, document: dict):
    srv = StatusServer(tmp_path / "status.sock", lambda: document)
    srv.start()
    yield srv
    srv.stop()


def test_client_reads_the_whole_document(server: StatusServer, document: dict) -> None:
    assert StatusClient(server.path).query() == document


def test_the_daemon_document_has_the_contract_fields(document: dict) -> None:
    radio = document["radio"]
    assert radio["state"] == "running" and radio["starts"] == 1
    assert radio["down_since"] is None and radio["last_error"] is None
    assert radio["radios"]["a"] == {
        "mode": "rx", "freq_hz": 867_500_000, "tx": True, "last_error": None
    }  # fmt: skip
    downlinks = document["downlinks"]
    assert downlinks["queue_depth"] == 0 and downlinks["next_tx"] is None
    assert set(downlinks["by_status"]) >= {"OK", "TOO_LATE", "GPS_UNLOCKED"}
    assert document["gps"]["enabled"] is False and "reason" in document["gps"]


def test_client_reads_one_section(server: StatusServer) -> None:
    assert StatusClient(server.path).query("/radio")["model"] == "SX1302"


def test_unknown_section_raises_status_error(server: StatusServer) -> None:
    with pytest.raises(StatusError, match="no such status path '/nope'"):
        StatusClient(server.path).query("/nope")


def test_missing_socket_raises_status_error(tmp_path: Path) -> None:
    with pytest.raises(StatusError, match="no daemon is running"):
        StatusClient(tmp_path / "absent.sock").query()


def test_stale_socket_raises_status_error(tmp_path: Path) -> None:
    path = tmp_path / "stale.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    sock.close()  # the file stays, nobody listens
    with pytest.raises(StatusError, match="stale socket"):
        StatusClient(path).query()


def test_provider_failure_is_answered_not_fatal(tmp_path: Path) -> None:
    def broken() -> dict:
        raise RuntimeError("radio thread gone")

    with StatusServer(tmp_path / "s.sock", broken) as srv:
        with pytest.raises(StatusError, match="radio thread gone"):
            StatusClient(srv.path).query()
        assert srv._thread is not None and srv._thread.is_alive()


def test_socket_is_not_world_accessible(server: StatusServer) -> None:
    assert server.path.stat().st_mode & 0o007 == 0


def test_stop_removes_the_socket_file(tmp_path: Path) -> None:
    srv = StatusServer(tmp_path / "s.sock", lambda: {})
    srv.start()
    srv.stop()
    srv.stop()
    assert not srv.path.exists()


def test_render_shows_uptime_and_sections(document: dict) -> None:
    out = io.StringIO()
    render({**document, "uptime_s": 3725}, out)
    text = out.getvalue()
    assert "uptime                 01:02:05" in text
    assert "[radio]" in text and "temperature_c        25" in text
    assert "state              disconnected" in text


def _status_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edge_agent.cli", "status", *args],
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_status_json_prints_the_daemon_document(server: StatusServer, document: dict) -> None:
    proc = _status_cli("--socket", str(server.path), "--json")
    assert proc.returncode == 0
    assert json.loads(proc.stdout) == document


def test_status_exits_1_while_the_radio_is_not_running(tmp_path: Path, document: dict) -> None:
    down = {**document, "radio": {**document["radio"], "state": "restarting"}}
    with StatusServer(tmp_path / "s.sock", lambda: down) as srv:
        proc = _status_cli("--socket", str(srv.path))
    assert proc.returncode == 1
    assert "restarting" in proc.stdout


def test_status_exits_3_when_no_daemon_answers(tmp_path: Path) -> None:
    proc = _status_cli("--socket", str(tmp_path / "none.sock"), "--json")
    assert proc.returncode == 3
    assert "no daemon is running" in proc.stderr
    assert proc.stdout == ""


def test_watch_redraws_in_place_until_interrupted(server: StatusServer) -> None:
    import signal
    import time

    args = ["status", "--socket", str(server.path), "--watch", "--interval", "0.2"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "edge_agent.cli", *args],
        stdout=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.5)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode in (0, 130)
    frames = out.split("\x1b[H\x1b[2J")[1:]
    assert len(frames) >= 2
    assert "gateway_id             0016c001ff1e0001" in frames[0]
