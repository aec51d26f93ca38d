"""Random damage to a full valid config and global_conf: a ConfigError / GlobalConfError of one
short line, or a valid result; never another exception (seeded, bounded)."""

from __future__ import annotations

import copy
import json
import math
import random
import tomllib
from typing import Any

from edge_agent.cmd_config import GlobalConfError, convert, load_global_conf
from edge_agent.config import parse_config
from edge_agent.errors import ConfigError
from tests.hw.test_global_conf import GLOBAL_CONF

EXTRA = """
[spool]
path = "/tmp/edge-agent-fuzz.db"
max_bytes = "1MiB"
[status]
socket = "/tmp/edge-agent-fuzz.sock"
[regulation]
enforce_duty_cycle = true
[[backend]]
name = "community"
type = "semtech_udp"
server = "udp://h:1700"
[backend.filters]
net_ids = ["000013"]
dev_addr_prefixes = ["26000000/7"]
[[backend]]
name = "metro"
type = "chirpstack"
server = "tcp://h:1883"
"""
HOSTILE: list[Any] = [
    True, 0, -1, 1.5, 10**18, -(2**63), "", "x", "\n[mqtt]", [], [1], {}, {"a": 1},
    math.nan, math.inf, "tcp://[::1", "udp://a:b@h:1", 65536, "0" * 70_000, "1" * 5000 + "MiB",
]  # fmt: skip


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return "{ " + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + " }"


def _paths(node: Any, path: list[Any], out: list[list[Any]]) -> list[list[Any]]:
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        out.append([*path, key])
        if isinstance(value, dict | list):
            _paths(value, [*path, key], out)
    return out


def _damaged(base: dict[str, Any], rng: random.Random, paths: list[list[Any]]) -> dict[str, Any]:
    data = copy.deepcopy(base)
    for _ in range(rng.randint(1, 3)):
        *parents, last = rng.choice(paths)
        node: Any = data
        try:
            for part in parents:
                node = node[part]
            node[last] = copy.deepcopy(rng.choice(HOSTILE))
        except (KeyError, IndexError, TypeError):
            continue
    return data


def test_damaged_configs_fail_as_one_short_line() -> None:
    base = tomllib.loads(convert(load_global_conf(GLOBAL_CONF)) + EXTRA)
    rng, paths = random.Random(14), _paths(base, [], [])
    refused = 0
    for _ in range(1500):
        text = "\n".join(
            f"{json.dumps(k)} = {_toml(v)}" for k, v in _damaged(base, rng, paths).items()
        )
        try:
            parse_config(text)
        except ConfigError as exc:
            refused += 1
            assert "\n" not in str(exc) and len(str(exc)) <= 1000
    assert refused > 1000


def test_damaged_global_confs_fail_as_global_conf_errors() -> None:
    base = load_global_conf(GLOBAL_CONF)
    rng, paths = random.Random(14), _paths(base, [], [])
    for _ in range(1500):
        try:
            tomllib.loads(convert(_damaged(base, rng, paths)))
        except GlobalConfError as exc:
            assert "\n" not in str(exc)
