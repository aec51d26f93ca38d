"""``edge-agent status [-c FILE] [--socket PATH] [--json] [--watch]``: ask the running daemon.

Exit 0 with the status, 1 while the radio is not running (``radio.state`` is not ``running``:
starting, restarting or down; the status is printed all the same), 3 when no daemon answers, 2
on usage errors.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, TextIO

from edge_agent.errors import StatusError

EXIT_RADIO_NOT_RUNNING = 1
EXIT_NO_DAEMON = 3
DEFAULT_CONFIG = "/etc/edge-agent/config.toml"
DEFAULT_SOCKET = "/run/edge-agent/status.sock"
CLEAR = "\x1b[H\x1b[2J"


def register(sub: Any) -> None:
    """Add the ``status`` sub-command."""
    parser = sub.add_parser("status", help="show the running daemon's status")
    parser.add_argument(
        "-c", "--config", default=DEFAULT_CONFIG, help="config file ([status] socket)"
    )
    parser.add_argument("--socket", help="status socket (overrides the config)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--watch", action="store_true", help="refresh in place, like top")
    parser.add_argument("--interval", type=float, default=2.0, help="--watch refresh period (s)")
    parser.set_defaults(func=run)


def socket_path(args: argparse.Namespace) -> str:
    """``--socket``, else ``[status] socket`` from the config, else the default."""
    if args.socket:
        return args.socket
    try:
        from edge_agent.config import load_config

        return str(load_config(args.config).status.socket)
    except Exception:  # no/invalid config: the default socket is still worth asking
        return DEFAULT_SOCKET


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    if isinstance(value, dict):
        return ", ".join(f"{k}={_value(v)}" for k, v in value.items()) or "-"
    if isinstance(value, list):
        return "; ".join(_value(v) for v in value) or "-"
    return "-" if value is None else str(value)


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    return (f"{days}d " if days else "") + time.strftime("%H:%M:%S", time.gmtime(rest))


def _block(body: dict[str, Any], out: TextIO, depth: int) -> None:
    pad = "  " * depth
    width = max(22 - 2 * depth, 8)
    for key, value in body.items():
        if isinstance(value, dict) and value:
            out.write(f"{pad}{key}\n")
            _block(value, out, depth + 1)
        else:
            out.write(f"{pad}{key:<{width}} {_value(value)}\n")


def render(document: dict[str, Any], out: TextIO) -> None:
    """Human-readable status: top-level facts first, then one indented block per section."""
    head = {k: v for k, v in document.items() if not isinstance(v, dict)}
    if "uptime_s" in head:
        head["uptime"] = _duration(float(head.pop("uptime_s")))
    for key, value in head.items():
        out.write(f"{key:<22} {_value(value)}\n")
    for section, body in document.items():
        if isinstance(body, dict):
            out.write(f"\n[{section}]\n")
            _block(body, out, 1)


def run(args: argparse.Namespace) -> int:
    """Print the status once, or refresh it until interrupted with ``--watch``."""
    from edge_agent.status import StatusClient

    if args.interval <= 0:
        print("edge-agent status: --interval must be positive", file=sys.stderr)
        return 2
    client = StatusClient(socket_path(args))
    while True:
        try:
            document = client.query("/", timeout=2.0)
        except StatusError as exc:
            print(f"edge-agent status: {exc}", file=sys.stderr)
            return EXIT_NO_DAEMON
        if args.watch and not args.json:
            sys.stdout.write(CLEAR)
            sys.stdout.write(f"edge-agent status — {time.strftime('%H:%M:%S')} (Ctrl-C quits)\n\n")
        if args.json:
            sys.stdout.write(json.dumps(document, indent=None if args.watch else 2) + "\n")
        else:
            render(document, sys.stdout)
        sys.stdout.flush()
        if not args.watch:
            radio = document.get("radio")
            state = radio.get("state") if isinstance(radio, dict) else None
            return 0 if state == "running" else EXIT_RADIO_NOT_RUNNING
        try:
            time.sleep(args.interval)
        except KeyboardInterrupt:
            return 0
