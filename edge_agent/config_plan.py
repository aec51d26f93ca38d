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
from edge_agent.config_schema import EXTERNAL_RULES, Rule, load, rule

MULTI_SF_CHAINS = 8
_IF_HZ = Rule(ge=-1_000_000, le=1_000_000)
_RADIO = Rule(choices=(0, 1))
_FREQ_HZ = Rule(ge=0, le=1_000_000_000)

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
            "tx_gain_lut": Rule(max_len=16),
        },
        TxGain: {
            "rf_power_dbm": Rule(ge=-20, le=40),
            "pa_gain": Rule(ge=0, le=3),
            "pwr_idx": Rule(ge=0, le=31),
        },
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


def radio_table(value: Any, key: str) -> RadioPlan | None:
    """One ``[concentrator.radio_N]`` table as a RadioPlan (an empty table keeps the preset's)."""
    if value == {}:
        return None
    return load(RadioPlan, value, key)


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
