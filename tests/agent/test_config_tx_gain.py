"""Which TX gain table a radio gets: [concentrator.radio_N] tx_gain_lut > the board vendor's
table for the region > the region preset's (Semtech Corecell reference)."""

from __future__ import annotations

import pytest

from drivers.boards import board_preset
from drivers.sx1302.plan import TxGain, eu868_corecell_plan
from edge_agent.config import parse_config
from edge_agent.errors import ConfigError

REFERENCE = eu868_corecell_plan()


def _plan(board: str | None = None, region: str = "EU868", extra: str = ""):
    text = f'[concentrator]\nurl = "sim://"\nregion = "{region}"\n'
    if board:
        text += f'board = "{board}"\n'
    return parse_config(text + extra).concentrator.plan


def test_a_rak_board_transmits_with_rak_s_table() -> None:
    lut = _plan("rak2287").radios[0].tx_gain_lut
    assert TxGain(16, 1, 8) in lut
    assert lut == board_preset("rak2287").tx_gain_table("EU868").entries


def test_the_board_table_follows_the_region() -> None:
    lut = _plan("rak5146", region="US915").radios[0].tx_gain_lut
    assert TxGain(16, 1, 10) in lut


def test_without_a_board_the_reference_table_stays() -> None:
    assert _plan().radios[0].tx_gain_lut == REFERENCE.radios[0].tx_gain_lut


def test_radio_table_with_only_tx_gain_lut_overrides_the_board() -> None:
    extra = (
        "[concentrator.radio_0]\n"
        "tx_gain_lut = [{ rf_power_dbm = 10, pa_gain = 0, pwr_idx = 12 },"
        " { rf_power_dbm = 14, pa_gain = 1, pwr_idx = 5 }]\n"
    )
    plan = _plan("rak2287", extra=extra)
    assert plan.radios[0].tx_gain_lut == (TxGain(10, 0, 12), TxGain(14, 1, 5))
    # the rest of radio A is the region preset's
    assert plan.radios[0].freq_hz == REFERENCE.radios[0].freq_hz
    assert plan.radios[0].tx_enable is True


def test_a_lut_the_hal_would_refuse_names_the_key() -> None:
    extra = (
        "[concentrator.radio_0]\ntx_gain_lut = [{ rf_power_dbm = 14, pa_gain = 1, pwr_idx = 23 }]\n"
    )
    with pytest.raises(
        ConfigError, match=r"concentrator\.radio_0\.tx_gain_lut.*pwr_idx must be 0\.\.22"
    ):
        _plan(extra=extra)


def test_the_vendor_cannot_be_overridden_but_the_table_can() -> None:
    extra = '[concentrator.board_overrides]\ntx_gain_vendor = "semtech"\n'
    with pytest.raises(ConfigError, match="unknown board setting"):
        _plan("rak2287", extra=extra)


@pytest.mark.parametrize("region", ["US915-SB1", "AU915-SB4", "AU915"])
def test_a_sub_band_preset_takes_the_vendor_table_of_its_band(region: str) -> None:
    family = region.split("-")[0]
    lut = _plan("rak5146", region=region).radios[0].tx_gain_lut
    assert lut == board_preset("rak5146").tx_gain_table(family).entries


def test_an_as923_variant_takes_the_vendor_s_as923_table() -> None:
    lut = _plan("rak2287", region="AS923-3").radios[0].tx_gain_lut
    assert lut == board_preset("rak2287").tx_gain_table("AS923").entries
