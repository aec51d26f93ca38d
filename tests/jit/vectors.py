"""Loads the sx1302_hal reference vectors (../shared/ref/vectors) for the jit tests."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path

import pytest


def _find_vectors_dir() -> Path:
    """$EDGE_AGENT_VECTORS, else the first ``shared/ref/vectors`` above this file."""
    if "EDGE_AGENT_VECTORS" in os.environ:
        return Path(os.environ["EDGE_AGENT_VECTORS"])
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "ref" / "vectors"
        if candidate.is_dir():
            return candidate
    return Path("shared/ref/vectors")


VECTORS_DIR = _find_vectors_dir()


@cache
def conversions() -> dict:
    """The whole sx1302_conversions.json, or skip when the shared reference is absent."""
    path = VECTORS_DIR / "sx1302_conversions.json"
    if not path.exists():
        pytest.skip(f"reference vectors not found at {path}")
    return json.loads(path.read_text())


def rows(section: str) -> list[dict]:
    """Rows of a section as dicts keyed by the section's column names."""
    data = conversions()[section]
    return [dict(zip(data["columns"], row, strict=True)) for row in data["rows"]]
