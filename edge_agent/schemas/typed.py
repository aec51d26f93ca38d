"""JSON Schema (draft 2020-12) from the ``TypedDict`` declarations of ``edge_agent.models``.

``Annotated[T, Meta(...)]`` adds a description and bounds; ``NotRequired[T]`` makes a key
optional; ``Literal`` becomes an ``enum``; a nested TypedDict becomes a ``$defs`` entry. Keys
are required unless wrapped in ``NotRequired`` (read from the annotations themselves:
``__required_keys__`` is wrong under ``from __future__ import annotations`` on Python 3.11).
"""

from __future__ import annotations

import types
import typing
from typing import Any, Literal, NotRequired, Required, is_typeddict

from edge_agent.models import OPEN_DOCUMENTS, Meta

_SCALARS: dict[Any, dict[str, Any]] = {
    str: {"type": "string"},
    bool: {"type": "boolean"},
    int: {"type": "integer"},
    float: {"type": "number"},
    type(None): {"type": "null"},
    object: {},
    Any: {},
}


def meta_keywords(meta: Meta) -> dict[str, Any]:
    """The JSON Schema keywords a ``Meta`` stands for."""
    out: dict[str, Any] = {}
    if meta.doc:
        out["description"] = meta.doc
    if meta.ge is not None:
        out["minimum"] = meta.ge
    if meta.le is not None:
        out["maximum"] = meta.le
    if meta.pattern is not None:
        out["pattern"] = f"^(?:{meta.pattern})$"
    return out


def _with_bounds(schema: dict[str, Any], keywords: dict[str, Any]) -> dict[str, Any]:
    """Bounds apply to the non-null branch of a nullable number."""
    bounds = {k: v for k, v in keywords.items() if k != "description"}
    if bounds and "anyOf" in schema:
        schema = {
            "anyOf": [
                {**branch, **bounds} if branch.get("type") in ("integer", "number") else branch
                for branch in schema["anyOf"]
            ]
        }
        keywords = {k: v for k, v in keywords.items() if k == "description"}
    return {**schema, **keywords}


def type_schema(tp: Any, defs: dict[str, Any]) -> dict[str, Any]:
    """The schema of one annotation; TypedDicts are added to ``defs`` and referenced."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Annotated:
        schema = type_schema(args[0], defs)
        for extra in args[1:]:
            if isinstance(extra, Meta):
                schema = _with_bounds(schema, meta_keywords(extra))
        return schema
    if origin in (NotRequired, Required):
        return type_schema(args[0], defs)
    if tp in _SCALARS:
        return dict(_SCALARS[tp])
    if origin is Literal:
        return {"enum": list(args)}
    if isinstance(tp, types.UnionType) or origin is typing.Union:
        return {"anyOf": [type_schema(a, defs) for a in args]}
    if origin is list or origin is tuple:
        return {"type": "array", "items": type_schema(args[0], defs)}
    if origin is dict:
        return {"type": "object", "additionalProperties": type_schema(args[1], defs)}
    if is_typeddict(tp):
        name = tp.__name__
        if name not in defs:
            defs[name] = {}  # placeholder: a recursive reference finds the name taken
            defs[name] = object_schema(tp, defs)
        return {"$ref": f"#/$defs/{name}"}
    raise TypeError(f"no JSON Schema for annotation {tp!r}")  # a declaration bug


def _optional(tp: Any) -> bool:
    if typing.get_origin(tp) is typing.Annotated:
        return _optional(typing.get_args(tp)[0])
    return typing.get_origin(tp) is NotRequired


def object_schema(cls: type, defs: dict[str, Any]) -> dict[str, Any]:
    """The object schema of one TypedDict (its docstring is the description)."""
    hints = typing.get_type_hints(cls, include_extras=True)
    properties = {name: type_schema(tp, defs) for name, tp in hints.items()}
    required = [name for name, tp in hints.items() if not _optional(tp)]
    doc = " ".join((cls.__doc__ or "").replace("``", "").split())
    open_ = cls in OPEN_DOCUMENTS
    if open_:
        doc += " Open: this object is still growing; keys not listed here may appear."
    schema: dict[str, Any] = {
        "type": "object",
        "description": doc,
        "properties": properties,
        "required": required,
        "additionalProperties": open_,
    }
    return schema


def document_schema(cls: type) -> tuple[dict[str, Any], dict[str, Any]]:
    """The root object of a TypedDict document and the ``$defs`` it references."""
    defs: dict[str, Any] = {}
    root = object_schema(cls, defs)
    return root, defs
