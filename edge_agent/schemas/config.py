"""JSON Schema (draft 2020-12) of the TOML configuration, from its declared dataclasses.

Walks ``edge_agent.config.AgentConfig`` the way ``edge_agent.config_schema.load`` does: each
field is a key (``toml_name`` when set, derived fields skipped), its annotation the type, its
``Rule`` the bounds, choices, pattern and lengths, a ``Rule.parse`` function's accepted shape
its ``json_shape``. What the schema cannot say (keys checked against each other by
``finish_config``: TLS files that must exist, ``tls_cert`` with ``tls_key``) stays with the
loader; ``edge-agent config check`` is the full check.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from typing import Any

from edge_agent.config_schema import Rule, rule_of, type_hints

_SKIPPED_DEFAULTS = (None, dataclasses.MISSING)


def _strip_optional(tp: Any) -> Any:
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def _both_cases(pattern: str) -> str:
    """A pattern checked after ``str.lower``/``upper``: letter ranges accept either case."""
    return re.sub(
        r"([a-zA-Z])-([a-zA-Z])",
        lambda m: f"{m[1].lower()}-{m[2].lower()}{m[1].upper()}-{m[2].upper()}",
        pattern,
    )


class ConfigSchemaBuilder:
    """Builds the schema of one root dataclass; ``overrides`` replace a field's schema."""

    def __init__(self, overrides: dict[tuple[type, str], Any] | None = None) -> None:
        self.defs: dict[str, Any] = {}
        self.overrides = overrides or {}

    def ref(self, cls: type) -> dict[str, Any]:
        """A ``$ref`` to the object schema of dataclass ``cls`` (built once)."""
        name = cls.__name__
        if name not in self.defs:
            self.defs[name] = {}
            self.defs[name] = self.object_schema(cls)
        return {"$ref": f"#/$defs/{name}"}

    def object_schema(self, cls: type) -> dict[str, Any]:
        """The object schema of one table."""
        properties: dict[str, Any] = {}
        required: list[str] = []
        dependent: dict[str, Any] = {}
        extra = False
        hints = type_hints(cls)
        for f in dataclasses.fields(cls):
            rule = rule_of(cls, f)
            if not f.init or rule.derived:
                continue
            if rule.extra:
                extra = True
                continue
            key = rule.toml_name or f.name
            override = self.overrides.get((cls, f.name))
            schema = override(self) if override else self.field_schema(hints[f.name], rule)
            default = f.default
            if default not in _SKIPPED_DEFAULTS and not dataclasses.is_dataclass(default):
                schema["default"] = list(default) if isinstance(default, tuple) else default
            properties[key] = schema
            missing = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            if missing and not rule.late:
                required.append(key)
            for alias in rule.aliases:
                properties[alias] = {**schema, "description": f"another name of {key}"}
                dependent[alias] = {"not": {"required": [key]}}
        doc = " ".join((cls.__doc__ or "").replace("``", "").split())
        out: dict[str, Any] = {"type": "object", "description": doc, "properties": properties}
        if required:
            out["required"] = required
        if dependent:
            out["dependentSchemas"] = dependent
        out["additionalProperties"] = extra
        return out

    def field_schema(self, tp: Any, rule: Rule) -> dict[str, Any]:
        """The schema of one key: its annotation, then the rule's keywords."""
        schema = self.annotation(_strip_optional(tp), rule)
        shape = getattr(rule.parse, "json_schema", None) if rule.parse else None
        if callable(shape):
            schema = shape(schema)
        elif shape is not None:
            replaces = {"type", "anyOf", "$ref"} & set(shape)
            schema = dict(shape) if replaces else {**schema, **shape}
        text = rule.doc or rule.what
        if text and "description" not in schema:
            schema["description"] = text
        return schema

    def annotation(self, tp: Any, rule: Rule) -> dict[str, Any]:
        """A type annotation (``Optional`` already stripped) with ``rule``'s bounds."""
        if rule.schema is not None:
            return self.ref(rule.schema)
        if dataclasses.is_dataclass(tp) and isinstance(tp, type):
            return self.ref(tp)
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if origin is dict:
            return {"type": "object"}
        if origin is tuple:
            item_rule = rule.items or Rule()
            if len(args) == 2 and args[1] is Ellipsis:
                out: dict[str, Any] = {"type": "array"}
                out["items"] = self.annotation(args[0], item_rule)
                if rule.min_len:
                    out["minItems"] = rule.min_len
                out["maxItems"] = rule.max_len
                return out
            return {
                "type": "array",
                "prefixItems": [self.annotation(a, item_rule) for a in args],
                "items": False,
                "minItems": len(args),
                "maxItems": len(args),
            }
        scalars = {bool: "boolean", int: "integer", float: "number", str: "string"}
        if tp is Any:
            return self.keywords(tp, rule)
        if tp in scalars:
            return {"type": scalars[tp], **self.keywords(tp, rule)}
        raise TypeError(f"no JSON Schema for configuration type {tp!r}")  # a schema bug

    @staticmethod
    def keywords(tp: Any, rule: Rule) -> dict[str, Any]:
        """Bounds, choices, pattern and lengths of a scalar key."""
        out: dict[str, Any] = {}
        case_free = rule.normalize in (str.lower, str.upper)
        if rule.choices:
            choices = list(rule.choices)
            if case_free:
                choices += [c.lower() for c in rule.choices if c.lower() not in choices]
            out["enum"] = choices
        if tp in (int, float):
            if rule.ge is not None:
                out["minimum"] = rule.ge
            if rule.gt is not None:
                out["exclusiveMinimum"] = rule.gt
            if rule.le is not None:
                out["maximum"] = rule.le
        if tp is str:
            if rule.min_len:
                out["minLength"] = rule.min_len
            out["maxLength"] = rule.max_len
            if rule.pattern is not None:
                pattern = _both_cases(rule.pattern) if case_free else rule.pattern
                out["pattern"] = f"^(?:{pattern})$"
        return out


def _backend_array(builder: ConfigSchemaBuilder) -> dict[str, Any]:
    """``[[backend]]``: name, type and filters beside the keys of the type's own schema."""
    from edge_agent.config import BACKEND_TYPES, BackendConfig, MqttConfig, SemtechUdpConfig

    # the schema each type's keys are loaded with (edge_agent.config_backends.backends)
    by_type: dict[str, type] = {"chirpstack": MqttConfig, "semtech_udp": SemtechUdpConfig}
    if set(by_type) != set(BACKEND_TYPES):
        raise TypeError(f"backend types {BACKEND_TYPES} without a schema here")  # keep in step
    head = builder.object_schema(BackendConfig)
    variants = []
    for kind in BACKEND_TYPES:
        body = builder.object_schema(by_type[kind])
        properties = {**head["properties"], **body["properties"]}
        properties["type"] = {"const": kind, "description": f"a {kind} backend"}
        variants.append(
            {
                "type": "object",
                "description": f"type = {kind!r}: {body['description']}",
                "properties": properties,
                "required": [*head["required"], *body.get("required", [])],
                "additionalProperties": False,
            }
        )
    return {
        "type": "array",
        "minItems": 1,
        "description": "[[backend]] tables: every network server the uplinks go to",
        "items": {"oneOf": variants},
    }


def _names(names: list[str], what: str) -> dict[str, Any]:
    return {"type": "string", "enum": names, "description": what}


def config_schema() -> tuple[dict[str, Any], dict[str, Any]]:
    """The root schema of ``config.toml`` and its ``$defs``."""
    from drivers.boards import board_names
    from edge_agent.config import AgentConfig, ConcentratorConfig
    from packet_forwarder.regions import region_names

    regions = region_names()
    overrides: dict[tuple[type, str], Any] = {
        (AgentConfig, "backends"): _backend_array,
        (ConcentratorConfig, "region"): lambda _b: {
            **_names(regions + [r.lower() for r in regions], "region preset (any case)"),
            "default": "EU868",
        },
        (ConcentratorConfig, "board"): lambda _b: _names(board_names(), "board preset"),
    }
    builder = ConfigSchemaBuilder(overrides)
    root = builder.object_schema(AgentConfig)
    root["description"] = (
        "The agent's TOML configuration (docs/configuration.md). Each key is checked here; "
        "rules across keys (TLS files that must exist, tls_cert with tls_key, names unique) "
        "are checked by 'edge-agent config check'."
    )
    return root, builder.defs
