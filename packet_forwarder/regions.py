"""Region presets: the chip channel plan, the TX limits and ChirpStack's topic prefix, as data.

EU868 is Semtech's Corecell reference plan (``drivers.sx1302.plan.eu868_corecell_plan``).
US915 is sub-band 2 (LoRaWAN channels 8..15 + 65), the plan of Semtech's sx1302_hal
``global_conf.json.sx1250.US915``: radio A at 904.3 MHz, radio B at 905.0 MHz.
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.sx1302.plan import (
    ChipPlan,
    FskChannel,
    LoraStdChannel,
    MultiSfChannel,
    RadioPlan,
    eu868_corecell_plan,
)
from packet_forwarder.errors import PlanError


@dataclass(frozen=True, slots=True)
class RegionPreset:
    """One region: what the chip listens to, where and how loud it may transmit."""

    name: str
    plan: ChipPlan
    tx_freq_min_hz: int
    tx_freq_max_hz: int
    #: LoRaWAN Regional Parameters default maximum EIRP
    max_eirp_dbm: float
    #: ChirpStack's MQTT topic prefix for this region config (``region_*.toml``)
    topic_prefix: str

    def uplink_frequencies_hz(self) -> list[int]:
        """Centre frequencies of every enabled IF chain, in chain order."""
        out = []
        for chain in range(10):
            chan = self.plan.chain(chain)
            if chan.enable:
                out.append(self.plan.chain_freq_hz(chain))
        return out


def _eu868() -> RegionPreset:
    return RegionPreset(
        name="EU868",
        plan=eu868_corecell_plan(),
        tx_freq_min_hz=863_000_000,
        tx_freq_max_hz=870_000_000,
        max_eirp_dbm=16.0,
        topic_prefix="eu868",
    )


def _us915_sub_band_2() -> RegionPreset:
    lut = eu868_corecell_plan().radios[0].tx_gain_lut
    radio_a = RadioPlan(
        enable=True,
        freq_hz=904_300_000,
        tx_enable=True,
        tx_freq_min_hz=923_000_000,
        tx_freq_max_hz=928_000_000,
        tx_gain_lut=lut,
    )
    radio_b = RadioPlan(enable=True, freq_hz=905_000_000)
    # 903.9, 904.1, 904.3, 904.5 on radio A; 904.7, 904.9, 905.1, 905.3 on radio B
    chans = [(0, -400_000), (0, -200_000), (0, 0), (0, 200_000)]
    chans += [(1, -300_000), (1, -100_000), (1, 100_000), (1, 300_000)]
    plan = ChipPlan(
        radios=(radio_a, radio_b),
        multi_sf=tuple(MultiSfChannel(True, r, f) for r, f in chans),
        # LoRaWAN channel 65: 904.6 MHz, 500 kHz, SF8 (DR4)
        lora_std=LoraStdChannel(True, radio=0, if_hz=300_000, bandwidth_hz=500_000, sf=8),
        fsk=FskChannel(enable=False),
    )
    return RegionPreset(
        name="US915",
        plan=plan,
        tx_freq_min_hz=923_300_000,
        tx_freq_max_hz=927_500_000,
        max_eirp_dbm=30.0,
        topic_prefix="us915_1",
    )


_PRESETS = {"EU868": _eu868, "US915": _us915_sub_band_2}


def region_names() -> list[str]:
    """Names accepted by ``region_preset``."""
    return list(_PRESETS)


def region_preset(name: str) -> RegionPreset:
    """The preset called ``name`` (case-insensitive); PlanError names the known ones."""
    try:
        return _PRESETS[name.upper()]()
    except KeyError:
        raise PlanError(
            f"unknown region {name!r}; expected one of {', '.join(region_names())}"
        ) from None
