"""Declared configuration schemas: dataclass fields carry their rules; one validator reads them.

A schema is a dataclass. Each field is one TOML key; its annotation is the type (``bool``,
``int``, ``float``, ``str``, ``X | None``, ``tuple[X, ...]``, a fixed ``tuple[X, X]``,
``dict[str, Any]`` for a free table, or another dataclass for a sub-table) and its
``field(metadata=rule(...))`` the rest (range, choices, pattern, length, a parser, aliases,
a doc line). ``load(cls, table, key)`` checks a TOML table against the schema and builds the
dataclass, or raises one ``ConfigError`` naming the full dotted key, the value and what is
allowed. Dataclasses we do not own (``drivers.sx1302.plan``) get their rules from
``EXTERNAL_RULES``. Everything here is introspectable (``dataclasses.fields`` + ``rule_of``), so a
JSON Schema can be generated from it.

Adding a key is one line in the dataclass: ``clean_session: bool = True``, or with a rule
``tx_power_max_dbm: int = field(default=27, metadata=rule(ge=-10, le=36, doc="..."))``.
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from edge_agent.errors import ConfigError

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

#: strings longer than this are refused unless a key says otherwise (a path fits)
MAX_STRING_LENGTH = 4096
#: how much of a refused value an error message shows
SHOWN_LENGTH = 80
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Rule:
    """What a key allows beyond its type."""

    gt: float | None = None
    ge: float | None = None
    le: float | None = None
    choices: tuple[Any, ...] = ()
    #: the allowed values in words; replaces the generic description in errors
    what: str | None = None
    #: strings: full-match regular expression, bounds on the length
    pattern: str | None = None
    min_len: int = 0
    max_len: int = MAX_STRING_LENGTH
    #: ``parse(raw, key) -> value``: replaces the type check (raises ConfigError itself)
    parse: Callable[[Any, str], Any] | None = None
    #: arrays: the rule of each item
    items: Rule | None = None
    #: a ``dict[str, Any]`` field whose table has this schema; stored as the keys that were set
    schema: type | None = None
    #: the TOML key when it differs from the field name (``backend`` for ``backends``)
    toml_name: str | None = None
    #: applied to a value that passed the type check, before the other rules
    normalize: Callable[[Any], Any] | None = None
    #: other accepted names of the key (e.g. ChirpStack's ``forward_crc_invalid``)
    aliases: tuple[str, ...] = ()
    #: this field collects the table's keys no other field declares (``[concentrator.sim]``)
    extra: bool = False
    #: not a TOML key: computed from the others by the schema's ``finish_config``
    derived: bool = False
    #: a TOML key that the schema's ``finish_config`` reads itself (its default depends on
    #: another table, e.g. the backends' topic prefix on the region): ``load`` leaves it alone
    late: bool = False
    #: one line for docs and a generated JSON Schema
    doc: str = ""


_DEFAULT_RULE = Rule()

#: rules for dataclasses defined outside edge_agent: {class: {field name: Rule}}
EXTERNAL_RULES: dict[type, dict[str, Rule]] = {}


def json_shape(shape: Any) -> Callable[[F], F]:
    """Declare what a ``Rule.parse`` function accepts, for the generated JSON Schema.

    ``shape`` is a dict of JSON Schema keywords (replacing the schema the field's annotation
    gives when it holds ``type``, ``anyOf`` or ``$ref``, else added to it), or a function of
    that annotation schema returning the schema (``edge_agent.schemas.config``).
    """

    def mark(parse: F) -> F:
        parse.json_schema = shape  # type: ignore[attr-defined]
        return parse

    return mark


def rule(**kwargs: Any) -> dict[str, Rule]:
    """Field metadata declaring a key's rule: ``field(default=1, metadata=rule(ge=0, le=2))``."""
    return {"rule": Rule(**kwargs)}


def rule_of(cls: type, field: dataclasses.Field[Any]) -> Rule:
    """The rule of one field: its metadata, else ``EXTERNAL_RULES``, else no constraint."""
    rule = field.metadata.get("rule")
    if isinstance(rule, Rule):
        return rule
    return EXTERNAL_RULES.get(cls, {}).get(field.name, _DEFAULT_RULE)


_HINTS: dict[type, dict[str, Any]] = {}


def type_hints(cls: type) -> dict[str, Any]:
    """``typing.get_type_hints(cls)``, cached (annotations are strings here)."""
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return hints


def toml_keys(cls: type) -> list[str]:
    """The TOML keys a schema declares (derived and extra fields excluded), in field order."""
    keys = []
    for f in dataclasses.fields(cls):
        rule = rule_of(cls, f)
        if f.init and not rule.derived and not rule.extra:
            keys.append(rule.toml_name or f.name)
    return keys


def shown(value: object) -> str:
    """``repr(value)`` for an error message, shortened to 80 characters."""
    text = repr(value)
    return (
        text if len(text) <= SHOWN_LENGTH else f"{text[: SHOWN_LENGTH - 12]}... ({len(text)} chars)"
    )


def type_name(value: object) -> str:
    """How an error names a TOML value's type."""
    if isinstance(value, bool):
        return "a boolean"
    names: dict[type, str] = {dict: "a table", list: "an array", str: "a string"}
    return names.get(type(value), type(value).__name__)


def join_key(prefix: str, name: str) -> str:
    """``prefix.name`` (or ``name`` at the top level)."""
    return f"{prefix}.{name}" if prefix else name


def check_table(data: Any, key: str) -> dict[str, Any]:
    """``data`` as a dict, or a ConfigError saying ``key`` must be a table."""
    if not isinstance(data, dict):
        raise ConfigError(key, f"must be a table, got {type_name(data)}")
    return dict(data)


def load(
    cls: type[T],
    data: Any,
    key: str,
    *,
    defaults: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
) -> T:
    """Validate the TOML table ``data`` (at dotted ``key``) against schema ``cls``.

    ``defaults`` replaces field defaults that depend on other tables (the region's topic
    prefix); ``context`` is handed to the schema's ``finish_config(values, raw, key, context)``
    hook, which computes derived fields and checks keys against each other.
    """
    raw = check_table(data, key)
    # cls is any schema dataclass: type[T] is not typed as a DataclassInstance
    fields = [f for f in dataclasses.fields(cls) if f.init]  # type: ignore[arg-type]
    hints = type_hints(cls)
    by_name: dict[str, dataclasses.Field[Any]] = {}
    extra_field: str | None = None
    for f in fields:
        rule = rule_of(cls, f)
        if rule.extra:
            extra_field = f.name
        elif not rule.derived:
            by_name[rule.toml_name or f.name] = f
            for alias in rule.aliases:
                by_name[alias] = f
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for name, value in raw.items():
        declared = by_name.get(name)
        if declared is None:
            if extra_field is not None:
                extra[name] = value
                continue
            allowed = ", ".join(sorted(toml_keys(cls)))
            raise ConfigError(join_key(key, name), f"unknown key (allowed: {allowed})")
        if declared.name in values:
            first = next(n for n in raw if by_name.get(n) is declared)
            raise ConfigError(
                join_key(key, name), f"is another name of {join_key(key, first)}; set only one"
            )
        key_rule = rule_of(cls, declared)
        if not key_rule.late:
            values[declared.name] = convert(
                hints[declared.name], value, join_key(key, name), key_rule
            )
    for name, value in (defaults or {}).items():
        values.setdefault(name, value)
    if extra_field is not None:
        values[extra_field] = extra
    for f in fields:
        missing = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        rule = rule_of(cls, f)
        if missing and f.name not in values and not rule.derived and not rule.late:
            what = f" ({rule.what})" if rule.what else ""
            raise ConfigError(join_key(key, f.name), f"is required{what}")
    finish = getattr(cls, "finish_config", None)
    if finish is not None:
        finish(values, raw, key, context or {})
    return cls(**values)


def _strip_optional(tp: Any) -> Any:
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def convert(tp: Any, value: Any, key: str, rule: Rule = _DEFAULT_RULE) -> Any:
    """One TOML value checked against annotation ``tp`` and ``rule``; ConfigError naming ``key``."""
    if isinstance(value, str) and len(value) > rule.max_len:
        raise ConfigError(key, f"must be at most {rule.max_len} characters long, got {len(value)}")
    if rule.parse is not None:
        result = rule.parse(value, key)
    elif rule.schema is not None:
        set_keys = check_table(value, key)
        loaded: Any = load(rule.schema, set_keys, key)
        result = {name: getattr(loaded, name) for name in set_keys}
    else:
        result = _convert_type(_strip_optional(tp), value, key, rule)
        if rule.normalize is not None:
            result = rule.normalize(result)
    _check_rule(result, key, rule)
    return result


def _convert_type(tp: Any, value: Any, key: str, rule: Rule) -> Any:
    what = rule.what
    if tp is Any:
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(key, f"must be {what or 'true or false'}, got {type_name(value)}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(key, f"must be {what or 'an integer'}, got {type_name(value)}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(key, f"must be {what or 'a number'}, got {type_name(value)}")
        if not math.isfinite(value):
            raise ConfigError(key, f"must be a finite number, got {shown(value)}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(key, f"must be {what or 'a string'}, got {type_name(value)}")
        return value
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return load(tp, value, key)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is dict:
        return check_table(value, key)
    if origin is tuple:
        variable = len(args) == 2 and args[1] is Ellipsis
        if not isinstance(value, list):
            described = "an array" if variable or not what else what
            raise ConfigError(key, f"must be {described}, got {type_name(value)}")
        if variable:
            item_types = [args[0]] * len(value)
            if not rule.min_len <= len(value) <= rule.max_len:
                if rule.min_len == rule.max_len:
                    count = f"{rule.min_len}"
                elif rule.min_len:
                    count = f"{rule.min_len} to {rule.max_len}"
                else:
                    count = f"at most {rule.max_len}"
                raise ConfigError(key, f"must list {what or count + ' items'}, got {len(value)}")
        else:
            if len(value) != len(args):
                described = what or f"an array of {len(args)} values"
                raise ConfigError(key, f"must be {described}, got {len(value)} values")
            item_types = list(args)
        item_rule = rule.items or _DEFAULT_RULE
        return tuple(
            convert(t, v, f"{key}[{i}]", item_rule)
            for i, (t, v) in enumerate(zip(item_types, value, strict=True))
        )
    raise TypeError(f"{key}: no configuration type {tp!r}")  # a schema bug, not an input error


def number_text(value: float) -> str:
    """A number as an operator writes it: ``86400``, ``0.5``, ``-215.4``."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def describe_range(rule: Rule) -> str:
    """``between 1 and 65535``, ``greater than 0 and at most 3600``..."""
    if rule.ge is not None and rule.le is not None:
        return f"between {number_text(rule.ge)} and {number_text(rule.le)}"
    parts = []
    if rule.gt is not None:
        parts.append(f"greater than {number_text(rule.gt)}")
    if rule.ge is not None:
        parts.append(f"at least {number_text(rule.ge)}")
    if rule.le is not None:
        parts.append(f"at most {number_text(rule.le)}")
    return " and ".join(parts)


def describe_choices(choices: tuple[Any, ...]) -> str:
    """``0, 1 or 2`` for numbers, ``one of A, B`` for strings."""
    texts = [str(c) for c in choices]
    if all(isinstance(c, int) for c in choices) and len(texts) > 1:
        return f"{', '.join(texts[:-1])} or {texts[-1]}"
    return f"one of {', '.join(texts)}"


def _check_rule(value: Any, key: str, rule: Rule) -> None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        low_ok = (rule.gt is None or value > rule.gt) and (rule.ge is None or value >= rule.ge)
        if not low_ok or (rule.le is not None and value > rule.le):
            number = number_text(value)
            raise ConfigError(key, f"must be {rule.what or describe_range(rule)}, got {number}")
    if isinstance(value, str):
        if len(value) > rule.max_len or len(value) < rule.min_len:
            bounds = (
                f"at most {rule.max_len}"
                if rule.min_len == 0
                else f"{rule.min_len} to {rule.max_len}"
            )
            raise ConfigError(key, f"must be {bounds} characters long, got {len(value)}")
        if _CONTROL.search(value):
            raise ConfigError(key, f"must not contain control characters, got {shown(value)}")
        if rule.pattern is not None and not re.fullmatch(rule.pattern, value):
            raise ConfigError(key, f"must be {rule.what or rule.pattern}, got {shown(value)}")
    if rule.choices and value not in rule.choices:
        raise ConfigError(
            key, f"must be {rule.what or describe_choices(rule.choices)}, got {shown(value)}"
        )
