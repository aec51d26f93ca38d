"""``command/exec``: run a command of the ``[commands]`` allowlist, answer on ``event/exec``.

Only names listed in ``[commands]`` run, as their configured argv (no shell, nothing of the
request is added to it but stdin), with a timeout and each output capped. Everything else is
refused in the reply's ``error``. Every execution and every refusal is logged.
"""

from __future__ import annotations

import logging
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import IO, Any

from chirpstack_api import gw

from edge_agent.backends.chirpstack.codec import DECODE_ERRORS, decode, encode
from edge_agent.backends.chirpstack.plan_command import handle_config

LOGGER = logging.getLogger(__name__)

#: a command still running after this long is killed and answered with an error
EXEC_TIMEOUT_S = 30.0
#: at most this many bytes of stdout and of stderr go into the reply (the rest is cut)
EXEC_OUTPUT_MAX_BYTES = 64 * 1024


def execute(
    request: gw.GatewayCommandExecRequest,
    allowlist: Mapping[str, tuple[str, ...]],
    gateway_id: str,
    *,
    timeout_s: float = EXEC_TIMEOUT_S,
    output_max_bytes: int = EXEC_OUTPUT_MAX_BYTES,
) -> gw.GatewayCommandExecResponse:
    """Run ``request.command`` if the allowlist names it; the reply, refusals included."""
    reply = gw.GatewayCommandExecResponse(gateway_id=gateway_id, exec_id=request.exec_id)
    why = _refusal(request, allowlist, gateway_id)
    if why is not None:
        LOGGER.warning("exec %d: %s refused: %s", request.exec_id, request.command or "''", why)
        reply.error = why
        return reply
    argv = list(allowlist[request.command])
    LOGGER.info("exec %d: running %r: %s", request.exec_id, request.command, argv)
    started = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=out, stderr=err, shell=False
            )
        except OSError as exc:
            LOGGER.error("exec %d: %r cannot start: %s", request.exec_id, request.command, exc)
            reply.error = f"cannot start {argv[0]}: {exc.strerror or exc}"
            return reply
        try:
            proc.communicate(bytes(request.stdin), timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            reply.error = f"timed out after {timeout_s:g} s (killed)"
        reply.stdout, cut_out = _capped(out, output_max_bytes)
        reply.stderr, cut_err = _capped(err, output_max_bytes)
    if not reply.error and proc.returncode != 0:
        reply.error = f"exit status {proc.returncode}"
    if cut_out or cut_err:
        reply.error = "; ".join(
            filter(None, [reply.error, f"output cut at {output_max_bytes} bytes"])
        )
    LOGGER.info(
        "exec %d: %r ended with status %s in %.1f s (%s)",
        request.exec_id,
        request.command,
        proc.returncode,
        time.monotonic() - started,
        reply.error or "ok",
    )
    return reply


def _refusal(
    request: gw.GatewayCommandExecRequest, allowlist: Mapping[str, tuple[str, ...]], gateway_id: str
) -> str | None:
    if request.gateway_id and request.gateway_id.lower() != gateway_id.lower():
        return f"for gateway {request.gateway_id!r}, we are {gateway_id!r}"
    if not allowlist:
        return "command/exec is disabled on this gateway ([commands] is empty)"
    if request.command not in allowlist:
        allowed = ", ".join(sorted(allowlist))
        return f"command {request.command!r} is not configured (allowed: {allowed})"
    if request.environment:
        names = ", ".join(sorted(request.environment))
        return f"environment variables are not accepted ({names}): they could change what runs"
    return None


def _capped(stream: IO[bytes], limit: int) -> tuple[bytes, bool]:
    """The first ``limit`` bytes a command wrote, and whether there was more."""
    stream.seek(0)
    data = stream.read(limit + 1)
    return data[:limit], len(data) > limit


#: exec requests waiting for the one worker beyond this many are refused ("busy")
EXEC_QUEUE_MAX = 4


class CommandHandler:
    """The ChirpStack backend's ``command/*`` other than ``down``, on its sender thread;
    commands run on one worker thread and their replies go back through the sender."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self._executor: ThreadPoolExecutor | None = None
        self._queued = 0
        self._lock = threading.Lock()

    def handle(self, command: str, payload: bytes) -> None:
        """One ``command/<command>`` message (not ``down``, not retained)."""
        if command == "exec":
            self._exec(payload)
        elif command == "config":
            handle_config(self.backend, payload)
        else:
            LOGGER.info("%s: command/%s ignored: not supported", self.backend.name, command)

    def _exec(self, payload: bytes) -> None:
        backend = self.backend
        request = gw.GatewayCommandExecRequest()
        try:
            decode(payload, request)
        except DECODE_ERRORS as exc:
            LOGGER.warning("%s: command/exec payload is not a GatewayCommandExecRequest: %s",
                           backend.name, exc)  # fmt: skip
            return
        control = backend.control
        allowlist = control.commands if control is not None else {}
        with self._lock:
            busy = self._queued >= EXEC_QUEUE_MAX
            if not busy:
                self._queued += 1
        if busy:
            reply = gw.GatewayCommandExecResponse(
                gateway_id=backend.gateway_id or "", exec_id=request.exec_id,
                error=f"busy: {EXEC_QUEUE_MAX} commands already waiting",
            )  # fmt: skip
            LOGGER.warning("exec %d: refused: busy", request.exec_id)
            self._reply(reply)
            return
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"{backend.name}-exec")
        self._executor.submit(self._run, request, dict(allowlist))

    def _run(self, request: gw.GatewayCommandExecRequest, allowlist: dict[str, Any]) -> None:
        try:
            self._reply(execute(request, allowlist, self.backend.gateway_id or ""))
        finally:
            with self._lock:
                self._queued -= 1

    def _reply(self, reply: gw.GatewayCommandExecResponse) -> None:
        payload = encode(reply, self.backend.mqtt.marshaler)
        self.backend._events.put(("publish", "event/exec", payload))

    def close(self) -> None:
        """Stop taking commands; a running one finishes (within its timeout) unanswered."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
