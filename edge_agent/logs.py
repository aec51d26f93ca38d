"""Logging, configured in one place: one event per line on stderr, journald-friendly.

When ``JOURNAL_STREAM`` is set (systemd connected stderr to the journal), lines carry a syslog
priority prefix (``<6>``) and no timestamp, since journald adds its own. Raw bytes are logged only
at TRACE, below DEBUG.
"""

from __future__ import annotations

import logging
import os
import sys

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


class JournalFormatter(logging.Formatter):
    """Prefix each line with its syslog priority so journald files it at the right level."""

    def format(self, record: logging.LogRecord) -> str:
        priority = _PRIORITY.get(record.levelno, 6)
        text = super().format(record).replace("\n", " | ")
        return f"<{priority}>{text}"


def configure(level: str | int = "INFO", *, stream: object = None) -> None:
    """Configure the root logger once for the daemon or a CLI command."""
    if isinstance(level, str):
        level = TRACE if level.upper() == "TRACE" else logging.getLevelName(level.upper())
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    if os.environ.get("JOURNAL_STREAM"):
        handler.setFormatter(JournalFormatter("%(name)s: %(message)s"))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
