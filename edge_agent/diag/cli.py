"""``edge-agent diag [CHECK…] [-c FILE] [--json] [--seconds N]``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from edge_agent.diag.core import DEFAULT_CONFIG, EXIT_USAGE


def register(sub: Any) -> None:
    """Add the ``diag`` sub-command."""
    import edge_agent.diag as diag

    names = ", ".join(
        f"{n}{'' if s.default else ' (on request)'}" for n, s in diag.REGISTRY.items()
    )
    parser = sub.add_parser(
        "diag",
        help="check the gateway: config, devices, concentrator, broker, spool, clock",
        description=f"Run the technician's checks. Checks: {names}. "
        "Exit 0 when nothing fails, 1 when a check fails, 2 on usage errors.",
    )
    parser.add_argument("checks", nargs="*", metavar="CHECK", help="checks to run (default: all)")
    parser.add_argument("-c", "--config", default=DEFAULT_CONFIG, help="config file")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="duration of the receive test (rx)"
    )
    parser.add_argument("--timeout", type=float, default=5.0, help="network timeout per step")
    parser.add_argument(
        "--lang",
        choices=("en", "fr"),
        default="en",
        help="language of the details and hints (default en; fr: français)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the checks and print the report."""
    import edge_agent.diag as diag
    from edge_agent.diag.core import unknown_checks, write_json, write_text
    from edge_agent.diag.i18n import localise, summary_line

    unknown = unknown_checks(args.checks)
    if unknown:
        print(
            f"edge-agent diag: unknown check {', '.join(unknown)}; "
            f"known: {', '.join(diag.REGISTRY)}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.seconds <= 0:
        print("edge-agent diag: --seconds must be positive", file=sys.stderr)
        return EXIT_USAGE
    ctx = diag.DiagContext(config_path=args.config, rx_seconds=args.seconds, timeout_s=args.timeout)
    results = [localise(r, args.lang) for r in diag.run_checks(ctx, args.checks)]
    if args.json:
        write_json(results, sys.stdout)
    else:
        write_text(results, sys.stdout, lambda rs: summary_line(rs, args.lang))
    return diag.exit_code(results)
