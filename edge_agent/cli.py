"""``edge-agent`` command line: one sub-command per module, registered from the table below."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from edge_agent import __version__

#: sub-command modules; each has ``register(subparsers)`` that adds its parser(s) and sets
#: ``func(args) -> int`` as the handler. Imported at parse time only.
COMMAND_MODULES: tuple[str, ...] = (
    "edge_agent.cmd_run",
    "edge_agent.cmd_spool",
    "edge_agent.cmd_firmware",
    "edge_agent.cmd_config",
    "edge_agent.diag.cli",
    "edge_agent.cmd_status",
    "edge_agent.cmd_service",
)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="edge-agent",
        description="LoRaWAN gateway agent for SX1302/SX1303 concentrators.",
    )
    parser.add_argument("--version", action="version", version=f"edge-agent {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    version = sub.add_parser("version", help="print the version and exit")
    version.set_defaults(func=lambda _args: print(f"edge-agent {__version__}") or EXIT_OK)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``edge-agent`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.func(args) or EXIT_OK)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
