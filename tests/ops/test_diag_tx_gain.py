"""``diag radios`` shows the TX gain table downlinks use, and where it comes from."""

from __future__ import annotations

import pytest

import edge_agent.diag.core as core
from edge_agent.config import parse_config
from tests.ops.conftest import run_one


@pytest.fixture
def config(monkeypatch: pytest.MonkeyPatch, tmp_path):
    """Load the given TOML (a real AgentConfig) as diag's config; no daemon answers."""

    def install(concentrator: str) -> None:
        text = f'[concentrator]\nurl = "sim://"\n{concentrator}\n'
        text += f'[status]\nsocket = "{tmp_path / "none.sock"}"\n'
        cfg = parse_config(text)
        monkeypatch.setattr(core, "_load_config", lambda _path: cfg)

    return install


def test_diag_radios_shows_the_board_vendor_table(config) -> None:
    config('region = "EU868"\nboard = "rak2287"')
    result = run_one("radios")
    assert result.status == "pass", result
    assert (
        "radio A TX gain table (board rak2287, RAKWireless/rak_common_for_gateway" in result.detail
    )
    assert "global_conf.eu_863_870.json): 12 dBm PA1/4, 13 dBm PA1/5" in result.detail
    assert "16 dBm PA1/8" in result.detail


def test_diag_radios_shows_the_region_reference_table_without_a_board(config) -> None:
    config('region = "EU868"')
    detail = run_one("radios").detail
    assert "(region EU868 preset, Semtech Corecell reference): 12 dBm PA0/15" in detail


def test_diag_radios_shows_a_configured_table(config) -> None:
    lut = (
        "[{ rf_power_dbm = 8, pa_gain = 0, pwr_idx = 9 },"
        " { rf_power_dbm = 14, pa_gain = 1, pwr_idx = 5 }]"
    )
    config(f'region = "EU868"\nboard = "rak2287"\n[concentrator.radio_0]\ntx_gain_lut = {lut}')
    detail = run_one("radios").detail
    assert detail.endswith(
        "; radio A TX gain table ([concentrator.radio_0] tx_gain_lut): 8 dBm PA0/9, 14 dBm PA1/5"
    )
