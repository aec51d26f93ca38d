"""The running daemon's status socket: one JSON object per connection on a Unix stream socket.

Protocol (line-based, UTF-8): the client sends one request line, ``GET <path>\\n`` (path ``/``
for the whole status, or a top-level key such as ``/radio``), and the server answers with one
JSON object followed by ``\\n`` and closes the connection. Errors are answered as
``{"error": "..."}``. The socket is created mode 0660 in the daemon's RuntimeDirectory.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edge_agent.errors import StatusError

LOGGER = logging.getLogger(__name__)

MAX_REQUEST = 1024
MAX_REPLY = 4 * 1024 * 1024


def select_path(document: dict[str, Any], path: str) -> dict[str, Any]:
    """The part of ``document`` named by ``path`` (``/`` = all, ``/radio/rx`` = nested keys)."""
    node: Any = document
    for part in [p for p in path.strip().split("/") if p]:
        if not isinstance(node, dict) or part not in node:
            raise KeyError(path)
        node = node[part]
    return node if isinstance(node, dict) else {"value": node}


class StatusServer:
    """Serves ``provider()`` as JSON on a Unix stream socket from a background thread."""

    def __init__(self, path: str | Path, provider: Callable[[], dict[str, Any]]) -> None:
        self.path = Path(path)
        self._provider = provider
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def start(self) -> None:
        """Bind the socket (replacing a stale one) and start serving."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        old_umask = os.umask(0o117)
        try:
            sock.bind(str(self.path))
        finally:
            os.umask(old_umask)
        sock.listen(8)
        sock.settimeout(0.2)
        self._sock = sock
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="status-socket", daemon=True)
        self._thread.start()
        LOGGER.info("status socket listening on %s", self.path)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll_once()

    def poll_once(self) -> bool:
        """Accept and answer at most one connection; returns whether one was served."""
        assert self._sock is not None
        try:
            conn, _ = self._sock.accept()
        except (TimeoutError, OSError):
            return False
        with conn:
            conn.settimeout(2.0)
            try:
                self._answer(conn)
            except OSError as exc:
                LOGGER.debug("status client went away: %s", exc)
        return True

    def _answer(self, conn: socket.socket) -> None:
        request = b""
        while b"\n" not in request and len(request) < MAX_REQUEST:
            chunk = conn.recv(256)
            if not chunk:
                break
            request += chunk
        words = request.decode("utf-8", "replace").split()
        if len(words) != 2 or words[0] != "GET":
            reply: dict[str, Any] = {"error": "expected 'GET <path>'"}
        else:
            try:
                reply = select_path(self._provider(), words[1])
            except KeyError:
                reply = {"error": f"no such status path {words[1]!r}"}
            except Exception as exc:  # the provider must never take the socket down
                LOGGER.exception("status provider failed")
                reply = {"error": f"status provider failed: {exc}"}
        conn.sendall(json.dumps(reply, default=str).encode() + b"\n")

    def stop(self) -> None:
        """Stop serving and remove the socket file. Idempotent."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    def __enter__(self) -> StatusServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class StatusClient:
    """Asks a running daemon for its status over the socket at ``path``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def query(self, path: str = "/", timeout: float = 2.0) -> dict[str, Any]:
        """One request; raises ``StatusError`` when nothing answers or the reply is not JSON."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC) as sock:
                sock.settimeout(timeout)
                sock.connect(str(self.path))
                sock.sendall(f"GET {path}\n".encode())
                reply = b""
                while not reply.endswith(b"\n"):
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    reply += chunk
                    if len(reply) > MAX_REPLY:
                        raise StatusError(f"status reply from {self.path} is too large")
        except FileNotFoundError:
            raise StatusError(f"no daemon is running: {self.path} does not exist") from None
        except ConnectionRefusedError:
            raise StatusError(f"no daemon answers on {self.path} (stale socket)") from None
        except PermissionError as exc:
            raise StatusError(f"not allowed to open {self.path}: {exc.strerror}") from exc
        except OSError as exc:
            raise StatusError(f"status socket {self.path}: {exc}") from exc
        try:
            document = json.loads(reply)
        except ValueError as exc:
            raise StatusError(f"status socket {self.path} answered something not JSON") from exc
        if not isinstance(document, dict):
            raise StatusError(f"status socket {self.path} answered a non-object")
        if "error" in document and len(document) == 1:
            raise StatusError(f"daemon: {document['error']}")
        return document

    def available(self, timeout: float = 0.5) -> bool:
        """True when a daemon answers on the socket."""
        try:
            self.query("/", timeout)
        except StatusError:
            return False
        return True
