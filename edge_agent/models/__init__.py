"""Typed declarations of the JSON documents the agent emits (status, diag, spool stats).

Each document is a ``TypedDict``; the code that builds it is annotated with it, and
``edge_agent.schemas`` turns the same declaration into a published JSON Schema, so a field
is declared once. A field's unit, range and meaning ride along as ``Annotated[T, Meta(...)]``.
A declaration marked ``open`` (``OPEN_DOCUMENTS``) may carry keys not declared yet: the
document is still growing and its schema says so (``additionalProperties`` allowed).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Meta:
    """What a field means, beyond its type: a line of documentation and its bounds."""

    doc: str = ""
    ge: float | None = None
    le: float | None = None
    #: a string's full-match regular expression
    pattern: str | None = None


#: TypedDict classes whose documents may hold keys they do not declare (still growing)
OPEN_DOCUMENTS: set[type] = set()


def open_document(cls: type) -> type:
    """Mark a TypedDict as open: its JSON Schema allows keys it does not declare."""
    OPEN_DOCUMENTS.add(cls)
    return cls
