"""Who may read and write the files the agent trusts: config, TLS key and CA, password file.

Checked when the daemon starts (``edge-agent run``), at every SIGHUP reload and by
``edge-agent diag config``. Each problem is refused or warned about (docs/operator-guide.md,
"Security"):

=====================================================  ======================================
the config file owned by another user than root, the    refused: its owner decides which broker
service user (``edge-agent``) or the user running it    the gateway talks to
the config, a key, a password file or the CA            refused: anyone may rewrite it
writable by others (``o+w``)
the config readable by others and holding a password    refused: the password is leaked
(``password``, ``tls_key_password``)
a TLS key or password file readable by others           refused: the key is leaked
a key, password file or CA owned by another user        refused
any of them writable by its group                       warned
=====================================================  ======================================

Refused at start: exit 2 with one line per file. Refused at reload: the running configuration
is kept (as for an invalid file). Warnings are logged at WARNING and shown by ``diag config``.
A config readable by others but holding no password, and a certificate or CA readable by others,
are fine: nothing in them is secret. A file that does not exist is not this module's business
(the loader reports it).
"""

from __future__ import annotations

import logging
import os
import pwd
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from edge_agent.errors import ConfigError

LOGGER = logging.getLogger(__name__)

SERVICE_USER = "edge-agent"


@dataclass(frozen=True)
class FileProblem:
    """One file whose owner or mode is wrong: refused or only warned about, with the fix."""

    path: str
    role: str
    detail: str
    hint: str
    refused: bool

    def __str__(self) -> str:
        return f"{self.role} {self.path}: {self.detail}"


def trusted_uids() -> set[int]:
    """root, the user running the agent and the service user (when it exists)."""
    uids = {0, os.geteuid()}
    try:
        uids.add(pwd.getpwnam(SERVICE_USER).pw_uid)
    except KeyError:
        pass
    return uids


def _owner_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _fix_owner(path: str) -> str:
    return f"chown root:{SERVICE_USER} {path}"


def file_problems(
    path: str, role: str, *, secret: bool, readable_secret: bool = False, trusted: set[int]
) -> list[FileProblem]:
    """The problems of one file. ``secret``: its content must not be readable by others (a key,
    a password file); ``readable_secret``: a config that holds a password."""
    try:
        st = os.stat(path)
    except OSError:
        return []
    mode = stat.S_IMODE(st.st_mode)
    problems = []
    private = "chmod 600" if st.st_uid != 0 else "chmod 640"
    chmod = f"chmod 640 {path}" if role == "config" else f"{private} {path}"
    if st.st_uid not in trusted:
        problems.append(
            FileProblem(
                path,
                role,
                f"owned by {_owner_name(st.st_uid)}, not root or {SERVICE_USER}: its owner "
                "controls the gateway",
                _fix_owner(path),
                refused=True,
            )
        )
    if mode & stat.S_IWOTH:
        problems.append(
            FileProblem(path, role, f"writable by everyone (mode {mode:04o})", chmod, refused=True)
        )
    if mode & stat.S_IROTH and (secret or readable_secret):
        what = "holds a password and " if readable_secret else ""
        problems.append(
            FileProblem(
                path,
                role,
                f"{what}is readable by everyone (mode {mode:04o})",
                f"{chmod} && {_fix_owner(path)}",
                refused=True,
            )
        )
    if mode & stat.S_IWGRP and not mode & stat.S_IWOTH:
        problems.append(
            FileProblem(
                path, role, f"writable by its group (mode {mode:04o})", chmod, refused=False
            )
        )
    return problems


def _mqtt_tables(cfg: Any) -> list[Any]:
    tables = [b.mqtt for b in getattr(cfg, "backends", ()) or () if getattr(b, "mqtt", None)]
    mqtt = getattr(cfg, "mqtt", None)
    if not tables and mqtt is not None:
        tables = [mqtt]
    return tables


def config_problems(
    path: str | os.PathLike[str], cfg: Any, trusted: set[int] | None = None
) -> list[FileProblem]:
    """Every problem of the config file at ``path`` and of the files its backends name."""
    trusted = trusted_uids() if trusted is None else trusted
    tables = _mqtt_tables(cfg)
    holds_password = any(
        getattr(m, "password", None) is not None or getattr(m, "tls_key_password", None)
        for m in tables
    )
    problems = file_problems(
        str(path), "config", secret=False, readable_secret=holds_password, trusted=trusted
    )
    seen = {str(path)}
    for mqtt in tables:
        for role, secret in (
            ("tls_key", True),
            ("tls_key_password_file", True),
            ("tls_cert", False),
            ("ca_cert", False),
        ):
            name = getattr(mqtt, role, None)
            if name and name not in seen:
                seen.add(name)
                problems += file_problems(name, role, secret=secret, trusted=trusted)
    return problems


def log_and_refuse(problems: Iterable[FileProblem], when: str) -> None:
    """Log every warning; raise one ``ConfigError`` listing the refused files, if any."""
    refused = []
    for problem in problems:
        if problem.refused:
            refused.append(f"{problem} (fix: {problem.hint})")
        else:
            LOGGER.warning("%s: %s (fix: %s)", when, problem, problem.hint)
    if refused:
        raise ConfigError("", "refused: " + "; ".join(refused))


def check_config_files(path: str | os.PathLike[str], cfg: Any, when: str = "start") -> None:
    """``config_problems`` logged, and a ``ConfigError`` when one is refused."""
    log_and_refuse(config_problems(path, cfg), when)
