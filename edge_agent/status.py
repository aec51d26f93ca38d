"""The running daemon's status socket: one JSON object per connection on a Unix stream socket.

Protocol (line-based, UTF-8): the client sends one request line, ``GET <path>\\n`` (path ``/``
for the whole status, or a top-level key such as ``/radio``), and the server answers with one
JSON object followed by ``\\n`` and closes the connection. Errors are answered as
``{"error": "..."}``. The socket is created mode 0660 in the daemon's RuntimeDirectory.

Clients are served concurrently, at most ``MAX_CLIENTS`` at once, each within a deadline of
``CLIENT_DEADLINE_S`` for reading its request and writing the reply: a slow or silent client
delays no other. A client past the limit is answered ``{"error": "busy: ..."}`` at once. The
socket path is replaced only when it is a stale socket: a regular file, a directory or a symlink
there is an error naming the path, and a socket another process still listens on is left alone.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edge_agent.errors import StatusBusy, StatusError

LOGGER = logging.getLogger(__name__)

MAX_REQUEST = 1024
MAX_REPLY = 4 * 1024 * 1024
#: connections served at once; one more is answered "busy" and closed
MAX_CLIENTS = 8
#: the whole exchange with one client (request read + reply written) must fit in this
CLIENT_DEADLINE_S = 2.0


def select_path(document: dict[str, Any], path: str) -> dict[str, Any]:
    """The part of ``document`` named by ``path`` (``/`` = all, ``/radio/rx`` = nested keys)."""
    node: Any = document
    for part in [p for p in path.strip().split("/") if p]:
        if not isinstance(node, dict) or part not in node:
            raise KeyError(path)
        node = node[part]
    return node if isinstance(node, dict) else {"value": node}


def _left(deadline: float) -> float:
    """Seconds until ``deadline``; raises TimeoutError once it has passed."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("status client deadline passed")
    return left


def remove_stale_socket(path: Path) -> None:
    """Remove ``path`` when it is a socket nobody listens on; nothing there is fine too.

    Raises ``StatusError`` for anything else: a regular file, directory or symlink (never
    deleted) or a socket a live process accepts connections on (never stolen).
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(st.st_mode):
        kind = "a symlink" if stat.S_ISLNK(st.st_mode) else "not a socket"
        raise StatusError(
            f"[status] socket {path} exists and is {kind}: refusing to replace it "
            "(remove it or choose another path)"
        )
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    try:
        probe.settimeout(0.5)
        probe.connect(str(path))
    except (ConnectionRefusedError, FileNotFoundError):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # stale: its daemon is gone
        return
    except OSError as exc:
        raise StatusError(
            f"[status] socket {path}: cannot tell whether it is in use: {exc}"
        ) from exc
    finally:
        probe.close()
    raise StatusError(f"[status] socket {path} is in use by another process: not replacing it")


class StatusServer:
    """Serves ``provider()`` as JSON on a Unix stream socket from a background thread."""

    def __init__(
        self,
        path: str | Path,
        provider: Callable[[], dict[str, Any]],
        *,
        max_clients: int = MAX_CLIENTS,
        deadline_s: float = CLIENT_DEADLINE_S,
    ) -> None:
        self.path = Path(path)
        self._provider = provider
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._slots = threading.BoundedSemaphore(max_clients)
        self._provider_lock = threading.Lock()
        self.deadline_s = deadline_s
        #: connections answered "busy" because ``max_clients`` were being served
        self.busy_refused = 0

    def start(self) -> None:
        """Bind the socket (replacing a stale one only) and start serving.

        Raises ``StatusError`` naming the path when something other than a stale socket is
        there, ``OSError`` when the socket cannot be bound.
        """
        self.path.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
        remove_stale_socket(self.path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        old_umask = os.umask(0o117)
        try:
            sock.bind(str(self.path))
        except OSError:
            sock.close()
            raise
        finally:
            os.umask(old_umask)
        os.chmod(self.path, 0o660)  # whatever umask the bind ran under
        sock.listen(16)
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
        """Accept at most one connection and hand it to a client thread; whether one came."""
        assert self._sock is not None
        try:
            conn, _ = self._sock.accept()
        except (TimeoutError, OSError):
            return False
        if not self._slots.acquire(blocking=False):
            self.busy_refused += 1
            with conn:
                conn.setblocking(False)
                with contextlib.suppress(OSError):
                    conn.send(b'{"error": "busy: too many status clients"}\n')
            return True
        worker = threading.Thread(target=self._serve, args=(conn,), name="status-client")
        worker.daemon = True
        worker.start()
        return True

    def _serve(self, conn: socket.socket) -> None:
        """One client, within ``CLIENT_DEADLINE_S`` (client thread)."""
        try:
            with conn:
                self._answer(conn, time.monotonic() + self.deadline_s)
        except OSError as exc:  # includes the deadline (TimeoutError)
            LOGGER.debug("status client dropped: %s", exc)
        finally:
            self._slots.release()

    def _answer(self, conn: socket.socket, deadline: float) -> None:
        request = b""
        while b"\n" not in request and len(request) < MAX_REQUEST:
            conn.settimeout(_left(deadline))
            chunk = conn.recv(256)
            if not chunk:
                break
            request += chunk
        words = request.decode("utf-8", "replace").split()
        if len(words) != 2 or words[0] != "GET":
            reply: dict[str, Any] = {"error": "expected 'GET <path>'"}
        else:
            try:
                with self._provider_lock:  # the provider was written for one caller at a time
                    document = self._provider()
                reply = select_path(document, words[1])
            except KeyError:
                reply = {"error": f"no such status path {words[1]!r}"}
            except Exception as exc:  # the provider must never take the socket down
                LOGGER.exception("status provider failed")
                reply = {"error": f"status provider failed: {exc}"}
        conn.settimeout(_left(deadline))  # sendall: the total time (Python >= 3.5)
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
        """One request; raises ``StatusError`` when nothing answers or the reply is not JSON,
        ``StatusBusy`` when something listens on the socket but does not answer in ``timeout``."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC) as sock:
                sock.settimeout(timeout)
                sock.connect(str(self.path))
                try:
                    sock.sendall(f"GET {path}\n".encode())
                except (BrokenPipeError, ConnectionResetError):
                    pass  # answered before asked (a "busy" line) and closed: read that answer
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
        except TimeoutError:
            raise StatusBusy(
                f"a process holds {self.path} but did not answer within {timeout:g} s (busy)"
            ) from None
        except OSError as exc:
            raise StatusError(f"status socket {self.path}: {exc}") from exc
        try:
            document = json.loads(reply)
        except ValueError as exc:
            raise StatusError(f"status socket {self.path} answered something not JSON") from exc
        if not isinstance(document, dict):
            raise StatusError(f"status socket {self.path} answered a non-object")
        if "error" in document and len(document) == 1:
            if str(document["error"]).startswith("busy:"):
                raise StatusBusy(f"daemon: {document['error']}")
            raise StatusError(f"daemon: {document['error']}")
        return document

    def available(self, timeout: float = 0.5) -> bool:
        """True when a daemon answers on the socket."""
        try:
            self.query("/", timeout)
        except StatusError:
            return False
        return True
