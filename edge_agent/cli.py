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
#: the sub-commands each module registers: a run imports only the module of its command
#: (``edge-agent --version`` and ``edge-agent run`` skip the others' imports; issue 15)
COMMANDS: dict[str, str] = {
    "run": "edge_agent.cmd_run",
    "spool": "edge_agent.cmd_spool",
    "firmware": "edge_agent.cmd_firmware",
    "config": "edge_agent.cmd_config",
    "diag": "edge_agent.diag.cli",
    "status": "edge_agent.cmd_status",
    "install-service": "edge_agent.cmd_service",
    "uninstall-service": "edge_agent.cmd_service",
}

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def _modules_for(argv: Sequence[str] | None) -> tuple[str, ...]:
    """The command modules ``argv`` needs: its command's, none for ``--version`` or ``version``
    alone, all of them otherwise (help, an unknown command: argparse lists every choice)."""
    if argv is None:
        return COMMAND_MODULES
    command = next((arg for arg in argv if not arg.startswith("-")), None)
    if command in COMMANDS:
        return (COMMANDS[command],)
    if command == "version" or (command is None and "--version" in argv):
        return ()
    return COMMAND_MODULES


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser: every sub-command, or only those ``argv`` needs when it is given."""
    parser = argparse.ArgumentParser(
        prog="edge-agent",
        description="LoRaWAN gateway agent for SX1302/SX1303 concentrators.",
    )
    parser.add_argument("--version", action="version", version=f"edge-agent {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    version = sub.add_parser("version", help="print the version and exit")
    version.set_defaults(func=lambda _args: print(f"edge-agent {__version__}") or EXIT_OK)
    for name in _modules_for(argv):
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``edge-agent`` console script."""
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
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
