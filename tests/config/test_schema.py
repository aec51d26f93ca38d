"""The declared schemas: every key typed and bounded, and the one validator's behaviour."""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from typing import Any

import pytest

from edge_agent.config import AgentConfig
from edge_agent.config_backends import BackendConfig, MqttConfig, SemtechUdpConfig
from edge_agent.config_schema import Rule, load, rule, rule_of, toml_keys, type_hints
from edge_agent.errors import ConfigError


def _classes(cls: type, seen: set[type]) -> None:
    if cls in seen:
        return
    seen.add(cls)
    derived = {f.name for f in dataclasses.fields(cls) if rule_of(cls, f).derived}  # type: ignore[arg-type]
    for name, tp in type_hints(cls).items():
        if name in derived:
            continue
        for arg in (
            tp,
            *typing.get_args(tp),
            *(a for t in typing.get_args(tp) for a in typing.get_args(t)),
        ):
            if dataclasses.is_dataclass(arg) and isinstance(arg, type):
                _classes(arg, seen)
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        schema = rule_of(cls, f).schema
        if schema is not None:
            _classes(schema, seen)


def all_schemas() -> list[type]:
    """Every dataclass reachable from AgentConfig, plus the inline backend schemas."""
    seen: set[type] = set()
    for root in (AgentConfig, BackendConfig, MqttConfig, SemtechUdpConfig):
        _classes(root, seen)
    return sorted(seen, key=lambda c: c.__name__)


def _numeric(tp: Any) -> bool:
    optional = typing.get_origin(tp) in (typing.Union, types.UnionType)
    args = [a for a in typing.get_args(tp) if a is not type(None)] if optional else [tp]
    return any(a in (int, float) for a in args)


def _bounded(r: Rule) -> bool:
    return (
        r.parse is not None
        or bool(r.choices)
        or ((r.ge is not None or r.gt is not None) and r.le is not None)
    )


@pytest.mark.parametrize("cls", all_schemas(), ids=lambda c: c.__name__)
def test_every_number_has_a_documented_range(cls: type) -> None:
    hints = type_hints(cls)
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        r = rule_of(cls, f)
        if r.derived or r.late or r.extra:
            continue
        tp = hints[f.name]
        if _numeric(tp):
            assert _bounded(r), f"{cls.__name__}.{f.name} has no range"
        tuples = [t for t in (tp, *typing.get_args(tp)) if typing.get_origin(t) is tuple]
        items = [a for t in tuples for a in typing.get_args(t)]
        if any(a in (int, float) for a in items) and r.parse is None:
            assert r.items is not None and _bounded(r.items), f"{cls.__name__}.{f.name} items"


def test_the_schemas_cover_the_plan_and_backend_tables() -> None:
    names = {c.__name__ for c in all_schemas()}
    assert {"RadioPlan", "TxGain", "ChannelsTable", "BackendFilters", "SpoolConfig"} <= names
    assert toml_keys(AgentConfig) == [
        "concentrator", "gateway", "mqtt", "backend", "spool", "regulation", "status", "log", "gps",
        "commands",
    ]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Example:
    """A schema as another helper would add one."""

    count: int = field(default=1, metadata=rule(ge=0, le=5))
    name: str = "x"
    ratio: float | None = None
    mode: str = field(default="a", metadata=rule(choices=("a", "b"), aliases=("kind",)))
    values: tuple[int, ...] = field(default=(), metadata=rule(items=Rule(ge=1, le=9)))


def test_adding_a_key_is_one_line_and_gets_the_standard_errors() -> None:
    assert load(Example, {"count": 3, "kind": "b"}, "ex") == Example(count=3, mode="b")
    cases = {
        "count": (9, "ex.count: must be between 0 and 5, got 9"),
        "name": (1, "ex.name: must be a string, got int"),
        "ratio": (float("nan"), "ex.ratio: must be a finite number, got nan"),
        "mode": ("c", "ex.mode: must be one of a, b, got 'c'"),
        "values": ([1, 10], "ex.values[1]: must be between 1 and 9, got 10"),
        "other": (1, "ex.other: unknown key (allowed: count, mode, name, ratio, values)"),
    }
    for name, (value, message) in cases.items():
        with pytest.raises(ConfigError) as info:
            load(Example, {name: value}, "ex")
        assert str(info.value) == message
    with pytest.raises(ConfigError, match=r"ex\.kind: is another name of ex\.mode"):
        load(Example, {"mode": "a", "kind": "b"}, "ex")
