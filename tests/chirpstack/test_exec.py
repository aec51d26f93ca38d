"""Issue 13 point 7: ``command/exec`` runs only ``[commands]`` entries (argv, no shell, a timeout,
output capped) and answers on ``event/exec`` with a GatewayCommandExecResponse."""

from __future__ import annotations

import json
import logging
import sys

import pytest
from chirpstack_api import gw

from edge_agent.backends.chirpstack.commands import execute
from tests.agent.fakes import FakeConcentrator
from tests.agent.mqtt_helpers import GW_ID, Subscriber, config_text
from tests.chirpstack.helpers import start_service
from tests.chirpstack.test_garbage_retained import publish
from tests.waiting import wait_until

pytestmark = pytest.mark.broker

EXEC = f"eu868/gateway/{GW_ID}/command/exec"
PY = json.dumps(sys.executable)
COMMANDS = (
    "[commands]\n"
    f'echo = [{PY}, "-c", "import sys; sys.stdout.write(sys.stdin.read().upper())"]\n'
    f'fail = [{PY}, "-c", "import sys; sys.stderr.write(\\"bad\\"); sys.exit(3)"]\n'
)


def request(exec_id: int, command: str, stdin: bytes = b"", **env: str) -> bytes:
    req = gw.GatewayCommandExecRequest(
        gateway_id=GW_ID, exec_id=exec_id, command=command, stdin=stdin, environment=env
    )
    return req.SerializeToString()


def replies(sub: Subscriber, count: int) -> dict[int, gw.GatewayCommandExecResponse]:
    msgs = sub.collect("/event/exec", count, timeout=20)
    out = [gw.GatewayCommandExecResponse.FromString(m.payload) for m in msgs]
    return {r.exec_id: r for r in out}


def test_allowed_commands_run_and_others_are_refused(broker, running, caplog) -> None:
    caplog.set_level(logging.INFO)
    sub = Subscriber(broker.port, "+/gateway/+/event/exec")
    svc = start_service(
        running, config_text(broker.url, extra=COMMANDS), FakeConcentrator(hold=True)
    )
    wait_until(svc.backend.connected.is_set)
    publish(broker.port, EXEC, request(1, "echo", b"hello"))
    publish(broker.port, EXEC, request(2, "fail"))
    publish(broker.port, EXEC, request(3, "rm"))  # not in [commands]
    publish(broker.port, EXEC, request(4, "echo", LD_PRELOAD="/tmp/x.so"))
    got = replies(sub, 4)
    assert (got[1].stdout, got[1].error, got[1].gateway_id) == (b"HELLO", "", GW_ID)
    assert (got[2].stderr, got[2].error) == (b"bad", "exit status 3")
    assert "'rm' is not configured (allowed: echo, fail)" in got[3].error
    assert got[3].stdout == b""
    assert "environment variables are not accepted (LD_PRELOAD)" in got[4].error
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "exec 1: running 'echo'" in logged and "exec 3: rm refused" in logged
    sub.close()


def test_exec_is_disabled_without_commands(broker, running) -> None:
    sub = Subscriber(broker.port, "+/gateway/+/event/exec")
    svc = start_service(running, config_text(broker.url), FakeConcentrator(hold=True))
    wait_until(svc.backend.connected.is_set)
    publish(broker.port, EXEC, request(9, "echo"))
    assert "disabled" in replies(sub, 1)[9].error
    sub.close()


def test_timeout_kills_and_output_is_capped() -> None:
    allow = {
        "sleep": (sys.executable, "-c", "import time; time.sleep(30)"),
        "loud": (sys.executable, "-c", "print('x' * 5000)"),
    }
    req = gw.GatewayCommandExecRequest(exec_id=5, command="sleep")
    slow = execute(req, allow, GW_ID, timeout_s=0.5)
    assert slow.error == "timed out after 0.5 s (killed)"
    req = gw.GatewayCommandExecRequest(exec_id=6, command="loud")
    loud = execute(req, allow, GW_ID, output_max_bytes=100)
    assert loud.stdout == b"x" * 100
    assert loud.error == "output cut at 100 bytes"
