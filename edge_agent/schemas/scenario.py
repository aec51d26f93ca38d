"""JSON Schema of one scenario line, from ``drivers.sim.scenario.LINE_SHAPES``.

A line is a JSON object of one declared kind; keys starting with ``_`` are comments. The
parser (``drivers.sim.scenario.parse_line``) checks the same declaration.
"""

from __future__ import annotations

from typing import Any

from drivers.sim.scenario import LINE_SHAPES, LineField, LineShape


def field_schema(field: LineField) -> dict[str, Any]:
    """The schema of one key of a line."""
    out: dict[str, Any] = {"description": field.doc}
    if field.kind == "int":
        out |= {"type": "integer", "minimum": field.lo or 0}
        if field.hi is not None:
            out["maximum"] = field.hi
    elif field.kind == "number":
        out["type"] = "number"
    elif field.kind == "choice":
        out["enum"] = list(field.choices)
    elif field.kind == "hex":
        # bytes.fromhex: pairs of hex digits, white space allowed between the pairs
        pairs = f"{{{field.min_bytes},{field.max_bytes}}}"
        out |= {"type": "string", "pattern": rf"^(?:\s*[0-9A-Fa-f]{{2}}){pairs}\s*$"}
        out["description"] += f" ({field.min_bytes}..{field.max_bytes} bytes)"
    else:
        raise TypeError(f"no JSON Schema for scenario field kind {field.kind!r}")
    return out


def shape_schema(shape: LineShape) -> dict[str, Any]:
    """The object schema of one kind of line."""
    return {
        "type": "object",
        "description": f"{shape.name} line: {shape.doc}",
        "properties": {f.name: field_schema(f) for f in shape.fields},
        "required": [f.name for f in shape.fields],
        "patternProperties": {"^_": {"description": "a comment, ignored"}},
        "additionalProperties": False,
    }


def scenario_line_schema() -> tuple[dict[str, Any], dict[str, Any]]:
    """The root schema (one of the line kinds) and its ``$defs``."""
    defs = {f"{shape.name}_line": shape_schema(shape) for shape in LINE_SHAPES}
    root = {
        "description": (
            "One line of a simulator scenario file (JSONL, docs/simulator.md): a JSON object "
            "of one of these kinds. Blank lines are skipped."
        ),
        "oneOf": [{"$ref": f"#/$defs/{name}"} for name in defs],
    }
    return root, defs
