"""The managed plan's radio placement and checks (edge_agent/managed_plan.py)."""

from __future__ import annotations

import pytest

from edge_agent.config import parse_config
from edge_agent.gateway_control import region_band_hz
from edge_agent.managed_plan import ManagedPlan, PlanRefused, chip_plan

SFS = (7, 8, 9, 10, 11, 12)
EU_BAND = (863_000_000, 870_000_000)
EU8 = (868_100_000, 868_300_000, 868_500_000, 867_100_000, 867_300_000, 867_500_000,
       867_700_000, 867_900_000)  # fmt: skip


def base():  # type: ignore[no-untyped-def]
    return parse_config('[concentrator]\nurl = "sim://"\nregion = "EU868"\n').concentrator.plan


def full_eu_plan() -> ManagedPlan:
    """ChirpStack's EU868 channels with a 250 kHz LoRa service channel and FSK."""
    multi = tuple((f, SFS) for f in EU8)
    return ManagedPlan("v1", multi, (868_300_000, 250_000, 7), (868_800_000, 125_000, 50_000))


def test_eight_channels_lora_service_and_fsk_fit_two_radios() -> None:
    managed = full_eu_plan()
    plan = chip_plan(base(), managed, EU_BAND)
    assert [plan.chain_freq_hz(c) for c in range(8)] == list(EU8)
    assert plan.chain_freq_hz(8) == 868_300_000 and plan.lora_std.bandwidth_hz == 250_000
    assert plan.chain_freq_hz(9) == 868_800_000 and plan.fsk.datarate_bps == 50_000
    for chain in range(10):
        channel = plan.chain(chain)
        bw = getattr(channel, "bandwidth_hz", 125_000)
        reach = {125_000: 400_000, 250_000: 375_000}[bw]
        assert abs(channel.if_hz) <= reach


def test_channels_beyond_two_radio_bandwidths_are_refused() -> None:
    managed = ManagedPlan("v", ((863_500_000, SFS), (866_000_000, SFS), (869_500_000, SFS)))
    with pytest.raises(PlanRefused, match="span 3 radio bandwidths"):
        chip_plan(base(), managed, EU_BAND)


@pytest.mark.parametrize(
    ("managed", "message"),
    [
        (ManagedPlan("v", tuple((868_100_000 + 200_000 * n, SFS) for n in range(9))), "has 8"),
        (ManagedPlan("v", ()), "no channels"),
        (ManagedPlan("v", ((902_300_000, SFS),)), "outside the region's band"),
        (ManagedPlan("v", ((868_100_000, (7, 13)),)), "spreading factors"),
        (ManagedPlan("v", (), (868_300_000, 200_000, 7)), "not 125/250/500 kHz"),
    ],
)
def test_what_the_board_or_region_cannot_run_is_refused(managed: ManagedPlan, message: str) -> None:
    with pytest.raises(PlanRefused, match=message):
        chip_plan(base(), managed, EU_BAND)


def test_us915_sub_band_2_as_chirpstack_sends_it() -> None:
    cfg = parse_config('[concentrator]\nurl = "sim://"\nregion = "US915-SB2"\n')
    multi = tuple((903_900_000 + 200_000 * n, SFS) for n in range(8))
    managed = ManagedPlan("us", multi, (904_600_000, 500_000, 8))
    plan = chip_plan(cfg.concentrator.plan, managed, region_band_hz(cfg))
    assert [plan.chain_freq_hz(c) for c in range(9)] == [f for f, _ in multi] + [904_600_000]
    with pytest.raises(PlanRefused, match="outside the region's band"):
        chip_plan(
            cfg.concentrator.plan, ManagedPlan("eu", ((868_100_000, SFS),)), region_band_hz(cfg)
        )


def test_the_simulated_chip_starts_with_a_managed_plan() -> None:
    from drivers import open_transport
    from drivers.sx1302.chip import SX1302
    from packet_forwarder.concentrator import Concentrator

    managed = full_eu_plan()
    plan = chip_plan(base(), managed, EU_BAND)
    conc = Concentrator(
        open_transport("sim://"),
        plan,
        temperature_c=lambda: 25.0,
        chip_factory=lambda t: SX1302(t, sleep=lambda _s: None),
    )
    try:
        conc.start()
        assert conc.started and conc.plan == plan
        assert conc.firmware_versions  # what the stats report as agc/arb_firmware_version
    finally:
        conc.close()
