"""The brokers a territory may run at the centre, each as a private process on free loopback
ports that a test can start, stop and restart on the same port: ``mosquitto`` (with persistence),
``nats-server``'s MQTT listener (JetStream in the broker's folder) and a private RabbitMQ node with
the ``rabbitmq_mqtt`` plugin. None of them touches a broker already running on this machine
(mosquitto on 1883, NATS on 4222, RabbitMQ on 5672): own ports, own folders, own node name.

All three keep their state in ``workdir`` and save it on SIGTERM, so ``restart()`` comes back with
the retained messages and the persistent sessions it had (what a central broker must do).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from edge_agent.testing_broker import Broker, free_port
from tests.agent.mqtt_helpers import enable_persistence

KINDS = ("mosquitto", "nats", "rabbitmq")

NATS_PATHS = ("/usr/sbin/nats-server", "/usr/bin/nats-server")
#: Debian's rabbitmq-server is a wrapper that su's to the rabbitmq user; this is the real script
RABBITMQ_SCRIPT_PATHS = ("/usr/lib/rabbitmq/bin/rabbitmq-server",)


def _binary(name: str, paths: tuple[str, ...]) -> str | None:
    return shutil.which(name) or next((p for p in paths if os.access(p, os.X_OK)), None)


def absent_reason(kind: str) -> str | None:
    """Why broker ``kind`` cannot run on this machine (None when it can)."""
    if kind == "nats" and _binary("nats-server", NATS_PATHS) is None:
        return "nats-server is not installed (apt-get install nats-server)"
    if (
        kind == "rabbitmq"
        and next((p for p in RABBITMQ_SCRIPT_PATHS if os.access(p, os.X_OK)), None) is None
    ):
        return "rabbitmq-server is not installed (apt-get install rabbitmq-server)"
    return None


class MosquittoBroker(Broker):
    """The reference broker, saving retained messages and sessions in its folder on SIGTERM."""

    kind = "mosquitto"

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        enable_persistence(self)


class _ProcessBroker:
    """A broker process in its own session (so stop() reaches the whole process group)."""

    kind = ""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    @property
    def log_path(self) -> Path:
        raise NotImplementedError

    def _argv(self) -> list[str]:
        raise NotImplementedError

    def _env(self) -> dict[str, str]:
        return os.environ.copy()

    def _log_tail(self) -> str:
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")[-2000:]

    def start(self, timeout: float = 60.0) -> _ProcessBroker:
        """Start the broker and wait until its MQTT listener accepts TCP connections."""
        if self.running:
            return self
        began = time.monotonic()
        with (self.workdir / "stderr.txt").open("ab") as stderr:  # the child keeps its own copy
            self.proc = subprocess.Popen(
                self._argv(),
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                env=self._env(),
                cwd=self.workdir,
                start_new_session=True,
            )
        while time.monotonic() - began < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.kind} exited with {self.proc.returncode}: {self._log_tail()}"
                )
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop(kill=True)
        raise RuntimeError(f"{self.kind} did not listen on port {self.port} within {timeout}s")

    def stop(self, *, kill: bool = False) -> None:
        """Stop the broker (SIGKILL with ``kill``, else SIGTERM: it saves its state). Idempotent."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL if kill else signal.SIGTERM)
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        except ProcessLookupError:
            proc.wait(timeout=10)
        if not kill:  # whatever of the group outlived the broker (the Erlang VM's helpers)
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def restart(self) -> None:
        """Stop (saving state), then start again on the same port."""
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return bool(self.proc and self.proc.poll() is None)


class NatsBroker(_ProcessBroker):
    """``nats-server`` with JetStream in ``workdir/js`` and its MQTT listener on ``port``.

    MQTT in NATS needs JetStream (sessions, retained messages and QoS 1 deliveries are streams)
    and a ``server_name``. The NATS client port is a free one too: never the system's 4222.
    """

    kind = "nats"

    def __init__(self, workdir: Path, port: int | None = None, *, extra_config: str = "") -> None:
        super().__init__(workdir, port)
        binary = _binary("nats-server", NATS_PATHS)
        if binary is None:
            raise RuntimeError(absent_reason("nats"))
        self.binary = binary
        self.client_port = free_port()
        self.conf_path = self.workdir / "nats.conf"
        self.conf_path.write_text(
            f'server_name: "edge_agent_test_{self.port}"\n'
            f'listen: "127.0.0.1:{self.client_port}"\n'
            f'log_file: "{self.workdir / "nats.log"}"\n'
            f'jetstream {{ store_dir: "{self.workdir / "js"}", max_memory_store: 64MB, '
            "max_file_store: 256MB }\n"
            f'mqtt {{ listen: "127.0.0.1:{self.port}" }}\n' + extra_config
        )

    @property
    def log_path(self) -> Path:
        return self.workdir / "nats.log"

    def _argv(self) -> list[str]:
        return [self.binary, "-c", str(self.conf_path)]


class RabbitBroker(_ProcessBroker):
    """A private RabbitMQ node (own node name, ports, Mnesia and log folders, Erlang cookie) with
    only the ``rabbitmq_mqtt`` plugin, its MQTT listener on ``port``; AMQP on another free port."""

    kind = "rabbitmq"

    def __init__(self, workdir: Path, port: int | None = None, *, extra_config: str = "") -> None:
        super().__init__(workdir, port)
        script = next((p for p in RABBITMQ_SCRIPT_PATHS if os.access(p, os.X_OK)), None)
        if script is None:
            raise RuntimeError(absent_reason("rabbitmq"))
        self.script = script
        self.amqp_port = free_port()
        self.dist_port = free_port()
        # a private epmd too: the node never registers with the system's, and stop() ends it
        self.epmd_port = free_port()
        self.nodename = f"edgeagent{self.port}@localhost"
        (self.workdir / "enabled_plugins").write_text("[rabbitmq_mqtt].\n")
        (self.workdir / "rabbitmq-env.conf").write_text("")  # not /etc/rabbitmq's node name
        self.conf_path = self.workdir / "rabbitmq.conf"
        self.conf_path.write_text(
            f"mqtt.listeners.tcp.1 = 127.0.0.1:{self.port}\n"
            "mqtt.allow_anonymous = true\n"
            "mqtt.vhost = /\n"
            "mqtt.exchange = amq.topic\n"
            "mqtt.retained_message_store = rabbit_mqtt_retained_msg_store_dets\n"
            "log.console = false\n" + extra_config
        )

    @property
    def log_path(self) -> Path:
        return self.workdir / "log" / f"{self.nodename}.log"

    def _argv(self) -> list[str]:
        return [self.script]

    def _env(self) -> dict[str, str]:
        env = os.environ.copy()
        env.update(
            HOME=str(self.workdir),  # the node's .erlang.cookie lives here, not in ~
            RABBITMQ_CONF_ENV_FILE=str(self.workdir / "rabbitmq-env.conf"),
            RABBITMQ_CONFIG_FILE=str(self.conf_path),
            RABBITMQ_ADVANCED_CONFIG_FILE=str(self.workdir / "advanced.config"),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(self.workdir / "enabled_plugins"),
            RABBITMQ_NODENAME=self.nodename,
            RABBITMQ_NODE_IP_ADDRESS="127.0.0.1",
            RABBITMQ_NODE_PORT=str(self.amqp_port),
            RABBITMQ_DIST_PORT=str(self.dist_port),
            RABBITMQ_MNESIA_BASE=str(self.workdir / "mnesia"),
            RABBITMQ_LOG_BASE=str(self.workdir / "log"),
            RABBITMQ_PID_FILE=str(self.workdir / "rabbitmq.pid"),
            RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}",
            ERL_EPMD_ADDRESS="127.0.0.1",
            ERL_EPMD_PORT=str(self.epmd_port),
        )
        return env

    def stop(self, *, kill: bool = False) -> None:
        """Stop the node, then the epmd it started (a daemon outside its process group)."""
        super().stop(kill=kill)
        epmd = shutil.which("epmd")
        if epmd:
            subprocess.run(
                [epmd, "-port", str(self.epmd_port), "-kill"],
                env=self._env(),
                capture_output=True,
                timeout=10,
            )


def make_broker(kind: str, workdir: Path) -> MosquittoBroker | NatsBroker | RabbitBroker:
    """A not yet started broker of ``kind`` with its state in ``workdir``."""
    if kind == "mosquitto":
        return MosquittoBroker(workdir)
    if kind == "nats":
        return NatsBroker(workdir)
    if kind == "rabbitmq":
        return RabbitBroker(workdir)
    raise ValueError(f"unknown broker kind {kind!r} (one of {', '.join(KINDS)})")
