"""The explicit channel plan in the config, and import-global-conf output loading as a config."""

from __future__ import annotations

import dataclasses

import pytest

from drivers.sx1302.plan import eu868_corecell_plan
from edge_agent.cmd_config import convert, load_global_conf
from edge_agent.config import load_config, parse_config
from edge_agent.errors import ConfigError
from tests.hw.test_global_conf import GLOBAL_CONF

BASE = '[concentrator]\nurl = "sim://"\nregion = "EU868"\n'


def test_import_global_conf_output_loads_with_load_config(tmp_path) -> None:
    path = tmp_path / "edge-agent.toml"
    path.write_text(convert(load_global_conf(GLOBAL_CONF)))
    cfg = load_config(path)
    reference = eu868_corecell_plan()
    plan = cfg.concentrator.plan
    assert [plan.chain_freq_hz(n) for n in range(10)] == [
        reference.chain_freq_hz(n) for n in range(10)
    ]
    assert (plan.lora_std, plan.fsk) == (reference.lora_std, reference.fsk)
    assert plan.radios[0].tx_gain_lut[0] == reference.radios[0].tx_gain_lut[0]
    assert cfg.gps == {"tty": "/dev/ttyS0"}


def test_explicit_radio_table_overrides_the_preset_radio() -> None:
    text = BASE + "[concentrator.radio_0]\nenable = true\nfreq_hz = 867100000\n"
    plan = parse_config(text).concentrator.plan
    assert plan.radios[0].freq_hz == 867_100_000
    assert plan.radios[1] == eu868_corecell_plan().radios[1]


def test_explicit_channels_override_the_preset_chains() -> None:
    chains = ", ".join(f"{{ enable = true, radio = 0, if_hz = {i * 100_000} }}" for i in range(8))
    text = BASE + f"[concentrator.channels]\nmulti_sf = [{chains}]\nlorawan_public = false\n"
    plan = parse_config(text).concentrator.plan
    assert [c.if_hz for c in plan.multi_sf] == [i * 100_000 for i in range(8)]
    assert plan.lorawan_public is False
    assert plan.lora_std == eu868_corecell_plan().lora_std


def test_wrong_number_of_multi_sf_chains_names_the_key() -> None:
    text = BASE + "[concentrator.channels]\nmulti_sf = [{ enable = true }]\n"
    with pytest.raises(ConfigError, match=r"concentrator.channels.multi_sf: must list exactly 8"):
        parse_config(text)


def test_unknown_radio_key_names_the_key_and_the_allowed_ones() -> None:
    text = BASE + "[concentrator.radio_1]\nfreq = 1\n"
    with pytest.raises(ConfigError, match=r"concentrator.radio_1.freq: unknown key \(allowed: "):
        parse_config(text)


def test_gps_table_accepts_only_tty() -> None:
    assert parse_config(BASE + '[gps]\ntty = "gpsd://127.0.0.1:2947"\n').gps == {
        "tty": "gpsd://127.0.0.1:2947"
    }
    with pytest.raises(ConfigError, match=r"gps\.baud: unknown key"):
        parse_config(BASE + "[gps]\nbaud = 9600\n")


def test_without_explicit_tables_the_preset_plan_is_kept() -> None:
    plan = parse_config(BASE).concentrator.plan
    assert dataclasses.asdict(plan) == dataclasses.asdict(eu868_corecell_plan())
