"""The command line imports only what the command it runs needs (issue 15: start-up cost)."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

import pytest

from edge_agent.cli import COMMAND_MODULES, COMMANDS, build_parser


@pytest.mark.parametrize("module", COMMAND_MODULES)
def test_the_commands_table_names_what_each_module_registers(module: str) -> None:
    sub = argparse.ArgumentParser().add_subparsers()
    importlib.import_module(module).register(sub)
    assert sorted(sub.choices) == sorted(c for c, m in COMMANDS.items() if m == module)


def imported_after(argv: list[str]) -> set[str]:
    code = (
        "import sys\nfrom edge_agent import cli\n"
        f"try:\n    cli.main({argv!r})\nexcept SystemExit:\n    pass\n"
        "print(' '.join(m for m in sys.modules if m.startswith('edge_agent.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.strip().splitlines()[-1].split())  # edge_agent.cli at least


def test_version_imports_no_command_module() -> None:
    loaded = imported_after(["--version"])
    assert not loaded & set(COMMAND_MODULES)
    assert "edge_agent.config" not in loaded


def test_a_command_imports_only_its_own_module() -> None:
    loaded = imported_after(["status", "--help"])
    assert loaded & set(COMMAND_MODULES) == {"edge_agent.cmd_status"}


def test_help_without_a_command_lists_every_command() -> None:
    choices = build_parser([]).parse_known_args([])[0]
    assert choices.command is None
    helptext = build_parser([]).format_help()
    for command in COMMANDS:
        assert command in helptext
