"""The [spool] table: defaults, sizes, and errors that name the key and what is allowed."""

from __future__ import annotations

import pytest

from edge_agent.errors import ConfigError
from edge_agent.spool_config import SpoolConfig


def test_empty_section_gives_the_documented_defaults() -> None:
    config = SpoolConfig.from_section({})
    assert config == SpoolConfig(
        path="/var/lib/edge-agent/spool.db",
        max_bytes=64 * 1024 * 1024,
        max_age_s=7 * 86400.0,
        commit_interval_ms=1000,
        drain_max_per_s=None,
    )


def test_every_key_is_read() -> None:
    config = SpoolConfig.from_section(
        {
            "path": "/tmp/x.db",
            "max_bytes": 1_000_000,
            "max_age_s": 3600,
            "commit_interval_ms": 0,
            "drain_max_per_s": 50,
        }
    )
    assert (config.path, config.max_bytes, config.max_age_s) == ("/tmp/x.db", 1_000_000, 3600.0)
    assert (config.commit_interval_ms, config.drain_max_per_s) == (0, 50.0)


@pytest.mark.parametrize(
    ("text", "expected"), [("64MiB", 64 * 2**20), ("512 KiB", 512 * 1024), ("1GiB", 2**30)]
)
def test_max_bytes_accepts_size_strings(text: str, expected: int) -> None:
    assert SpoolConfig.from_section({"max_bytes": text}).max_bytes == expected


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ({"max_bytes": "lots"}, "spool.max_bytes"),
        ({"max_bytes": 10}, "spool.max_bytes"),
        ({"max_bytes": "5 parsecs"}, "spool.max_bytes"),
        ({"max_age_s": 0}, "spool.max_age_s"),
        ({"max_age_s": "1d"}, "spool.max_age_s"),
        ({"commit_interval_ms": -1}, "spool.commit_interval_ms"),
        ({"commit_interval_ms": 1.5}, "spool.commit_interval_ms"),
        ({"commit_interval_ms": True}, "spool.commit_interval_ms"),
        ({"drain_max_per_s": -3}, "spool.drain_max_per_s"),
        ({"path": ""}, "spool.path"),
        ({"max_byte": 1}, "spool.max_byte"),
    ],
)
def test_bad_values_name_the_key(section: dict, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        SpoolConfig.from_section(section)
    assert caught.value.key == key
    assert str(caught.value).startswith(f"{key}: ")


def test_unknown_key_error_lists_the_allowed_keys() -> None:
    with pytest.raises(ConfigError, match="allowed: commit_interval_ms, drain_max_per_s"):
        SpoolConfig.from_section({"size": 1})
