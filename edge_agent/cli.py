"""``edge-agent`` command line: one sub-command per module, registered from the table below."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Sequence

from drivers.errors import DriverError
from edge_agent import __version__
from edge_agent.errors import AgentError
from packet_forwarder.errors import ForwardError

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
    "edge_agent.schemas.cli",
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
    "schemas": "edge_agent.schemas.cli",
}

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

#: failures a command can meet in normal use (bad file, missing device, unreachable socket):
#: one line on stderr and EXIT_USAGE when the command itself did not catch them
EXPECTED_ERRORS: tuple[type[BaseException], ...] = (AgentError, DriverError, ForwardError, OSError)
DEBUG_HELP = "on an error, also print the traceback"


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
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    version = sub.add_parser("version", help="print the version and exit")
    version.set_defaults(func=lambda _args: print(f"edge-agent {__version__}") or EXIT_OK)
    for name in _modules_for(argv):
        importlib.import_module(name).register(sub)
    _accept_debug_everywhere(sub)
    return parser


def _accept_debug_everywhere(sub: argparse._SubParsersAction) -> None:
    """``edge-agent COMMAND ... --debug`` works too (SUPPRESS: never resets the global flag)."""
    for parser in set(sub.choices.values()):
        if "--debug" not in parser._option_string_actions:
            parser.add_argument(
                "--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP
            )
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                _accept_debug_everywhere(action)


def _report(prog: str, exc: BaseException, debug: bool, expected: bool) -> int:
    """One line on stderr for an error no command caught (the traceback too with ``--debug``)."""
    if debug:
        traceback.print_exception(exc)
    if expected:
        print(f"{prog}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(
        f"{prog}: unexpected error: {type(exc).__name__}: {exc} "
        "(run it again with --debug for the traceback, and report it)",
        file=sys.stderr,
    )
    return EXIT_FAILED


def _mute_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's final flush does not fail again."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (tests capture stdout)
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``edge-agent`` console script.

    Exit status: what the command returns (see its docs); 2 for an expected failure it did not
    catch (one line on stderr), 1 for an unexpected one (one line and a pointer to ``--debug``),
    130 on Ctrl-C. Never a traceback unless ``--debug``.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    prog, debug = "edge-agent", "--debug" in argv
    try:
        parser = build_parser(argv)
        args = parser.parse_args(argv)
        debug = args.debug
        if not getattr(args, "func", None):
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        prog = f"edge-agent {args.command}"
        return int(args.func(args) or EXIT_OK)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError as exc:  # the reader of stdout went away (edge-agent ... | head)
        _mute_stdout()
        if debug:
            traceback.print_exception(exc)
        return EXIT_FAILED
    except EXPECTED_ERRORS as exc:
        return _report(prog, exc, debug, expected=True)
    except Exception as exc:
        return _report(prog, exc, debug, expected=False)


if __name__ == "__main__":
    sys.exit(main())
