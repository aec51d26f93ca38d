"""The explicit channel plan: ``[concentrator.radio_0/1]`` and ``[concentrator.channels]``.

Key names are the fields of ``drivers.sx1302.plan`` (docs/hardware.md, "The explicit channel
plan form"), which is what ``edge-agent config import-global-conf`` prints. A table that is
present replaces the region preset's part; an absent one keeps the preset's.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from drivers.sx1302.plan import (
    ChipPlan,
    FskChannel,
    LoraStdChannel,
    MultiSfChannel,
    RadioPlan,
    TxGain,
)
from drivers.tx_gain_tables import validate_lut
from edge_agent.errors import ConfigError

MULTI_SF_CHAINS = 8


def _build(cls: type, data: Any, key: str, **converted: Any) -> Any:
    """``cls(**data)`` with ConfigError naming ``key`` and the allowed fields on a bad key."""
    if not isinstance(data, dict):
        raise ConfigError(key, f"must be a table, got {type(data).__name__}")
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise ConfigError(f"{key}.{unknown[0]}", f"unknown key (allowed: {', '.join(names)})")
    try:
        return cls(**{**data, **converted})
    except TypeError as exc:
        raise ConfigError(key, str(exc)) from None


def radio_plan(data: dict[str, Any], key: str) -> RadioPlan:
    """One ``[concentrator.radio_N]`` table as a RadioPlan."""
    converted: dict[str, Any] = {}
    if "rssi_tcomp" in data:
        tcomp = data["rssi_tcomp"]
        if not isinstance(tcomp, list) or len(tcomp) != 5:
            raise ConfigError(f"{key}.rssi_tcomp", "must be 5 numbers (a, b, c, d, e)")
        converted["rssi_tcomp"] = tuple(float(v) for v in tcomp)
    if "tx_gain_lut" in data:
        converted["tx_gain_lut"] = tx_gain_lut(data["tx_gain_lut"], f"{key}.tx_gain_lut")
    return _build(RadioPlan, data, key, **converted)


def tx_gain_lut(lut: Any, key: str) -> tuple[TxGain, ...]:
    """A ``tx_gain_lut`` array of {rf_power_dbm, pa_gain, pwr_idx} tables (``validate_lut``)."""
    if not isinstance(lut, list):
        raise ConfigError(key, "must be an array of tables")
    entries = tuple(_build(TxGain, entry, f"{key}[{i}]") for i, entry in enumerate(lut))
    try:
        validate_lut(entries)
    except ValueError as exc:
        raise ConfigError(key, str(exc)) from None
    return entries


def _channels(data: dict[str, Any], key: str, base: ChipPlan) -> dict[str, Any]:
    out: dict[str, Any] = {}
    rest = dict(data)
    if "multi_sf" in rest:
        chains = rest.pop("multi_sf")
        if not isinstance(chains, list) or len(chains) != MULTI_SF_CHAINS:
            raise ConfigError(f"{key}.multi_sf", f"must list exactly {MULTI_SF_CHAINS} chains")
        out["multi_sf"] = tuple(
            _build(MultiSfChannel, c, f"{key}.multi_sf[{i}]") for i, c in enumerate(chains)
        )
    if "lora_std" in rest:
        out["lora_std"] = _build(LoraStdChannel, rest.pop("lora_std"), f"{key}.lora_std")
    if "fsk" in rest:
        out["fsk"] = _build(FskChannel, rest.pop("fsk"), f"{key}.fsk")
    if "spreading_factors" in rest:
        sfs = rest.pop("spreading_factors")
        if not isinstance(sfs, list) or not all(isinstance(s, int) and 5 <= s <= 12 for s in sfs):
            raise ConfigError(f"{key}.spreading_factors", "must be a list of SFs 5..12")
        out["spreading_factors"] = tuple(sfs)
    allowed = ("lorawan_public", "clksrc", "full_duplex", "fine_timestamp")
    for name, value in rest.items():
        if name not in allowed:
            raise ConfigError(
                f"{key}.{name}",
                "unknown key (allowed: multi_sf, lora_std, fsk, spreading_factors, "
                f"{', '.join(allowed)})",
            )
        if not isinstance(value, type(getattr(base, name))):
            raise ConfigError(f"{key}.{name}", f"must be {type(getattr(base, name)).__name__}")
        out[name] = value
    return out


def explicit_plan(
    base: ChipPlan,
    radio_0: dict[str, Any] | None,
    radio_1: dict[str, Any] | None,
    channels: dict[str, Any] | None,
    prefix: str = "concentrator",
) -> ChipPlan:
    """``base`` (the region preset's plan) with the explicit tables that are present applied."""
    radios = list(base.radios)
    for n, table in enumerate((radio_0, radio_1)):
        if table:
            radios[n] = radio_plan(table, f"{prefix}.radio_{n}")
    changes: dict[str, Any] = {"radios": (radios[0], radios[1])}
    if channels:
        changes.update(_channels(channels, f"{prefix}.channels", base))
    return dataclasses.replace(base, **changes)
