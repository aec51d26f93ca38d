"""Hostile and broken configurations (issue 14): each is one line on stderr, exit 2, key named.

Every case goes through the command line (``edge-agent config check -c FILE``, in-process); a
few also through ``edge-agent run -c FILE`` in a subprocess, to show no traceback escapes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from edge_agent.cli import main

CS = '[[backend]]\nname = "n"\ntype = "chirpstack"\n'
UDP = '[[backend]]\nname = "u"\ntype = "semtech_udp"\nserver = "udp://h:1700"\n'
RADIO = "[concentrator.radio_0]\nenable = true\nfreq_hz = 867500000\n"

#: (TOML text, the dotted key the one-line error must name)
CASES = [
    # numbers: finite and in range (nan/inf busy-looped or killed threads before)
    ("[gateway]\nstats_interval_s = nan", "gateway.stats_interval_s"),
    ("[gateway]\nstats_interval_s = inf", "gateway.stats_interval_s"),
    ("[gateway]\nstats_interval_s = -inf", "gateway.stats_interval_s"),
    ("[gateway]\nstats_interval_s = 0", "gateway.stats_interval_s"),
    ("[gateway]\nstats_interval_s = 1e9", "gateway.stats_interval_s"),
    ("[gateway]\nlatitude = nan", "gateway.latitude"),
    ("[gateway]\nlongitude = 181", "gateway.longitude"),
    ("[gateway]\naltitude = inf", "gateway.altitude"),
    ("[concentrator]\ntemperature_c = inf", "concentrator.temperature_c"),
    ("[concentrator]\ntemperature_c = 1000", "concentrator.temperature_c"),
    ("[concentrator]\nantenna_gain_dbi = nan", "concentrator.antenna_gain_dbi"),
    ("[mqtt]\nreconnect_min_s = nan", "mqtt.reconnect_min_s"),
    ("[mqtt]\nreconnect_min_s = 0", "mqtt.reconnect_min_s"),
    ("[mqtt]\nreconnect_max_s = inf", "mqtt.reconnect_max_s"),
    ("[mqtt]\nreconnect_min_s = 10\nreconnect_max_s = 5", "mqtt.reconnect_max_s"),
    ("[mqtt]\nkeepalive_s = 100000", "mqtt.keepalive_s"),
    ("[mqtt]\nkeepalive_s = 2", "mqtt.keepalive_s"),
    ("[mqtt]\nqueue_max_uplinks = 0", "mqtt.queue_max_uplinks"),
    ("[mqtt]\nqueue_max_uplinks = 1e3", "mqtt.queue_max_uplinks"),
    ("[spool]\ncommit_interval_ms = 1e20", "spool.commit_interval_ms"),
    ("[spool]\ncommit_interval_ms = 100000000000000000000", "spool.commit_interval_ms"),
    ("[spool]\ncommit_interval_ms = 3600000", "spool.commit_interval_ms"),
    ("[spool]\nmax_age_s = nan", "spool.max_age_s"),
    ("[spool]\ndrain_max_per_s = inf", "spool.drain_max_per_s"),
    ('[spool]\nmax_bytes = "99999GiB"', "spool.max_bytes"),
    (UDP + "keepalive_interval_s = nan", "backend[0].keepalive_interval_s"),
    (UDP + "stat_interval_s = inf", "backend[0].stat_interval_s"),
    (UDP + "push_timeout_ms = -1", "backend[0].push_timeout_ms"),
    # ports and URLs (port 0 became 1883 and reached the wrong broker)
    ('[mqtt]\nserver = "tcp://broker:0"', "mqtt.server"),
    ('[mqtt]\nserver = "tcp://broker:65536"', "mqtt.server"),
    ('[mqtt]\nserver = "tcp://broker:-1"', "mqtt.server"),
    ('[mqtt]\nserver = "tcp://broker:http"', "mqtt.server"),
    ('[mqtt]\nserver = "tcp://[::1:1883"', "mqtt.server"),
    ('[mqtt]\nserver = "tcp://"', "mqtt.server"),
    ('[mqtt]\nserver = "tcp://user:pw@broker:1883"', "mqtt.server"),
    ('[mqtt]\nserver = "mqtts://token@broker"', "mqtt.server"),
    ('[mqtt]\nserver = "tcp://broker:1883/path"', "mqtt.server"),
    (f'[mqtt]\nserver = "tcp://{"h" * 300}:1883"', "mqtt.server"),
    (UDP.replace("udp://h:1700", "udp://h:0"), "backend[0].server"),
    (UDP.replace("udp://h:1700", "udp://u:p@h:1700"), "backend[0].server"),
    (UDP + "port_down = 70000", "backend[0].port_down"),
    ('[concentrator]\nurl = "spi://[::1"', "concentrator.url"),
    ('[concentrator]\nurl = "ftp://x"', "concentrator.url"),
    ('[gps]\ntty = "gpsd://[::1:2947"', "gps.tty"),
    ('[gps]\ntty = "http://gps:2947"', "gps.tty"),
    # wrong types (rssi_tcomp as a string or a table crashed before)
    (RADIO + 'rssi_tcomp = "1,2,3,4,5"', "concentrator.radio_0.rssi_tcomp"),
    (RADIO + "rssi_tcomp = { a = 1 }", "concentrator.radio_0.rssi_tcomp"),
    (RADIO + "rssi_tcomp = [1, 2, 3]", "concentrator.radio_0.rssi_tcomp"),
    (RADIO + 'rssi_tcomp = [1, 2, 3, 4, "e"]', "concentrator.radio_0.rssi_tcomp[4]"),
    (RADIO + "rssi_tcomp = [1, 2, 3, 4, nan]", "concentrator.radio_0.rssi_tcomp[4]"),
    (RADIO + "rssi_offset_db = inf", "concentrator.radio_0.rssi_offset_db"),
    (RADIO + "tx_gain_lut = 5", "concentrator.radio_0.tx_gain_lut"),
    (
        RADIO + "tx_gain_lut = [{ rf_power_dbm = 14 }]",
        "concentrator.radio_0.tx_gain_lut[0].pa_gain",
    ),
    (RADIO + 'tx_gain_lut = [1, "x"]', "concentrator.radio_0.tx_gain_lut[0]"),
    ("[concentrator.radio_0]\nenable = true", "concentrator.radio_0.freq_hz"),
    ("[concentrator.radio_0]\nenable = true\nfreq_hz = 8.675e8", "concentrator.radio_0.freq_hz"),
    ("[concentrator.radio_0]\nenable = 1\nfreq_hz = 867500000", "concentrator.radio_0.enable"),
    ("[concentrator]\nradio_0 = 5", "concentrator.radio_0"),
    (
        "[concentrator.channels]\nspreading_factors = [4]",
        "concentrator.channels.spreading_factors[0]",
    ),
    ("[concentrator.channels]\nmulti_sf = 8", "concentrator.channels.multi_sf"),
    (
        "[concentrator.channels]\nlora_std = { enable = true, sf = 13 }",
        "concentrator.channels.lora_std.sf",
    ),
    ("[concentrator.channels]\nclksrc = 2", "concentrator.channels.clksrc"),
    ("[concentrator]\nsim = 3", "concentrator.sim"),
    ("[concentrator.sim]\nexit_when_done = 'yes'", "concentrator.sim.exit_when_done"),
    ('[concentrator]\nregion = ["EU868"]', "concentrator.region"),
    ("gateway = []", "gateway"),
    ("[mqtt]\nfilters = true", "mqtt.filters"),
    ('[mqtt]\nqos = "1"', "mqtt.qos"),
    ("[mqtt]\nusername = 5", "mqtt.username"),
    ('[status]\nsocket = ""', "status.socket"),
    ("[regulation]\nenforce_duty_cycle = 1", "regulation.enforce_duty_cycle"),
    ("[log]\nlevel = 3", "log.level"),
    # lengths: ids, client ids, prefixes, names
    (f'[mqtt]\nclient_id = "{"c" * 70_000}"', "mqtt.client_id"),
    ('[mqtt]\nclient_id = ""', "mqtt.client_id"),
    (f'[mqtt]\ntopic_prefix = "{"p" * 200}"', "mqtt.topic_prefix"),
    ('[mqtt]\ntopic_prefix = "eu868/"', "mqtt.topic_prefix"),
    ('[mqtt]\ntopic_prefix = "a/#"', "mqtt.topic_prefix"),
    (f'[mqtt]\nusername = "{"u" * 300}"', "mqtt.username"),
    ('[mqtt]\nclient_id = "gw\\u0000x"', "mqtt.client_id"),
    (f'[gateway]\nid = "{"0" * 70_000}"', "gateway.id"),
    (f'[status]\nsocket = "/run/{"s" * 200}.sock"', "status.socket"),
    (f'[spool]\npath = "/var/{"d" * 5000}"', "spool.path"),
    (CS.replace('"n"', f'"{"n" * 65}"'), "backend[0].name"),
    ('[mqtt.filters]\ndev_addr_prefixes = ["260000000000/7"]', "mqtt.filters.dev_addr_prefixes[0]"),
    (
        '[mqtt.filters]\njoin_eui_prefixes = ["70b3d57ed0000000/65"]',
        "mqtt.filters.join_eui_prefixes[0]",
    ),
    ("[mqtt.filters]\nnet_ids = [-1]", "mqtt.filters.net_ids[0]"),
    # structure
    ('"a\\nb" = 1', "a\\nb"),
    ("[mqtt.filters.more]\nx = 1", "mqtt.filters.more"),
    (CS + "server = 1883", "backend[0].server"),
    ("[[backend]]\nname = 5\ntype = 'chirpstack'", "backend[0].name"),
    ("[[backend]]\nname = 'x'\ntype = ['chirpstack']", "backend[0].type"),
    ("[[backend]]\nname = 'x'\ntype = 'semtech_udp'\nserver = 5", "backend[0].server"),
]


@pytest.mark.parametrize(("text", "key"), CASES, ids=[key for _, key in CASES])
def test_malformed_config_is_one_line_exit_2_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, key: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    assert main(["config", "check", "-c", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.startswith(f"edge-agent: configuration error: {key}: "), err
    assert len(err) < 600


def test_at_least_60_malformed_configs() -> None:
    assert len(CASES) >= 60


def test_credentials_in_the_url_say_where_they_go(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[mqtt]\nserver = "tcp://gw:s3cret@broker:1883"')
    assert main(["config", "check", "-c", str(path)]) == 2
    err = capsys.readouterr().err
    assert "put them in the username and password keys" in err
    assert "s3cret" not in err


def test_a_valid_config_checks_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config.toml"
    path.write_text(UDP + CS.replace('"n"', '"metro"'))
    assert main(["config", "check", "-c", str(path)]) == 0
    assert "backends: u (semtech_udp), metro (chirpstack)" in capsys.readouterr().out


def test_oversized_and_deeply_nested_files_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.toml"
    path.write_text("# " + "x" * (2 * 1024 * 1024))
    assert main(["config", "check", "-c", str(path)]) == 2
    path.write_text("a = " + "[" * 50_000 + "]" * 50_000)
    assert main(["config", "check", "-c", str(path)]) == 2
    path.write_bytes(b"\xff\xfe[mqtt]")
    assert main(["config", "check", "-c", str(path)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3 and all(
        line.startswith("edge-agent: configuration error:") for line in lines
    )


@pytest.mark.parametrize(
    "text",
    [
        '[mqtt]\nserver = "tcp://[::1:1883"',
        RADIO + 'rssi_tcomp = "1,2,3,4,5"',
        "[gateway]\nstats_interval_s = nan",
        '[mqtt]\nserver = "tcp://broker:0"',
    ],
)
def test_run_exits_2_without_a_traceback(tmp_path: Path, text: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    done = subprocess.run(
        [sys.executable, "-m", "edge_agent.cli", "run", "-c", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and "configuration error" in done.stderr
