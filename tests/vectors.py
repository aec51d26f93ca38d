"""Access to the reference vectors produced by Semtech's HAL, kept in ``tests/data/hal/``.

They are numbers only (outputs of sx1302_hal 2.1.0 run against an emulated chip); how they were
produced is in ``tests/data/hal/README.md``. The repository stands alone: nothing here looks
outside the checkout, and a missing file is an error, never a skip.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

VECTORS_DIR = Path(__file__).resolve().parent / "data" / "hal"
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


@cache
def rx_fifo_cases() -> list[dict[str, Any]]:
    """Every case of sx1302_rx_fifo.jsonl."""
    with open(VECTORS_DIR / "sx1302_rx_fifo.jsonl") as f:
        return [json.loads(line) for line in f if line.strip()]


@cache
def conversions() -> dict[str, Any]:
    """The sx1302_conversions.json object."""
    with open(VECTORS_DIR / "sx1302_conversions.json") as f:
        return json.load(f)


@cache
def ftime_calls() -> list[dict[str, Any]]:
    """Every call of sx1303_ftime.jsonl (the HAL's precise-timestamp function, sx1303_ftime.md)."""
    with open(VECTORS_DIR / "sx1303_ftime.jsonl") as f:
        return [json.loads(line) for line in f if line.strip()]


def rows(section: str) -> list[dict[str, Any]]:
    """Rows of a conversions section as dicts keyed by column name."""
    sec = conversions()[section]
    return [dict(zip(sec["columns"], row, strict=True)) for row in sec["rows"]]
