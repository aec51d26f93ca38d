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


# --- board presets: [concentrator] board and board_overrides -------------------------------------


def test_board_calibration_reaches_both_radios_of_the_plan() -> None:
    cfg = parse_config(
        '[concentrator]\nboard = "rak2287"\n[concentrator.board_overrides]\n'
        "rssi_offset_db = -210.5\nrssi_tcomp = [0.0, 0.0, 1.0, 2.0, 3.0]\n",
        "t",
    )
    for radio in cfg.concentrator.plan.radios:
        assert radio.rssi_offset_db == -210.5
        assert radio.rssi_tcomp == (0.0, 0.0, 1.0, 2.0, 3.0)


def test_explicit_radio_table_wins_over_the_board_calibration() -> None:
    cfg = parse_config(
        '[concentrator]\nboard = "rak2287"\n[concentrator.board_overrides]\n'
        "rssi_offset_db = -210.5\n[concentrator.radio_1]\nenable = true\n"
        "freq_hz = 868500000\nrssi_offset_db = -200.0\n",
        "t",
    )
    radio_a, radio_b = cfg.concentrator.plan.radios
    assert (radio_a.rssi_offset_db, radio_b.rssi_offset_db) == (-210.5, -200.0)


def test_board_gives_the_default_url_and_url_still_wins() -> None:
    spi = parse_config('[concentrator]\nboard = "rak2287"\n', "t").concentrator
    assert spi.url == "spi:///dev/spidev0.0"
    sim = parse_config('[concentrator]\nboard = "rak2287"\nurl = "sim://"\n', "t").concentrator
    assert sim.url == "sim://"


def test_unknown_board_names_the_key_and_the_known_boards() -> None:
    with pytest.raises(ConfigError, match=r"concentrator\.board: unknown board 'rak9999'.*rak2287"):
        parse_config('[concentrator]\nboard = "rak9999"\n', "t")


def test_board_overrides_without_a_board_is_an_error() -> None:
    with pytest.raises(ConfigError, match=r"concentrator\.board_overrides: needs"):
        parse_config("[concentrator.board_overrides]\nreset_pin = 17\n", "t")
