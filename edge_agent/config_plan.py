"""The explicit channel plan: ``[concentrator.radio_0/1]`` and ``[concentrator.channels]``.

Key names are the fields of ``drivers.sx1302.plan`` (docs/hardware.md, "The explicit channel
plan form"), which is what ``edge-agent config import-global-conf`` prints. A table that is
present replaces the region preset's part; an absent one keeps the preset's. The plan
dataclasses belong to ``drivers``, so their ranges are declared here, in ``EXTERNAL_RULES``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from drivers.sx1302.plan import (
    ChipPlan,
    FskChannel,
    LoraStdChannel,
    MultiSfChannel,
    RadioPlan,
    TxGain,
)
from drivers.tx_gain_tables import MAX_ENTRIES, validate_lut
from edge_agent.config_schema import (
    EXTERNAL_RULES,
    Rule,
    check_table,
    convert,
    json_shape,
    load,
    rule,
)
from edge_agent.errors import ConfigError

MULTI_SF_CHAINS = 8
#: the int8_t / uint8_t fields of sx1302_hal's lgw_tx_gain_s; its own limits are validate_lut's
_INT8 = Rule(ge=-128, le=127)
_UINT8 = Rule(ge=0, le=255)
_IF_HZ = Rule(ge=-1_000_000, le=1_000_000)
_RADIO = Rule(choices=(0, 1))
_FREQ_HZ = Rule(ge=0, le=1_000_000_000)


@json_shape({"minItems": 1, "maxItems": MAX_ENTRIES})
def tx_gain_lut(value: Any, key: str) -> tuple[TxGain, ...]:
    """A ``tx_gain_lut`` array of {rf_power_dbm, pa_gain, pwr_idx} tables, checked against the
    HAL's limits (``drivers.tx_gain_tables.validate_lut``: 1..16 entries, rising power)."""
    entries: tuple[TxGain, ...] = convert(tuple[TxGain, ...], value, key)
    try:
        validate_lut(entries)
    except ValueError as exc:
        raise ConfigError(key, str(exc)) from None
    return entries


EXTERNAL_RULES.update(
    {
        RadioPlan: {
            "freq_hz": Rule(ge=100_000_000, le=1_000_000_000),
            "rssi_offset_db": Rule(ge=-500, le=500),
            "rssi_tcomp": Rule(
                what="5 numbers (a, b, c, d, e)", items=Rule(ge=-1_000_000, le=1_000_000)
            ),
            "type": Rule(max_len=16),
            "tx_freq_min_hz": _FREQ_HZ,
            "tx_freq_max_hz": _FREQ_HZ,
            "tx_gain_lut": Rule(parse=tx_gain_lut, doc="checked by drivers validate_lut"),
        },
        TxGain: {"rf_power_dbm": _INT8, "pa_gain": _UINT8, "pwr_idx": _UINT8},
        MultiSfChannel: {"radio": _RADIO, "if_hz": _IF_HZ},
        LoraStdChannel: {
            "radio": _RADIO,
            "if_hz": _IF_HZ,
            "bandwidth_hz": Rule(choices=(125_000, 250_000, 500_000)),
            "sf": Rule(ge=5, le=12),
            "implicit_payload_length": Rule(ge=0, le=255),
            "implicit_code_rate": Rule(ge=1, le=7),
        },
        FskChannel: {
            "radio": _RADIO,
            "if_hz": _IF_HZ,
            "bandwidth_hz": Rule(ge=1_000, le=500_000),
            "datarate_bps": Rule(ge=500, le=250_000),
            "freq_deviation_hz": Rule(ge=0, le=250_000),
        },
    }
)


@dataclass(frozen=True, slots=True)
class ChannelsTable:
    """``[concentrator.channels]``: the ChipPlan keys that replace the region preset's."""

    multi_sf: tuple[MultiSfChannel, ...] | None = field(
        default=None,
        metadata=rule(min_len=MULTI_SF_CHAINS, max_len=MULTI_SF_CHAINS, what="exactly 8 chains"),
    )
    lora_std: LoraStdChannel | None = None
    fsk: FskChannel | None = None
    spreading_factors: tuple[int, ...] | None = field(
        default=None, metadata=rule(min_len=1, max_len=8, items=Rule(ge=5, le=12), doc="SFs 5..12")
    )
    lorawan_public: bool | None = None
    clksrc: int | None = field(default=None, metadata=rule(choices=(0, 1)))
    full_duplex: bool | None = None
    fine_timestamp: bool | None = None


def _radio_table_shape(radio: dict[str, Any]) -> dict[str, Any]:
    """A whole radio, or a table holding only ``tx_gain_lut`` (the preset's radio is kept)."""
    lut = {"type": "array", "items": {"$ref": "#/$defs/TxGain"}, "minItems": 1}
    lut["maxItems"] = MAX_ENTRIES
    lut_only = {"type": "object", "properties": {"tx_gain_lut": lut}}
    return {"anyOf": [radio, {**lut_only, "additionalProperties": False}]}


@json_shape(_radio_table_shape)
def radio_table(value: Any, key: str) -> RadioPlan | None:
    """One ``[concentrator.radio_N]`` table as a RadioPlan; None keeps the preset's radio (an
    empty table, or one holding only ``tx_gain_lut``, which ``with_tx_gain_lut`` applies)."""
    table = check_table(value, key)
    if set(table) <= {"tx_gain_lut"}:
        if table:
            tx_gain_lut(table["tx_gain_lut"], f"{key}.tx_gain_lut")
        return None
    return load(RadioPlan, table, key)


def with_tx_gain_lut(
    plan: ChipPlan, vendor_lut: tuple[TxGain, ...] | None, raw: dict[str, Any], key: str
) -> ChipPlan:
    """Each radio's TX gain table: ``[concentrator.radio_N] tx_gain_lut``, else (radio A) the
    board vendor's table for the region (drivers.tx_gain_tables), else the region preset's."""
    radios = list(plan.radios)
    for n in (0, 1):
        table = raw.get(f"radio_{n}") or {}
        if "tx_gain_lut" in table:
            lut = tx_gain_lut(table["tx_gain_lut"], f"{key}.radio_{n}.tx_gain_lut")
        elif n == 0 and vendor_lut:
            lut = vendor_lut
        else:
            continue
        radios[n] = dataclasses.replace(radios[n], tx_gain_lut=lut)
    return dataclasses.replace(plan, radios=(radios[0], radios[1]))


def explicit_plan(
    base: ChipPlan,
    radio_0: RadioPlan | None,
    radio_1: RadioPlan | None,
    channels: ChannelsTable | None,
) -> ChipPlan:
    """``base`` (the region preset's plan) with the explicit tables that are present applied."""
    radios = (radio_0 or base.radios[0], radio_1 or base.radios[1])
    changes: dict[str, Any] = {"radios": radios}
    if channels is not None:
        for declared in dataclasses.fields(ChannelsTable):
            value = getattr(channels, declared.name)
            if value is not None:
                changes[declared.name] = value
    return dataclasses.replace(base, **changes)
