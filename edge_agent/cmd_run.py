"""``edge-agent run -c FILE``: the daemon in the foreground."""

from __future__ import annotations

import argparse
import sys

from edge_agent import logs
from edge_agent.errors import ConfigError

DEFAULT_CONFIG = "/etc/edge-agent/config.toml"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``run`` sub-command."""
    parser = sub.add_parser("run", help="run the gateway daemon in the foreground")
    parser.add_argument("-c", "--config", default=DEFAULT_CONFIG, help="TOML configuration file")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load the configuration, then run the service until stopped (exit 2 on a config error)."""
    from edge_agent.config import load_config

    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        print(f"edge-agent: configuration error: {exc}", file=sys.stderr)
        return 2
    logs.configure(cfg.log.level)
    from edge_agent.file_modes import check_config_files

    try:
        check_config_files(args.config, cfg)  # owners and modes of the config and its keys
    except ConfigError as exc:
        print(f"edge-agent: {exc}", file=sys.stderr)
        return 2
    from edge_agent.service import AgentService

    return AgentService(cfg, config_path=args.config).run()
