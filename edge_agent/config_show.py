"""The effective configuration as data: what ``edge-agent config check`` prints.

Every key of every table, defaults filled in, read back from the validated ``AgentConfig``
through the same declarations the loader used (``edge_agent.config_schema``). Secrets are the
fields declared ``repr=False`` (passwords): they are masked. The result is TOML (or JSON) that
loads back into the same configuration, the secrets aside.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from edge_agent.config_schema import rule_of

MASK = "********"


def _value(value: Any) -> Any:
    """A loaded value as TOML data (dataclasses as tables, tuples as arrays); None is absent."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return table(value)
    if isinstance(value, tuple | list):
        return [_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _value(v) for k, v in value.items() if v is not None}
    return value


def table(obj: Any) -> dict[str, Any]:
    """The TOML table of one loaded schema object: its keys, with secrets masked."""
    cls = type(obj)
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        rule = rule_of(cls, f)
        value = getattr(obj, f.name)
        if not f.init or rule.derived or value is None or value == {}:
            continue
        if rule.extra:
            out.update(_value(value))
            continue
        out[rule.toml_name or f.name] = MASK if not f.repr else _value(value)
    return out


def effective(cfg: Any) -> dict[str, Any]:
    """The whole configuration as TOML data: every backend as a ``[[backend]]`` table (the
    legacy ``[mqtt]`` table becomes the backend it stands for, named ``chirpstack``)."""
    data = table(cfg)
    data.pop("mqtt", None)
    backends = []
    for backend in cfg.backends:
        entry: dict[str, Any] = {"name": backend.name, "type": backend.type}
        body = backend.mqtt if backend.mqtt is not None else backend.udp
        entry.update(table(body))
        entry["filters"] = table(backend.filters)
        backends.append(entry)
    data["backend"] = backends
    order = ("gateway", "concentrator", "backend", "spool", "status", "log")
    return {k: data[k] for k in (*order, *data) if k in data and data[k] != {}}


def to_toml(data: dict[str, Any]) -> str:
    """TOML text of ``data``: scalars and arrays first, then sub-tables, arrays of tables."""
    from edge_agent.cmd_config import toml_value

    lines: list[str] = []

    def emit(body: dict[str, Any], name: str, header: str) -> None:
        plain = {k: v for k, v in body.items() if not _is_table(v) and not _is_tables(k, v)}
        if name and (plain or not body):
            lines.extend(["", header])
        lines.extend(f"{k} = {toml_value(v)}" for k, v in plain.items())
        for key, value in body.items():
            path = f"{name}.{key}" if name else key
            if _is_table(value):
                emit(value, path, f"[{path}]")
            elif _is_tables(key, value):
                for item in value:
                    emit(item, path, f"[[{path}]]")

    emit(data, "", "")
    return "\n".join(lines).lstrip("\n") + "\n"


def _is_table(value: Any) -> bool:
    return isinstance(value, dict)


def _is_tables(key: str, value: Any) -> bool:
    """``backend`` is the one array of tables written as ``[[...]]`` (others are inline)."""
    return key == "backend" and isinstance(value, list)
