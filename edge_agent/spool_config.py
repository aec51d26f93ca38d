"""The ``[spool]`` table: where the durable uplink spool lives and how much it may hold."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from edge_agent.config_schema import json_shape, load, rule, shown
from edge_agent.errors import ConfigError

MIB = 1024 * 1024
_SIZE_UNITS = {"": 1, "b": 1, "kib": 1024, "mib": MIB, "gib": 1024 * MIB, "kb": 1000, "mb": 10**6}
_SIZE_RE = re.compile(r"^\s*(\d{1,16})\s*([a-zA-Z]{0,3})\s*$")
#: smallest max_bytes accepted: below this the spool could not hold one uplink
MIN_MAX_BYTES = 4096
#: largest max_bytes accepted (1 TiB)
MAX_MAX_BYTES = 1024**4
_SIZE_ALLOWED = (
    f'an integer {MIN_MAX_BYTES}..{MAX_MAX_BYTES} (bytes) or a string like "64MiB" '
    "(B, KiB, MiB, GiB)"
)


def _any_case(word: str) -> str:
    """A regular expression matching ``word`` in any letter case (JSON Schema has no flags)."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in word)


_SIZE_PATTERN = (
    r"^\s*[0-9]+\s*(?:" + "|".join(_any_case(u) for u in sorted(_SIZE_UNITS) if u) + r")?\s*$"
)


@json_shape(
    {
        "anyOf": [
            {"type": "integer", "minimum": MIN_MAX_BYTES, "maximum": MAX_MAX_BYTES},
            {"type": "string", "pattern": _SIZE_PATTERN},
        ]
    }
)
def _parse_size(value: object, key: str) -> int:
    """An int of bytes, or a string like ``"64MiB"`` / ``"512 KiB"``."""
    if isinstance(value, bool):
        raise ConfigError(key, f"must be {_SIZE_ALLOWED}")
    if isinstance(value, int):
        size = value
    elif isinstance(value, str) and (match := _SIZE_RE.match(value)):
        unit = match.group(2).lower()
        if unit not in _SIZE_UNITS:
            raise ConfigError(key, f"unknown unit {shown(match.group(2))}; must be {_SIZE_ALLOWED}")
        size = int(match.group(1)) * _SIZE_UNITS[unit]
    else:
        raise ConfigError(key, f"must be {_SIZE_ALLOWED}, got {shown(value)}")
    if not MIN_MAX_BYTES <= size <= MAX_MAX_BYTES:
        raise ConfigError(key, f"must be {_SIZE_ALLOWED}, got {shown(value)}")
    return size


@dataclass(frozen=True, slots=True)
class SpoolConfig:
    """Settings of the on-disk spool (issue 3)."""

    path: str = field(
        default="/var/lib/edge-agent/spool.db",
        metadata=rule(pattern=r".*\S.*", what="a non-empty string (a file path)"),
    )
    max_bytes: int = field(default=64 * MIB, metadata=rule(parse=_parse_size, what=_SIZE_ALLOWED))
    max_age_s: float = field(default=7 * 24 * 3600.0, metadata=rule(gt=0, le=10 * 365 * 24 * 3600))
    commit_interval_ms: int = field(
        default=1000,
        metadata=rule(
            ge=0,
            le=60_000,
            what="an integer 0..60000 (milliseconds; 0 commits every uplink at once)",
        ),
    )
    drain_max_per_s: float | None = field(default=None, metadata=rule(gt=0, le=1_000_000))

    @classmethod
    def from_section(cls, section: dict[str, Any] | None) -> SpoolConfig:
        """Validate a raw ``[spool]`` table; errors name ``spool.<key>`` and what is allowed."""
        return load(cls, section or {}, "spool")
