"""Region presets: the channel plans and limits as data."""

from __future__ import annotations

import pytest

from drivers.sx1302.plan import eu868_corecell_plan
from packet_forwarder.errors import PlanError
from packet_forwarder.regions import region_preset


def test_eu868_is_the_corecell_reference_plan() -> None:
    preset = region_preset("EU868")
    assert preset.plan == eu868_corecell_plan()
    assert preset.topic_prefix == "eu868"
    assert (preset.tx_freq_min_hz, preset.tx_freq_max_hz) == (863_000_000, 870_000_000)


def test_eu868_listens_on_the_eight_lorawan_channels() -> None:
    freqs = region_preset("EU868").uplink_frequencies_hz()
    mhz = [f / 1e6 for f in freqs[:8]]
    assert mhz == [868.1, 868.3, 868.5, 867.1, 867.3, 867.5, 867.7, 867.9]


def test_us915_sub_band_2_channels() -> None:
    preset = region_preset("us915")
    freqs = preset.uplink_frequencies_hz()
    assert freqs[:8] == [903_900_000 + 200_000 * i for i in range(8)]
    assert freqs[8] == 904_600_000
    assert len(freqs) == 9  # FSK chain disabled
    assert preset.plan.lora_std.bandwidth_hz == 500_000
    assert preset.topic_prefix == "us915_1"
    assert preset.max_eirp_dbm == 30.0


def test_us915_uses_two_radios() -> None:
    plan = region_preset("US915").plan
    assert {c.radio for c in plan.multi_sf} == {0, 1}
    assert plan.radios[0].enable and plan.radios[1].enable


def test_unknown_region_names_the_known_ones() -> None:
    with pytest.raises(PlanError, match="EU868, US915"):
        region_preset("CN470")
