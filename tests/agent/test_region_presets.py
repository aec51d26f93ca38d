"""Every ChirpStack region as a preset: channels, RX2, topic prefix, limits, SX1250 fit, import."""

from __future__ import annotations

import json

import pytest

from drivers.sx1302.plan import ChipPlan
from edge_agent.cmd_config import convert, load_global_conf
from edge_agent.config import parse_config
from packet_forwarder.errors import PlanError
from packet_forwarder.regions import all_presets, check_plan, region_names, region_preset

MHZ = 1_000_000


def _mhz(*values: float) -> list[int]:
    return [round(v * MHZ) for v in values]


def _us_au(first_mhz: float) -> list[int]:
    return _mhz(*(first_mhz + 0.2 * k for k in range(8)), first_mhz + 0.7)


# chirpstack/configuration/region_*.toml [[regions.gateway.channels]] and
# chirpstack-concentratord-sx1302/config/channels_*.toml (AS923: eight channels + LoRa std)
CHIRPSTACK_CHANNELS = {
    "EU868": _mhz(868.1, 868.3, 868.5, 867.1, 867.3, 867.5, 867.7, 867.9, 868.3, 868.8),
    "US915": _us_au(903.9),
    **{f"US915-SB{n}": _us_au(902.3 + 1.6 * (n - 1)) for n in range(1, 9) if n != 2},
    **{f"AU915-SB{n}": _us_au(915.2 + 1.6 * (n - 1)) for n in range(1, 9)},
    "AS923": _mhz(*(923.2 + 0.2 * k for k in range(8)), 924.5),
    "AS923-2": _mhz(*(921.4 + 0.2 * k for k in range(8)), 922.7),
    "AS923-3": _mhz(*(916.6 + 0.2 * k for k in range(8)), 917.9),
    "AS923-4": _mhz(*(917.3 + 0.2 * k for k in range(8)), 918.6),
    "IN865": _mhz(865.0625, 865.4025, 865.985),
    "KR920": _mhz(922.1, 922.3, 922.5),
    "RU864": _mhz(868.9, 869.1),
    **{f"CN470-SB{n}": _mhz(*(470.3 + 1.6 * (n - 1) + 0.2 * k for k in range(8)))
       for n in range(1, 13)},
    "EU433": _mhz(433.175, 433.375, 433.575),
}  # fmt: skip

# topic_prefix of chirpstack/configuration/region_*.toml
CHIRPSTACK_PREFIX = {
    "EU868": "eu868", "US915": "us915_1", "AS923": "as923", "AS923-2": "as923_2",
    "AS923-3": "as923_3", "AS923-4": "as923_4", "IN865": "in865", "KR920": "kr920",
    "RU864": "ru864", "EU433": "eu433",
    **{f"US915-SB{n}": f"us915_{n - 1}" for n in range(1, 9) if n != 2},
    **{f"AU915-SB{n}": f"au915_{n - 1}" for n in range(1, 9)},
    **{f"CN470-SB{n}": f"cn470_{n - 1}" for n in range(1, 13)},
}  # fmt: skip

# lrwn/src/region/*.rs get_defaults (frequency) and region_*.toml rx2_dr, as (Hz, SF, BW)
CHIRPSTACK_RX2 = {
    "EU868": (869_525_000, 12, 125_000), "US915": (923_300_000, 12, 500_000),
    "AU915": (923_300_000, 12, 500_000), "AS923": (923_200_000, 10, 125_000),
    "AS923-2": (921_400_000, 12, 125_000), "AS923-3": (916_600_000, 10, 125_000),
    "AS923-4": (917_300_000, 10, 125_000), "IN865": (866_550_000, 10, 125_000),
    "KR920": (921_900_000, 12, 125_000), "RU864": (869_100_000, 12, 125_000),
    "CN470": (505_300_000, 12, 125_000), "EU433": (434_665_000, 12, 125_000),
}  # fmt: skip

# lrwn/src/region/*.rs get_downlink_tx_power_eirp (EU868 outside band P)
CHIRPSTACK_EIRP = {"EU868": 16, "US915": 21, "AU915": 30, "AS923": 16, "IN865": 30,
                   "KR920": 23, "RU864": 16, "CN470": 19, "EU433": 12}  # fmt: skip


def family(name: str) -> str:
    """'US915-SB3' -> 'US915', 'AS923-2' -> 'AS923'."""
    return name.split("-")[0]


NAMES = [p.name for p in all_presets()]


def test_every_chirpstack_region_has_a_preset() -> None:
    assert set(NAMES) == set(CHIRPSTACK_CHANNELS)
    assert len(NAMES) == 1 + 8 + 8 + 4 + 3 + 12 + 1  # EU868, US915, AU915, AS923, 3, CN470, EU433


def test_plain_names_keep_working_and_mean_sub_band_2() -> None:
    assert region_preset("US915") is region_preset("us915-sb2")
    assert region_preset("AU915") is region_preset("AU915-SB2")
    assert region_preset("eu868").name == "EU868"
    assert {"EU868", "US915", "AU915", "CN470-SB12"} <= set(region_names())


@pytest.mark.parametrize("name", NAMES)
def test_channels_are_chirpstack_s(name: str) -> None:
    assert region_preset(name).uplink_frequencies_hz() == CHIRPSTACK_CHANNELS[name]


@pytest.mark.parametrize("name", NAMES)
def test_topic_prefix_is_chirpstack_s(name: str) -> None:
    assert region_preset(name).topic_prefix == CHIRPSTACK_PREFIX[name]


@pytest.mark.parametrize("name", NAMES)
def test_rx2_and_default_power_are_chirpstack_s(name: str) -> None:
    preset = region_preset(name)
    key = name if name in CHIRPSTACK_RX2 else family(name)
    assert (preset.rx2_freq_hz, preset.rx2_sf, preset.rx2_bandwidth_hz) == CHIRPSTACK_RX2[key]
    assert preset.ns_default_eirp_dbm == CHIRPSTACK_EIRP[family(name)]


@pytest.mark.parametrize("name", NAMES)
def test_plan_fits_the_sx1250_and_its_if_window(name: str) -> None:
    check_plan(region_preset(name).plan)


@pytest.mark.parametrize("name", NAMES)
def test_rx2_and_tx_range_lie_in_a_regulatory_sub_band(name: str) -> None:
    preset = region_preset(name)
    rules = preset.rules
    assert rules.sub_band(preset.rx2_freq_hz, preset.rx2_bandwidth_hz) is not None
    radio_a = preset.plan.radios[0]
    assert radio_a.tx_enable
    assert radio_a.tx_freq_min_hz <= preset.tx_freq_min_hz <= preset.tx_freq_max_hz
    assert preset.tx_freq_max_hz <= radio_a.tx_freq_max_hz


def test_regulatory_eirp_limits() -> None:
    # ETSI EN 300 220: 25 mW ERP (16.15 dBm EIRP), band P 500 mW ERP (29.15 dBm EIRP)
    eu = region_preset("EU868").rules
    assert eu.max_eirp_dbm(868_100_000, 125_000) == pytest.approx(16.15)
    assert eu.max_eirp_dbm(869_525_000, 125_000) == pytest.approx(29.15)
    assert eu.max_eirp_dbm(869_800_000, 125_000) == pytest.approx(16.15)
    assert eu.max_eirp_dbm(868_650_000, 125_000) is None  # the gap 868.6-868.7 MHz
    limits = {
        n: region_preset(n).max_eirp_dbm
        for n in ("US915", "AU915", "AS923", "KR920", "IN865", "RU864", "CN470-SB1", "EU433")
    }
    assert limits == {"US915": 30, "AU915": 30, "AS923": 16, "KR920": 23, "IN865": 30,
                      "RU864": 16, "CN470-SB1": 19.15, "EU433": 12.15}  # fmt: skip


def test_us915_and_au915_downlinks_are_500_khz_lora_only() -> None:
    for name in ("US915", "AU915-SB5"):
        rules = region_preset(name).rules
        assert (rules.lora_bandwidths_hz, rules.fsk) == ((500_000,), False)
        assert rules.dwell_time_us == 400_000


def test_check_plan_refuses_an_if_outside_the_radio_window() -> None:
    plan = region_preset("KR920").plan
    chains = list(plan.multi_sf)
    chains[3] = type(chains[0])(True, 0, 750_000)
    with pytest.raises(PlanError, match="IF chain 3"):
        check_plan(ChipPlan(radios=plan.radios, multi_sf=tuple(chains)))


def global_conf(plan: ChipPlan) -> str:
    """The sx1302_hal global_conf.json an operator would have for this plan."""

    def radio(r) -> dict:
        out = {"enable": r.enable, "type": r.type, "freq": r.freq_hz,
               "rssi_offset": r.rssi_offset_db,
               "rssi_tcomp": dict(zip(("coeff_a", "coeff_b", "coeff_c", "coeff_d", "coeff_e"),
                                      r.rssi_tcomp, strict=True)),
               "tx_enable": r.tx_enable}  # fmt: skip
        if r.tx_enable:
            out |= {"tx_freq_min": r.tx_freq_min_hz, "tx_freq_max": r.tx_freq_max_hz,
                    "tx_gain_lut": [{"rf_power": g.rf_power_dbm, "pa_gain": g.pa_gain,
                                     "pwr_idx": g.pwr_idx} for g in r.tx_gain_lut]}  # fmt: skip
        return out

    sx: dict = {"com_type": "SPI", "com_path": "/dev/spidev0.0", "lorawan_public": True,
                "clksrc": 0, "antenna_gain": 0, "full_duplex": False,
                "radio_0": radio(plan.radios[0]), "radio_1": radio(plan.radios[1]),
                "chan_multiSF_All": {
                    "spreading_factor_enable": list(plan.spreading_factors)}}  # fmt: skip
    for n, c in enumerate(plan.multi_sf):
        sx[f"chan_multiSF_{n}"] = {"enable": c.enable, "radio": c.radio, "if": c.if_hz}
    std, fsk = plan.lora_std, plan.fsk
    sx["chan_Lora_std"] = {"enable": std.enable, "radio": std.radio, "if": std.if_hz,
                           "bandwidth": std.bandwidth_hz, "spread_factor": std.sf}  # fmt: skip
    sx["chan_FSK"] = {"enable": fsk.enable, "radio": fsk.radio, "if": fsk.if_hz,
                      "bandwidth": fsk.bandwidth_hz, "datarate": fsk.datarate_bps,
                      "freq_deviation": fsk.freq_deviation_hz}  # fmt: skip
    return json.dumps({"SX130x_conf": sx, "gateway_conf": {"gateway_ID": "0016C001FF1A08F0"}})


@pytest.mark.parametrize("name", NAMES)
def test_import_global_conf_round_trips_the_region(name: str) -> None:
    preset = region_preset(name)
    toml = convert(load_global_conf(global_conf(preset.plan)))
    cfg = parse_config(toml)
    assert cfg.concentrator.region == preset.name
    assert cfg.concentrator.plan == preset.plan


def test_start_up_log_names_the_missing_tx_gain_entries(caplog: pytest.LogCaptureFixture) -> None:
    from edge_agent.downlinks import make_scheduler

    text = '[concentrator]\nurl = "sim://"\nregion = "EU868"\nantenna_gain_dbi = 6.0\n'
    with caplog.at_level("WARNING", logger="edge_agent.downlinks"):
        make_scheduler(parse_config(text), lambda: 1)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 5  # bands K, L, M, N, Q: 16.15 dBm EIRP - 6 dBi < 12 dBm
    assert lines[0].startswith("RF chain 0: EU868 sub-band K (863-865 MHz) allows 16.15 dBm")
    caplog.clear()
    with caplog.at_level("WARNING", logger="edge_agent.downlinks"):
        make_scheduler(parse_config(text.replace("6.0", "2.0")), lambda: 1)
    assert caplog.records == []


def test_a_custom_plan_is_named_by_its_band_and_tx_range_with_a_note() -> None:
    # sx1302_hal's AS923 example plan: radios 922.3 / 923.1 MHz, channels 922.0-923.4, TX 920-924
    import dataclasses

    from drivers.sx1302.plan import MultiSfChannel

    base = region_preset("AS923").plan
    radio_a = dataclasses.replace(base.radios[0], freq_hz=922_300_000, tx_freq_min_hz=920_000_000,
                                  tx_freq_max_hz=924_000_000)  # fmt: skip
    radio_b = dataclasses.replace(base.radios[1], freq_hz=923_100_000)
    chans = [
        MultiSfChannel(True, r, f) for r in (0, 1) for f in (-300_000, -100_000, 100_000, 300_000)
    ]
    plan = dataclasses.replace(base, radios=(radio_a, radio_b), multi_sf=tuple(chans))
    toml = convert(load_global_conf(global_conf(plan)))
    assert 'region = "AS923"' in toml
    assert "# NOTE region: AS923 guessed from the band" in toml
    cfg = parse_config(toml)
    assert (cfg.concentrator.region, cfg.concentrator.plan) == ("AS923", plan)
