"""``edge-agent config init`` and ``edge-agent config check FILE`` (registered by cmd_config).

init: answers from flags, the rest asked on a terminal; the result is validated by the daemon's
own loader before it is written (0640, or 0600 when it holds a password), and an existing file
is kept unless ``--force``. check: validates a file and prints the effective configuration
(defaults filled in, passwords masked) as TOML or ``--json``; exit 2 with one line otherwise.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from edge_agent.errors import ConfigError

DEFAULT_OUTPUT = "/etc/edge-agent/config.toml"
EXIT_USAGE = 2
_TLS_FLAGS = {"ca": "ca_cert", "cert": "tls_cert", "key": "tls_key"}
_TLS_FLAGS |= {"username": "username", "password": "password"}


class _ServerOption(argparse.Action):
    """``--chirpstack URL`` starts a server; ``--ca/--cert/--key/--username/--password``
    apply to the last one given before them."""

    def __call__(self, parser: Any, namespace: Any, value: Any, option: Any = None) -> None:
        servers = list(getattr(namespace, "chirpstack", None) or [])
        if self.dest == "chirpstack":
            servers.append({"server": value})
        elif not servers:
            parser.error(f"{option} needs a --chirpstack URL before it")
        else:
            name = _TLS_FLAGS[self.dest]
            # the daemon runs elsewhere (systemd: /): a relative file name would not be found
            is_file = name in ("ca_cert", "tls_cert", "tls_key")
            servers[-1][name] = os.path.abspath(value) if is_file else value
        namespace.chirpstack = servers


def add_init(actions: Any) -> None:
    """The ``config init`` parser."""
    init = actions.add_parser(
        "init",
        help="write a valid, commented configuration from a few answers (asked on a terminal)",
        description="Write a configuration. Every answer is a flag; on a terminal the missing "
        "ones are asked. The file is validated before it is written; an existing one is kept "
        "unless --force.",
    )
    init.add_argument("--board", help="board preset, 'detect' (probe SPI/USB) or 'none'")
    init.add_argument("--region", help="region preset (default EU868)")
    init.add_argument("--url", help="concentrator URL (default: the board's bus, or sim://)")
    init.add_argument("--gateway-id", help="16 hex digits (default: the chip's EUI)")
    init.add_argument("--firmware-dir", help="AGC/ARB images (spi:// and usb:// only)")
    init.add_argument(
        "--chirpstack", action=_ServerOption, metavar="URL", help="ChirpStack MQTT server"
    )
    for flag, what in (
        ("ca", "CA certificate file"),
        ("cert", "client certificate file (mutual TLS)"),
        ("key", "client key file"),
        ("username", "MQTT username"),
        ("password", "MQTT password"),
    ):
        init.add_argument(
            f"--{flag}", action=_ServerOption, metavar="VALUE", help=f"{what} (last --chirpstack)"
        )
    init.add_argument("--udp", action="append", metavar="URL", help="Semtech UDP server")
    init.add_argument("--spool", help="spool file (default /var/lib/edge-agent/spool.db)")
    init.add_argument(
        "-o",
        "--output",
        default=DEFAULT_OUTPUT,
        help=f"file to write ('-': stdout; default {DEFAULT_OUTPUT})",
    )
    init.add_argument("--force", action="store_true", help="replace an existing file")
    init.add_argument(
        "--non-interactive", action="store_true", help="never ask (the default off a terminal)"
    )
    init.set_defaults(func=run_init)


def add_check(actions: Any) -> None:
    """The ``config check`` parser."""
    check = actions.add_parser(
        "check",
        help="validate a configuration file and print the effective configuration",
        description="Validate FILE and print every key with its effective value (defaults "
        "filled in, passwords masked). Exit 2 with one line on an invalid file.",
    )
    check.add_argument("file", nargs="?", help=f"configuration file (default {DEFAULT_OUTPUT})")
    check.add_argument("-c", "--config", help="the same as FILE")
    check.add_argument("--json", action="store_true", help="print JSON instead of TOML")
    check.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    """Validate the file and print the effective configuration; exit 2 with one line if bad."""
    from edge_agent.config import load_config
    from edge_agent.config_show import effective, to_toml

    path = args.file or args.config or DEFAULT_OUTPUT
    try:
        data = effective(load_config(path))
    except ConfigError as exc:
        print(f"edge-agent: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    names = ", ".join(f"{b['name']} ({b['type']})" for b in data["backend"])
    verdict = f"edge-agent: {path}: configuration OK; backends: {names or 'none'}"
    if args.json:  # the verdict on stderr: stdout is one JSON document
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        print(verdict, file=sys.stderr)
    else:  # the verdict as a TOML comment: stdout stays a loadable file
        sys.stdout.write(f"# {verdict}\n# effective configuration (defaults filled in)\n\n")
        sys.stdout.write(to_toml(data))
    return 0


def _answers(args: argparse.Namespace) -> tuple[Any, set[str]]:
    """The answers the flags give, and which of them were given."""
    from edge_agent.config_init import ChirpStackServer, InitAnswers

    given = {
        name
        for name in ("board", "region", "url", "gateway_id", "spool")
        if getattr(args, name) is not None
    }
    if args.chirpstack or args.udp:
        given.add("servers")
    answers = InitAnswers(
        region=(args.region or "EU868").upper(),
        board=None if args.board in (None, "none") else args.board,
        url=args.url,
        gateway_id=args.gateway_id,
        firmware_dir=args.firmware_dir,
        chirpstack=[ChirpStackServer(**s) for s in args.chirpstack or []],
        udp=list(args.udp or []),
    )
    if args.spool:
        answers.spool_path = os.path.abspath(args.spool)
    return answers, given


def _problems(answers: Any) -> list[str]:
    """What is wrong with scripted answers (each in the words of the prompts' checks)."""
    from edge_agent.config_init import Checks

    found = [Checks.region(answers.region)]
    if answers.board is not None:
        found.append(Checks.board(answers.board))
    found.append(Checks.gateway_id(answers.gateway_id or ""))
    found += [Checks.server(s.server) for s in answers.chirpstack]
    for url in answers.udp:  # Checks.server takes any scheme; --udp wants udp://
        wrong = f"--udp {url}: must be udp://HOST:PORT"
        found.append(Checks.server(url) if url.startswith("udp://") else wrong)
    if not answers.chirpstack and not answers.udp:
        found.append("give at least one network server: --chirpstack URL or --udp URL")
    if answers.board is None and answers.url is None:
        found.append("give --board (a preset, detect or none) or --url")
    found.append(Checks.spool(answers.spool_path))
    return [p for p in found if p]


def _detect_board(answers: Any) -> str | None:
    """``--board detect``: the first concentrator that answers; the problem otherwise."""
    from edge_agent.config_init import detect, detect_report

    results = detect()
    for line in detect_report(results):
        sys.stderr.write(line)
    found = [d for d in results if d.found]
    if not found:
        return "--board detect: no concentrator answered; give --board NAME"
    answers.board, answers.url = found[0].board, answers.url or found[0].url
    return None


def run_init(args: argparse.Namespace) -> int:
    """Gather the answers, render, validate with the loader, write (0640/0600)."""
    from edge_agent.config import parse_config
    from edge_agent.config_init import Prompter, interactive, render

    out = args.output
    if out != "-" and os.path.exists(out) and not args.force:
        print(f"edge-agent config: {out} exists; add --force to replace it", file=sys.stderr)
        return EXIT_USAGE
    answers, given = _answers(args)
    if answers.board == "detect" and (problem := _detect_board(answers)):
        print(f"edge-agent config: {problem}", file=sys.stderr)
        return EXIT_USAGE
    if not args.non_interactive and sys.stdin.isatty():
        prompt = Prompter(read=input, write=sys.stderr.write, secret=getpass.getpass)
        answers = interactive(answers, given, prompt)
    problems = _problems(answers)
    if problems:
        print(f"edge-agent config: {problems[0]}", file=sys.stderr)
        return EXIT_USAGE
    text = render(answers)
    try:
        parse_config(text, "<config init>")
    except ConfigError as exc:  # the answers passed their checks but not together
        print(f"edge-agent config: the answers do not make a valid config: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if out == "-":
        sys.stdout.write(text)
        return 0
    try:
        _write(Path(out), text, 0o600 if answers.has_secret else 0o640)
    except OSError as exc:
        print(f"edge-agent config: cannot write {out}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"edge-agent config: wrote {out}; check it with: edge-agent config check {out}")
    return 0


def _write(path: Path, text: str, mode: int) -> None:
    """Write ``text`` to ``path`` with ``mode`` from the start (never readable by others)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
