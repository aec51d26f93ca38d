"""Logging, configured in one place: one event per line on stderr, journald-friendly.

When ``JOURNAL_STREAM`` is set (systemd connected stderr to the journal), lines carry a syslog
priority prefix (``<6>``) and no timestamp, since journald adds its own. Raw bytes are logged only
at TRACE, below DEBUG. Every line is one event: newlines inside a message or a traceback become
`` | ``. Secrets registered with ``add_secret`` (the MQTT password) never reach the output.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

TRACE = 5
logging.addLevelName(TRACE, "TRACE")

_PRIORITY = {
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
    TRACE: 7,
}
REDACTED = "***"
_SECRETS: set[str] = set()
_SECRETS_LOCK = threading.Lock()


def add_secret(value: str | None) -> None:
    """Never print ``value`` (a password, a key passphrase): it is replaced by ``***``."""
    if value and len(value) >= 3:  # shorter values would mask ordinary words
        with _SECRETS_LOCK:
            _SECRETS.add(value)


def clear_secrets() -> None:
    """Forget every registered secret (tests, config reload)."""
    with _SECRETS_LOCK:
        _SECRETS.clear()


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ``***``."""
    with _SECRETS_LOCK:
        secrets = sorted(_SECRETS, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


class OneLineFormatter(logging.Formatter):
    """One event per line (newlines become `` | ``), secrets redacted."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return redact(text.rstrip("\n").replace("\r", "").replace("\n", " | "))


class JournalFormatter(OneLineFormatter):
    """Prefix each line with its syslog priority so journald files it at the right level."""

    def format(self, record: logging.LogRecord) -> str:
        priority = _PRIORITY.get(record.levelno, 6)
        return f"<{priority}>{super().format(record)}"


def level_number(level: str | int) -> int:
    """``"TRACE"``/``"DEBUG"``/… (any case) or a number, as a logging level number."""
    if isinstance(level, int):
        return level
    name = level.upper()
    if name == "TRACE":
        return TRACE
    number = logging.getLevelName(name)
    if not isinstance(number, int):
        raise ValueError(f"unknown log level {level!r}")
    return number


def make_formatter(environ: dict[str, str] | None = None) -> logging.Formatter:
    """The journal formatter under systemd (``JOURNAL_STREAM`` set), else timestamped lines."""
    env = os.environ if environ is None else environ
    if env.get("JOURNAL_STREAM"):
        return JournalFormatter("%(name)s: %(message)s")
    return OneLineFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")


def configure(level: str | int = "INFO", *, stream: object = None) -> None:
    """Configure the root logger once for the daemon or a CLI command (again on reload)."""
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(make_formatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level_number(level))
