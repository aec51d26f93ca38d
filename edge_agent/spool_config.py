"""The ``[spool]`` table: where the durable uplink spool lives and how much it may hold."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from edge_agent.errors import ConfigError

MIB = 1024 * 1024
_SIZE_UNITS = {"": 1, "b": 1, "kib": 1024, "mib": MIB, "gib": 1024 * MIB, "kb": 1000, "mb": 10**6}
_SIZE_RE = re.compile(r"^\s*(\d+)\s*([a-zA-Z]*)\s*$")
#: smallest max_bytes accepted: below this the spool could not hold one uplink
MIN_MAX_BYTES = 4096


@dataclass(frozen=True, slots=True)
class SpoolConfig:
    """Settings of the on-disk spool (issue 3)."""

    path: str = "/var/lib/edge-agent/spool.db"
    max_bytes: int = 64 * MIB
    max_age_s: float = 7 * 24 * 3600.0
    commit_interval_ms: int = 1000
    drain_max_per_s: float | None = None

    @classmethod
    def from_section(cls, section: dict[str, Any] | None) -> SpoolConfig:
        """Validate a raw ``[spool]`` table; errors name ``spool.<key>`` and what is allowed."""
        section = dict(section or {})
        known = {"path", "max_bytes", "max_age_s", "commit_interval_ms", "drain_max_per_s"}
        for key in section:
            if key not in known:
                allowed = ", ".join(sorted(known))
                raise ConfigError(f"spool.{key}", f"unknown key; allowed: {allowed}")
        values: dict[str, Any] = {}
        if "path" in section:
            path = section["path"]
            if not isinstance(path, str) or not path.strip():
                raise ConfigError("spool.path", "must be a non-empty string (a file path)")
            values["path"] = path
        if "max_bytes" in section:
            values["max_bytes"] = _parse_size(section["max_bytes"])
        if "max_age_s" in section:
            values["max_age_s"] = _positive_number("max_age_s", section["max_age_s"])
        if "commit_interval_ms" in section:
            interval = section["commit_interval_ms"]
            if isinstance(interval, bool) or not isinstance(interval, int) or interval < 0:
                raise ConfigError(
                    "spool.commit_interval_ms",
                    "must be an integer >= 0 (milliseconds; 0 commits every uplink at once)",
                )
            values["commit_interval_ms"] = interval
        if "drain_max_per_s" in section:
            rate = section["drain_max_per_s"]
            values["drain_max_per_s"] = _positive_number("drain_max_per_s", rate)
        return cls(**values)


def _positive_number(key: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"spool.{key}", f"must be a number > 0, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"spool.{key}", f"must be a finite number > 0, got {value!r}")
    return float(value)


def _parse_size(value: object) -> int:
    """An int of bytes, or a string like ``"64MiB"`` / ``"512 KiB"``."""
    allowed = f'an integer >= {MIN_MAX_BYTES} (bytes) or a string like "64MiB" (B, KiB, MiB, GiB)'
    if isinstance(value, bool):
        raise ConfigError("spool.max_bytes", f"must be {allowed}")
    if isinstance(value, int):
        size = value
    elif isinstance(value, str) and (match := _SIZE_RE.match(value)):
        unit = match.group(2).lower()
        if unit not in _SIZE_UNITS:
            unknown = f"unknown unit {match.group(2)!r}; must be {allowed}"
            raise ConfigError("spool.max_bytes", unknown)
        size = int(match.group(1)) * _SIZE_UNITS[unit]
    else:
        raise ConfigError("spool.max_bytes", f"must be {allowed}, got {value!r}")
    if size < MIN_MAX_BYTES:
        raise ConfigError("spool.max_bytes", f"must be {allowed}, got {value!r}")
    return size
