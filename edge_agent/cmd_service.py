"""``edge-agent install-service`` / ``uninstall-service``: the systemd unit, user, dirs, config.

Every step is an ``Action`` that prints what it does; ``--dry-run`` prints them all and changes
nothing. ``--root DIR`` installs below DIR (for packaging and tests) and then never calls
``systemctl``.

The config is written ``root:edge-agent 0640`` (and its directory ``0750``) so the service user
reads it and nobody else does. Below ``--root`` the group id is the one ``systemd-sysusers
--root`` wrote into ``ROOT/etc/group``; when that group does not exist there (no
systemd-sysusers) or the installer is not root, the config stays ``root:root`` (or the
installer's) and a warning says which ``chown`` to run on the target. ``--prefix`` must be an
absolute path of plain characters: it is written into the unit's ``ExecStart=`` line, where a
newline, a space, a quote or ``%`` would change what systemd runs.
"""

from __future__ import annotations

import argparse
import functools
import grp
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packet_forwarder.regions import region_names, region_preset

UNIT_NAME = "edge-agent.service"
USER = "edge-agent"
PACKAGED_EXEC = "/opt/edge-agent/bin/edge-agent"
#: what ``--prefix`` may hold: no whitespace, control character, quote, ``%``, ``$`` or ``\``
PREFIX_PATTERN = re.compile(r"/[A-Za-z0-9._+@:,=/-]*")
MAX_PREFIX_LENGTH = 1024


class PrefixError(ValueError):
    """``--prefix`` is not an absolute path that can go into the unit's ExecStart= line."""


def check_prefix(prefix: str) -> str:
    """``prefix`` without a trailing ``/``, or ``PrefixError`` saying what is wrong with it."""
    if not prefix.startswith("/"):
        raise PrefixError(f"--prefix must be an absolute path, got {prefix!r}")
    if len(prefix) > MAX_PREFIX_LENGTH:
        raise PrefixError(f"--prefix must be at most {MAX_PREFIX_LENGTH} characters")
    if not PREFIX_PATTERN.fullmatch(prefix):
        raise PrefixError(
            f"--prefix may hold only letters, digits and . _ + @ : , = / - (it goes into the "
            f"unit's ExecStart= line), got {prefix!r}"
        )
    return prefix.rstrip("/") or "/"


@dataclass(frozen=True)
class Action:
    """One step: what it does, in words, and the callable that does it."""

    description: str
    do: Callable[[], None]


def systemd_source_dir() -> Path:
    """Where the unit and sysusers files ship: package data when installed, else the checkout's."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "systemd", here.parent / "systemd"):
        if (candidate / UNIT_NAME).exists():
            return candidate
    raise FileNotFoundError(f"{UNIT_NAME} is not shipped next to {here}")


def unit_text(prefix: str) -> str:
    """The unit with ExecStart pointing at ``<prefix>/bin/edge-agent``."""
    text = (systemd_source_dir() / UNIT_NAME).read_text()
    return text.replace(PACKAGED_EXEC, f"{check_prefix(prefix).rstrip('/')}/bin/edge-agent")


def starter_config(region: str) -> str:
    """A starter ``config.toml`` for ``region`` (see docs/operator-guide.md for every key)."""
    return f"""# edge-agent configuration, written by install-service --region {region}.
# Every key is described in docs/operator-guide.md. Check it with: edge-agent diag config

[gateway]
# id = "0016c001ff1e0000"      # default: the concentrator's EUI

[concentrator]
url = "spi:///dev/spidev0.0"    # Corecell USB: "usb:///dev/ttyACM0"; no hardware: "sim://"
region = "{region}"
firmware_dir = "/var/lib/edge-agent/firmware"

[mqtt]
server = "tcp://127.0.0.1:1883" # TLS: "mqtts://broker.example.net:8883"
# topic_prefix = "{region_preset(region).topic_prefix}"  # the region's ChirpStack default
# username = "gw-0016c001ff1e0000"
# password = "..."
# ca_cert = "/etc/edge-agent/ca.crt"
# tls_cert = "/etc/edge-agent/gateway.crt"
# tls_key = "/etc/edge-agent/gateway.key"

[spool]
path = "/var/lib/edge-agent/spool.db"

[status]
socket = "/run/edge-agent/status.sock"

[log]
level = "INFO"
"""


def _run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True)


def _write(path: Path, text: str, mode: int) -> Callable[[], None]:
    def do() -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(mode)

    return do


def service_gid(root: Path) -> int | None:
    """The id of group ``edge-agent``: the system's, or below ``root`` the one in its
    ``etc/group`` (which ``systemd-sysusers --root`` writes); None when it does not exist."""
    if root == Path("/"):
        try:
            return grp.getgrnam(USER).gr_gid
        except KeyError:
            return None
    try:
        lines = (root / "etc/group").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.split(":")
        if len(fields) >= 3 and fields[0] == USER and fields[2].isdigit():
            return int(fields[2])
    return None


def _chown_group(path: Path, root: Path) -> None:
    """root:edge-agent, so the service user reads its config; a warning when it cannot be."""
    target = Path("/") / path.relative_to(root)
    gid = service_gid(root)
    if gid is None:
        where = "on this system" if root == Path("/") else f"in {root / 'etc/group'}"
        print(
            f"warning: group {USER} does not exist {where}; {path} is not readable by the "
            f"service user: once the group exists run 'chown root:{USER} {target}'",
            file=sys.stderr,
        )
        return
    if os.geteuid() != 0:
        print(
            f"warning: not root: {path} keeps its owner; run 'chown root:{USER} {target}' "
            "as root (the service user must read it)",
            file=sys.stderr,
        )
        return
    os.chown(path, 0, gid)


def _warn_unreadable(path: Path, root: Path) -> None:
    """Warn when the service user could not read an existing config (e.g. left root:root)."""
    st = path.stat()
    gid = service_gid(root)
    if st.st_mode & 0o004 or (gid is not None and st.st_gid == gid and st.st_mode & 0o040):
        return
    target = Path("/") / path.relative_to(root)
    print(
        f"warning: {path} is not readable by group {USER} (the service user cannot read it): "
        f"run 'chown root:{USER} {target} && chmod 640 {target}'",
        file=sys.stderr,
    )


def install_actions(root: Path, prefix: str, region: str, systemctl: bool) -> list[Action]:
    """The steps of ``install-service``, in order."""
    src = systemd_source_dir()
    unit = root / "etc/systemd/system" / UNIT_NAME
    sysusers = root / "usr/lib/sysusers.d/edge-agent.conf"
    conf_dir = root / "etc/edge-agent"
    config = conf_dir / "config.toml"
    actions = [
        Action(
            f"write {unit} (ExecStart={prefix}/bin/edge-agent)",
            _write(unit, unit_text(prefix), 0o644),
        ),
        Action(
            f"write {sysusers}",
            _write(sysusers, (src / "edge-agent.sysusers").read_text(), 0o644),
        ),
    ]
    sysusers_cmd = ["systemd-sysusers", str(sysusers)]
    if root != Path("/"):
        sysusers_cmd = ["systemd-sysusers", f"--root={root}", str(sysusers)]
    if shutil.which("systemd-sysusers") and (systemctl or root != Path("/")):
        actions.append(
            Action(f"create user and groups: {' '.join(sysusers_cmd)}", lambda: _run(sysusers_cmd))
        )
    actions.append(
        Action(
            f"create {conf_dir} (0750)",
            lambda: conf_dir.mkdir(mode=0o750, parents=True, exist_ok=True),
        )
    )
    if config.exists():
        actions.append(Action(f"keep existing {config}", lambda: _warn_unreadable(config, root)))
    else:

        def write_config() -> None:
            _write(config, starter_config(region), 0o640)()
            _chown_group(config, root)
            _chown_group(conf_dir, root)

        actions.append(
            Action(f"write starter {config} for {region} (root:{USER} 0640)", write_config)
        )
    if systemctl:
        actions += [
            Action("systemctl daemon-reload", lambda: _run(["systemctl", "daemon-reload"])),
            Action(
                f"systemctl enable {UNIT_NAME}", lambda: _run(["systemctl", "enable", UNIT_NAME])
            ),
        ]
    return actions


def uninstall_actions(root: Path, purge: bool, systemctl: bool) -> list[Action]:
    """The steps of ``uninstall-service``, in order (config and state kept unless ``purge``)."""
    unit = root / "etc/systemd/system" / UNIT_NAME
    sysusers = root / "usr/lib/sysusers.d/edge-agent.conf"
    actions = []
    if systemctl:
        actions.append(
            Action(
                f"systemctl disable --now {UNIT_NAME}",
                lambda: _run(["systemctl", "disable", "--now", UNIT_NAME]),
            )
        )
    actions += [
        Action(f"remove {unit}", lambda: unit.unlink(missing_ok=True)),
        Action(f"remove {sysusers}", lambda: sysusers.unlink(missing_ok=True)),
    ]
    if systemctl:
        actions.append(
            Action("systemctl daemon-reload", lambda: _run(["systemctl", "daemon-reload"]))
        )
    if purge:
        for directory in (root / "etc/edge-agent", root / "var/lib/edge-agent"):
            actions.append(
                Action(
                    f"remove {directory} and everything in it",
                    functools.partial(shutil.rmtree, directory, ignore_errors=True),
                )
            )
    else:
        actions.append(
            Action(
                f"keep {root / 'etc/edge-agent'} and {root / 'var/lib/edge-agent'}", lambda: None
            )
        )
    actions.append(
        Action(f"keep user {USER} (sysusers never deletes users; 'userdel {USER}')", lambda: None)
    )
    return actions


def perform(actions: list[Action], dry_run: bool) -> int:
    """Print every action; run them unless ``dry_run``. 1 when a step fails."""
    for action in actions:
        print(("would " if dry_run else "") + action.description)
        if dry_run:
            continue
        try:
            action.do()
        except (OSError, subprocess.CalledProcessError) as exc:
            print(f"edge-agent: failed: {action.description}: {exc}", file=sys.stderr)
            return 1
    return 0


def register(sub: Any) -> None:
    """Add ``install-service`` and ``uninstall-service``."""
    install = sub.add_parser("install-service", help="install the systemd unit, user and config")
    install.add_argument(
        "--dry-run", action="store_true", help="print every action, change nothing"
    )
    install.add_argument("--root", default="/", help="install below this directory (no systemctl)")
    install.add_argument("--prefix", default=sys.prefix, help="the venv holding bin/edge-agent")
    install.add_argument("--region", default="EU868", choices=region_names(), help="starter config")
    install.set_defaults(func=run_install)
    remove = sub.add_parser("uninstall-service", help="remove the unit (config and state are kept)")
    remove.add_argument("--dry-run", action="store_true", help="print every action, change nothing")
    remove.add_argument("--root", default="/", help="uninstall below this directory")
    remove.add_argument("--purge", action="store_true", help="also delete config and state")
    remove.set_defaults(func=run_uninstall)


def _needs_root(args: argparse.Namespace) -> bool:
    return Path(args.root) == Path("/") and not args.dry_run and os.geteuid() != 0


def run_install(args: argparse.Namespace) -> int:
    """``install-service``."""
    if _needs_root(args):
        print("edge-agent install-service: run as root (sudo), or use --dry-run", file=sys.stderr)
        return 2
    root = Path(args.root)
    try:
        prefix = check_prefix(args.prefix)
    except PrefixError as exc:
        print(f"edge-agent install-service: {exc}", file=sys.stderr)
        return 2
    actions = install_actions(root, prefix, args.region, systemctl=root == Path("/"))
    code = perform(actions, args.dry_run)
    if code == 0 and not args.dry_run:
        print(f"edit {root / 'etc/edge-agent/config.toml'}, then: systemctl start edge-agent")
    return code


def run_uninstall(args: argparse.Namespace) -> int:
    """``uninstall-service``."""
    if _needs_root(args):
        print("edge-agent uninstall-service: run as root (sudo), or use --dry-run", file=sys.stderr)
        return 2
    root = Path(args.root)
    return perform(uninstall_actions(root, args.purge, systemctl=root == Path("/")), args.dry_run)
