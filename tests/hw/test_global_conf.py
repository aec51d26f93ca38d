"""``config import-global-conf``: a Semtech global_conf.json becomes edge-agent TOML."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from edge_agent.cmd_config import GlobalConfError, convert, guess_region, load_global_conf

# EU868 Corecell example values from ref/sx1302.md §7 and §11, written out for the test
GLOBAL_CONF = """{
    "SX130x_conf": {
        "com_type": "SPI",
        "com_path": "/dev/spidev0.0", /* the SX1302 */
        "lorawan_public": true,
        "clksrc": 0,
        "antenna_gain": 0, // dBi
        "full_duplex": false,
        "radio_0": {
            "enable": true, "type": "SX1250", "freq": 867500000,
            "rssi_offset": -215.4,
            "rssi_tcomp": {"coeff_a": 0, "coeff_b": 0, "coeff_c": 20.41, "coeff_d": 2162.56,
                           "coeff_e": 0},
            "tx_enable": true, "tx_freq_min": 863000000, "tx_freq_max": 870000000,
            "tx_gain_lut": [
                {"rf_power": 12, "pa_gain": 0, "pwr_idx": 15},
                {"rf_power": 27, "pa_gain": 1, "pwr_idx": 14}
            ]
        },
        "radio_1": {
            "enable": true, "type": "SX1250", "freq": 868500000,
            "rssi_offset": -215.4,
            "rssi_tcomp": {"coeff_a": 0, "coeff_b": 0, "coeff_c": 20.41, "coeff_d": 2162.56,
                           "coeff_e": 0},
            "tx_enable": false
        },
        "chan_multiSF_All": {"spreading_factor_enable": [5, 6, 7, 8, 9, 10, 11, 12]},
        "chan_multiSF_0": {"enable": true, "radio": 1, "if": -400000},
        "chan_multiSF_1": {"enable": true, "radio": 1, "if": -200000},
        "chan_multiSF_2": {"enable": true, "radio": 1, "if": 0},
        "chan_multiSF_3": {"enable": true, "radio": 0, "if": -400000},
        "chan_multiSF_4": {"enable": true, "radio": 0, "if": -200000},
        "chan_multiSF_5": {"enable": true, "radio": 0, "if": 0},
        "chan_multiSF_6": {"enable": true, "radio": 0, "if": 200000},
        "chan_multiSF_7": {"enable": false, "radio": 0, "if": 400000},
        "chan_Lora_std": {"enable": true, "radio": 1, "if": -200000, "bandwidth": 250000,
                          "spread_factor": 7, "implicit_hdr": false},
        "chan_FSK": {"enable": true, "radio": 1, "if": 300000, "bandwidth": 125000,
                     "datarate": 50000}
    },
    "gateway_conf": {
        "gateway_ID": "AA555A0000000000",
        "server_address": "localhost", "serv_port_up": 1730, "serv_port_down": 1730,
        "forward_crc_valid": true, "forward_crc_error": true, "forward_crc_disabled": false,
        "gps_tty_path": "/dev/ttyS0",
        "ref_latitude": 52.5, "ref_longitude": 13.4, "ref_altitude": 35
    }
}
"""


@pytest.fixture
def imported() -> dict:
    return tomllib.loads(convert(load_global_conf(GLOBAL_CONF)))


def test_gateway_id_is_lower_cased_and_location_kept(imported: dict) -> None:
    assert imported["gateway"] == {
        "id": "aa555a0000000000",
        "latitude": 52.5,
        "longitude": 13.4,
        "altitude": 35,
    }


def test_spi_path_becomes_the_concentrator_url_and_region_is_guessed(imported: dict) -> None:
    assert imported["concentrator"]["url"] == "spi:///dev/spidev0.0"
    assert imported["concentrator"]["region"] == "EU868"
    assert imported["concentrator"]["antenna_gain_dbi"] == 0.0


def test_radio_calibration_and_tx_gain_table_are_carried(imported: dict) -> None:
    radio = imported["concentrator"]["radio_0"]
    assert radio["freq_hz"] == 867_500_000
    assert radio["rssi_offset_db"] == -215.4
    assert radio["rssi_tcomp"] == [0.0, 0.0, 20.41, 2162.56, 0.0]
    assert (radio["tx_freq_min_hz"], radio["tx_freq_max_hz"]) == (863_000_000, 870_000_000)
    assert radio["tx_gain_lut"][1] == {"rf_power_dbm": 27, "pa_gain": 1, "pwr_idx": 14}
    assert imported["concentrator"]["radio_1"]["tx_enable"] is False


def test_all_eight_multi_sf_chains_keep_their_index_and_enable_flag(imported: dict) -> None:
    channels = imported["concentrator"]["channels"]
    assert len(channels["multi_sf"]) == 8
    assert channels["multi_sf"][0] == {"enable": True, "radio": 1, "if_hz": -400000}
    assert channels["multi_sf"][7] == {"enable": False, "radio": 0, "if_hz": 400000}
    assert channels["spreading_factors"] == [5, 6, 7, 8, 9, 10, 11, 12]
    assert channels["lorawan_public"] is True


def test_lora_std_and_fsk_channels(imported: dict) -> None:
    channels = imported["concentrator"]["channels"]
    assert channels["lora_std"] == {
        "enable": True,
        "radio": 1,
        "if_hz": -200000,
        "bandwidth_hz": 250000,
        "sf": 7,
    }
    assert channels["fsk"]["datarate_bps"] == 50000
    assert channels["fsk"]["bandwidth_hz"] == 125000


def test_gps_tty_and_crc_filters(imported: dict) -> None:
    assert imported["gps"] == {"tty": "/dev/ttyS0"}
    assert imported["mqtt"]["filters"] == {
        "forward_crc_ok": True,
        "forward_crc_bad": True,
        "forward_crc_none": False,
    }


def test_unmapped_keys_are_listed_as_a_comment() -> None:
    text = convert(load_global_conf(GLOBAL_CONF))
    assert "# not imported" in text
    assert "gateway_conf.server_address" in text
    assert "clksrc" in text


def test_usb_com_type_gives_a_usb_url() -> None:
    conf = load_global_conf(GLOBAL_CONF.replace('"SPI"', '"usb"'))
    conf["SX130x_conf"]["com_path"] = "/dev/ttyACM0"
    assert tomllib.loads(convert(conf))["concentrator"]["url"] == "usb:///dev/ttyACM0"


def test_region_is_not_guessed_outside_known_bands() -> None:
    assert guess_region([433_175_000]) is None
    assert guess_region([904_300_000, 905_000_000]) == "US915"


def test_a_file_without_sx130x_conf_is_refused() -> None:
    with pytest.raises(GlobalConfError, match="SX130x_conf"):
        load_global_conf('{"gateway_conf": {}}')


def test_cli_prints_toml_to_stdout_or_a_file(tmp_path: Path) -> None:
    source = tmp_path / "global_conf.json"
    source.write_text(GLOBAL_CONF)
    base = [sys.executable, "-m", "edge_agent.cli", "config", "import-global-conf", str(source)]
    printed = subprocess.run(base, capture_output=True, text=True, check=True)
    assert tomllib.loads(printed.stdout)["gateway"]["id"] == "aa555a0000000000"
    subprocess.run([*base, "-o", str(tmp_path / "out.toml")], check=True)
    assert (tmp_path / "out.toml").read_text() == printed.stdout


def test_imported_tables_build_the_chip_plan_directly(imported: dict) -> None:
    from drivers.sx1302.plan import (
        ChipPlan,
        FskChannel,
        LoraStdChannel,
        MultiSfChannel,
        RadioPlan,
        TxGain,
        eu868_corecell_plan,
    )

    conc = imported["concentrator"]
    radios = []
    for n in (0, 1):
        radio = dict(conc[f"radio_{n}"])
        radio["rssi_tcomp"] = tuple(radio["rssi_tcomp"])
        radio["tx_gain_lut"] = tuple(TxGain(**e) for e in radio.get("tx_gain_lut", []))
        radios.append(RadioPlan(**radio))
    chans = dict(conc["channels"])
    plan = ChipPlan(
        radios=(radios[0], radios[1]),
        multi_sf=tuple(MultiSfChannel(**c) for c in chans.pop("multi_sf")),
        lora_std=LoraStdChannel(**chans.pop("lora_std")),
        fsk=FskChannel(**chans.pop("fsk")),
        spreading_factors=tuple(chans.pop("spreading_factors")),
        **chans,
    )
    reference = eu868_corecell_plan()
    assert [plan.chain_freq_hz(n) for n in (0, 1, 2, 3, 8, 9)] == [
        reference.chain_freq_hz(n) for n in (0, 1, 2, 3, 8, 9)
    ]
    assert (plan.lora_std, plan.fsk) == (reference.lora_std, reference.fsk)
    assert plan.radios[0].tx_gain_lut[0] == reference.radios[0].tx_gain_lut[0]
