"""Access to the reference vectors produced by Semtech's HAL (../shared/ref/vectors)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

VECTORS_DIR = Path(__file__).resolve().parents[2] / "shared" / "ref" / "vectors"
VALID_CATEGORIES = frozenset(
    {
        "single_valid",
        "sf_cr_grid",
        "modem_ids",
        "freq_offset",
        "ts_metrics",
        "flags",
        "multi_valid",
        "counter_wrap",
    }
)


def _vectors_dir() -> Path:
    # worktrees live one level deeper (/work/wt/NAME) than the main checkout: look upwards
    here = Path(__file__).resolve()
    candidates = [VECTORS_DIR, *(p / "shared" / "ref" / "vectors" for p in here.parents)]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"reference vectors not found at {VECTORS_DIR}")


@cache
def rx_fifo_cases() -> list[dict[str, Any]]:
    """Every case of sx1302_rx_fifo.jsonl."""
    with open(_vectors_dir() / "sx1302_rx_fifo.jsonl") as f:
        return [json.loads(line) for line in f if line.strip()]


@cache
def conversions() -> dict[str, Any]:
    """The sx1302_conversions.json object."""
    with open(_vectors_dir() / "sx1302_conversions.json") as f:
        return json.load(f)


def rows(section: str) -> list[dict[str, Any]]:
    """Rows of a conversions section as dicts keyed by column name."""
    sec = conversions()[section]
    return [dict(zip(sec["columns"], row, strict=True)) for row in sec["rows"]]
