"""Errors raised by the daemon.

AgentError
 ├── ConfigError (+ValueError)   the configuration file is missing, unreadable or invalid;
 │                                the message names the key and what is allowed
 ├── SpoolError                  the on-disk spool cannot be opened or written
 │    └── SpoolFull              the disk is full (ENOSPC); records stay in memory meanwhile
 ├── BackendError                a network-server backend failed (broker, UDP server)
 └── StatusError                 the status socket cannot be reached or answered nonsense
      └── StatusBusy (+TimeoutError)  a daemon holds the socket but did not answer in time
"""

from __future__ import annotations

#: a ConfigError message longer than this is shortened
MAX_MESSAGE_LENGTH = 1000


class AgentError(Exception):
    """Root of every error raised by ``edge_agent``."""


class ConfigError(AgentError, ValueError):
    """The configuration is invalid; the message names the key and what is allowed."""

    def __init__(self, key: str, message: str) -> None:
        text = f"{key}: {message}" if key else message
        # one line whatever the file holds: a key or a path may contain a newline
        text = text.replace("\r", "\\r").replace("\n", "\\n")
        if len(text) > MAX_MESSAGE_LENGTH:  # a 70,000-character key is named, not printed
            text = f"{text[: MAX_MESSAGE_LENGTH - 40]}... ({len(text)} characters)"
        super().__init__(text)
        self.key = key


class SpoolError(AgentError):
    """The on-disk spool cannot be opened or written."""


class SpoolFull(SpoolError):
    """The disk holding the spool is full."""


class BackendError(AgentError):
    """A network-server backend failed."""


class StatusError(AgentError):
    """The running daemon's status socket did not answer."""


class StatusBusy(StatusError, TimeoutError):
    """A process listens on the status socket but did not answer in time: busy, not absent."""
