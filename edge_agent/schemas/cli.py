"""``edge-agent schemas [--out DIR] [--check]``: write the published JSON Schemas, or check a copy.

Without ``--out`` the schemas go to ``docs/schemas`` under the current directory (the
repository's copy). ``--check`` writes nothing and exits 1 listing the files that differ from
what the code generates (CI runs it through the test suite).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

DEFAULT_OUT = "docs/schemas"


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"directory (default {DEFAULT_OUT})")
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if the copy there is stale"
    )


def register(sub: Any) -> None:
    """Add the ``schemas`` sub-command."""
    parser = sub.add_parser(
        "schemas",
        help="write the JSON Schemas of the config, status, diag, spool stats and scenario lines",
    )
    _add_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the schemas into ``args.out``, or check them with ``args.check``."""
    from edge_agent import schemas

    if args.check:
        wrong = schemas.stale(args.out)
        for name in wrong:
            print(f"edge-agent schemas: {args.out}/{name} differs from the code", file=sys.stderr)
        if wrong:
            print(f"run: edge-agent schemas --out {args.out}", file=sys.stderr)
        return 1 if wrong else 0
    for path in schemas.write(args.out):
        print(path)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m edge_agent.schemas``."""
    parser = argparse.ArgumentParser(prog="python -m edge_agent.schemas", description=__doc__)
    _add_arguments(parser)
    return run(parser.parse_args(argv))
