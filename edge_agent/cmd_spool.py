"""``edge-agent spool stats | export | purge``: look at, carry away or empty the on-disk spool.

They work while the daemon runs (SQLite WAL: readers never block the writer) and show the
*committed* view: uplinks in the daemon's memory tail (at most one ``commit_interval``) are not
in the file yet.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from edge_agent.backends.registry import UnknownBackendError, backend_class
from edge_agent.config import AgentConfig, load_config
from edge_agent.errors import AgentError, ConfigError
from edge_agent.spool_config import SpoolConfig
from edge_agent.store import db as spool_db
from edge_agent.store.db import RecordDecoder

DEFAULT_CONFIG = "/etc/edge-agent/config.toml"
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def record_decoders(cfg: AgentConfig) -> dict[str, RecordDecoder]:
    """``{backend name: decoder}``: each configured backend decodes its own spool rows."""
    decoders: dict[str, RecordDecoder] = {}
    for backend in cfg.backends:
        try:
            decoders[backend.name] = backend_class(backend.type).decode_record
        except UnknownBackendError as exc:  # its rows are exported undecoded (hex)
            print(f"edge-agent spool: {backend.name}: {exc}", file=sys.stderr)
    return decoders


def register(sub: Any) -> None:
    """Add ``spool`` and its sub-commands to the CLI."""
    parser = sub.add_parser("spool", help="inspect, export or purge the on-disk uplink spool")
    parser.set_defaults(func=lambda _args: parser.print_help(sys.stderr) or EXIT_USAGE)
    commands = parser.add_subparsers(dest="spool_command", metavar="SPOOL_COMMAND")

    def common(name: str, text: str) -> argparse.ArgumentParser:
        command = commands.add_parser(name, help=text, description=text)
        command.add_argument(
            "-c", "--config", default=DEFAULT_CONFIG, help=f"config file (default {DEFAULT_CONFIG})"
        )
        return command

    stats = common("stats", "pending uplinks, bytes, oldest age, dropped, committed writes")
    stats.add_argument("--json", action="store_true", help="print one JSON object")
    stats.set_defaults(func=_stats)
    export = common("export", "write every committed pending uplink as JSON lines")
    export.add_argument("-o", "--output", help="output file (default: standard output)")
    export.set_defaults(func=_export)
    purge = common("purge", "delete every committed pending uplink (needs --yes)")
    purge.add_argument("--yes", action="store_true", help="really delete them")
    purge.set_defaults(func=_purge)


def _run(args: argparse.Namespace, action: Any) -> int:
    try:
        cfg = load_config(args.config)
        args.decoders = record_decoders(cfg)
        return int(action(cfg.spool))
    except BrokenPipeError:
        raise  # stdout's reader went away: the CLI mutes it (not an error of the spool)
    except (AgentError, OSError) as exc:  # OSError: the --output file
        print(f"edge-agent spool: {exc}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, ConfigError) else EXIT_FAILED


def _stats(args: argparse.Namespace) -> int:
    def show(config: SpoolConfig) -> int:
        stats = spool_db.file_stats(config.path, max_bytes=config.max_bytes)
        if args.json:
            print(json.dumps(stats, sort_keys=True))
            return EXIT_OK
        print(f"spool {stats['path']} (committed view)")
        print(f"  pending          {stats['pending']} uplinks, {stats['bytes']} bytes")
        print(f"  oldest age       {stats['oldest_age_s']:.1f} s")
        print(f"  file size        {stats['file_bytes']} bytes (with WAL)")
        for name in ("dropped", "purged", "delivered", "spooled", "committed_writes"):
            print(f"  {name:<16} {stats[name]}")
        print(f"  disk bytes       {stats['disk_bytes_written']} written")
        if stats["quarantined"] or stats["bad_rows"]:
            print(
                f"  set aside        {stats['quarantined']} rows in quarantine, "
                f"{stats['bad_rows']} more found (they cannot be uplinks; docs/spool.md)"
            )
        for backend, numbers in stats["backends"].items():
            print(
                f"  backend {backend}: {numbers['pending']} pending, {numbers['bytes']} bytes, "
                f"oldest {numbers['oldest_age_s']:.1f} s, {numbers['dropped']} dropped"
            )
        return EXIT_OK

    return _run(args, show)


def _export(args: argparse.Namespace) -> int:
    def export(config: SpoolConfig) -> int:
        count = 0
        out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout  # noqa: SIM115
        try:
            records = spool_db.export_records(
                config.path, args.decoders, max_bytes=config.max_bytes
            )
            for record in records:
                out.write(json.dumps(record, sort_keys=True) + "\n")
                count += 1
        finally:
            if out is not sys.stdout:
                out.close()
        print(f"exported {count} uplinks", file=sys.stderr)
        return EXIT_OK

    return _run(args, export)


def _purge(args: argparse.Namespace) -> int:
    if not args.yes:
        print(
            "edge-agent spool purge deletes every pending uplink for good; add --yes to confirm",
            file=sys.stderr,
        )
        return EXIT_USAGE

    def purge(config: SpoolConfig) -> int:
        count = spool_db.purge(config.path)
        print(f"purged {count} uplinks from {config.path}")
        return EXIT_OK

    return _run(args, purge)
