"""Start-up: ``edge-agent --version``, and ``edge-agent run`` on the simulator until READY=1.

    PATH="$PATH:/usr/sbin" PYTHONPATH=. .venv/bin/python bench/startup.py [--runs 3]

Both are fresh processes of the installed console script (``.venv/bin/edge-agent``), timed on
CLOCK_MONOTONIC from just before ``Popen`` to: the process's exit (``--version``); the
``READY=1`` datagram on the ``NOTIFY_SOCKET`` this script binds, as systemd would (``run``;
the daemon is then stopped with SIGTERM). One mosquitto on a free loopback port serves the
daemon. The last line printed is JSON with every run's seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from edge_agent.testing_broker import Broker

GW_ID = "0016c001ff10a235"


def console_script() -> str:
    """The ``edge-agent`` script next to this interpreter."""
    path = Path(sys.executable).with_name("edge-agent")
    if not path.exists():
        raise SystemExit(f"{path} is missing: run 'make .venv/.installed' first")
    return str(path)


def time_version() -> float:
    """Seconds for ``edge-agent --version`` to run and exit."""
    t0 = time.monotonic()
    subprocess.run([console_script(), "--version"], check=True, capture_output=True)
    return time.monotonic() - t0


def time_ready(tmp: Path, broker_url: str) -> float:
    """Seconds from spawning ``edge-agent run`` on sim:// to its READY=1 notification."""
    (tmp / "empty.jsonl").write_text("")
    conf = tmp / "config.toml"
    conf.write_text(
        f'[gateway]\nid = "{GW_ID}"\n[concentrator]\nurl = "sim://"\n'
        f'[concentrator.sim]\nscenario = "{tmp}/empty.jsonl"\n'
        f'[mqtt]\nserver = "{broker_url}"\n[spool]\npath = "{tmp}/spool.db"\n'
        f'[status]\nsocket = "{tmp}/status.sock"\n'
    )
    sock_path = tmp / "notify.sock"
    sock_path.unlink(missing_ok=True)
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(sock_path))
        sock.settimeout(30)
        env = dict(os.environ, NOTIFY_SOCKET=str(sock_path))
        t0 = time.monotonic()
        proc = subprocess.Popen([console_script(), "run", "-c", str(conf)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            while True:
                message = sock.recv(4096).decode()
                if "READY=1" in message.split("\n"):
                    elapsed = time.monotonic() - t0
                    break
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return elapsed


def main() -> int:
    """Time both, ``--runs`` times each, and print the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    version = [time_version() for _ in range(args.runs)]
    with tempfile.TemporaryDirectory(prefix="bench-start-") as tmp:
        broker = Broker(Path(tmp), extra_config="user root" if os.geteuid() == 0 else "")
        broker.start()
        try:
            ready = [time_ready(Path(tmp), broker.url) for _ in range(args.runs)]
        finally:
            broker.stop()
    print(f"edge-agent --version: {', '.join(f'{s:.3f}' for s in version)} s")
    print(f"edge-agent run -> READY=1: {', '.join(f'{s:.3f}' for s in ready)} s")
    print(json.dumps({"bench": "startup", "version_s": [round(s, 4) for s in version],
                      "ready_s": [round(s, 4) for s in ready]}))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
