"""The TOML configuration: defaults, contract keys, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_agent.config import load_config, parse_config
from edge_agent.errors import ConfigError
from edge_agent.spool_config import SpoolConfig

CONTRACT = """
[gateway]
id = "0016C001FF10A235"
[concentrator]
url = "sim://"
region = "EU868"
[concentrator.sim]
scenario = "scen.jsonl"
exit_when_done = true
speed = 4
[mqtt]
server = "tcp://127.0.0.1:18830"
topic_prefix = "eu868"
marshaler = "json"
qos = 2
username = "gw"
password = "secret"
[mqtt.filters]
forward_crc_bad = true
"""


def test_empty_file_gives_documented_defaults() -> None:
    cfg = parse_config("")
    assert cfg.gateway.id is None
    assert cfg.gateway.stats_interval_s == 30.0
    assert cfg.concentrator.url == "sim://"
    assert cfg.concentrator.region == "EU868"
    assert (cfg.mqtt.server, cfg.mqtt.topic_prefix, cfg.mqtt.marshaler, cfg.mqtt.qos) == (
        "tcp://127.0.0.1:1883",
        "eu868",
        "protobuf",
        1,
    )
    assert (cfg.mqtt.filters.forward_crc_ok, cfg.mqtt.filters.forward_crc_bad) == (True, False)
    assert cfg.mqtt.filters.forward_crc_none is False
    assert cfg.log.level == "INFO"


def test_contract_keys_are_read() -> None:
    cfg = parse_config(CONTRACT)
    assert cfg.gateway.id == "0016c001ff10a235"
    assert cfg.concentrator.sim.scenario == "scen.jsonl"
    assert cfg.concentrator.sim.exit_when_done is True
    assert cfg.concentrator.sim.options == {"speed": 4}
    assert (cfg.mqtt.host, cfg.mqtt.port, cfg.mqtt.tls) == ("127.0.0.1", 18830, False)
    assert (cfg.mqtt.marshaler, cfg.mqtt.qos, cfg.mqtt.username) == ("json", 2, "gw")
    assert cfg.mqtt.filters.forward_crc_bad is True


def test_password_is_not_in_repr() -> None:
    assert "secret" not in repr(parse_config(CONTRACT))


def test_region_preset_fills_plan_and_prefix() -> None:
    cfg = parse_config('[concentrator]\nregion = "US915"')
    assert cfg.mqtt.topic_prefix == "us915_1"
    assert cfg.concentrator.plan.chain_freq_hz(0) == 903_900_000


def test_explicit_topic_prefix_wins_over_region() -> None:
    cfg = parse_config('[concentrator]\nregion = "US915"\n[mqtt]\ntopic_prefix = ""')
    assert cfg.mqtt.topic("0016c001ff10a235", "event/up") == "gateway/0016c001ff10a235/event/up"


def test_topic_has_prefix() -> None:
    cfg = parse_config("")
    assert cfg.mqtt.topic("00aa", "state/conn") == "eu868/gateway/00aa/state/conn"


def test_mqtts_server_is_tls_on_8883_by_default() -> None:
    cfg = parse_config('[mqtt]\nserver = "mqtts://broker.example"')
    assert (cfg.mqtt.tls, cfg.mqtt.port) == (True, 8883)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[mqtt]\nqos = 3", "mqtt.qos: must be 0, 1 or 2"),
        ("[mqtt]\nqos = true", "mqtt.qos: must be an integer"),
        ('[mqtt]\nqos = "1"', "mqtt.qos: must be an integer, got a string"),
        ('[mqtt]\nmarshaler = "xml"', 'mqtt.marshaler: must be "protobuf" or "json"'),
        ('[mqtt]\nserver = "http://x:1"', "mqtt.server: must be tcp://HOST:PORT"),
        ('[mqtt]\nserver = "tcp://x:99999"', "mqtt.server: port must be 1..65535"),
        ("[mqtt]\nqoss = 1", "mqtt.qoss: unknown key"),
        ("[mqtt.filters]\nforward_crc_bda = true", "mqtt.filters.forward_crc_bda: unknown key"),
        ("[gatway]\nid = 1", "gatway: unknown key"),
        ('[gateway]\nid = "0016c001ff10a2"', "gateway.id: must be 16 hexadecimal characters"),
        ('[gateway]\nid = "0016c001ff10a2zz"', "gateway.id: must be 16 hexadecimal characters"),
        ("[gateway]\nstats_interval_s = 0", "gateway.stats_interval_s: must be greater than 0"),
        ('[concentrator]\nregion = "CN470"', "concentrator.region: must be one of EU868, US915"),
        ('[concentrator]\nurl = "spidev0"', "concentrator.url: must be a URL"),
        ('[mqtt]\npassword = "x"', "mqtt.password: needs mqtt.username"),
        ('[mqtt]\nca_cert = "/x.pem"', "mqtt.ca_cert: needs an mqtts:// server"),
        ('[mqtt]\nserver = "mqtts://h"\nca_cert = "/nope.pem"', "mqtt.ca_cert: file not found"),
        ('[mqtt]\nserver = "mqtts://h"\ntls_cert = "/c"', "mqtt.tls_key: mqtt.tls_cert and"),
        ('[log]\nlevel = "LOUD"', "log.level: must be one of TRACE, DEBUG"),
        ("mqtt = 1", "mqtt: must be a table, got int"),
    ],
)
def test_bad_value_names_key_and_allowed(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    assert str(info.value).startswith(message)


def test_error_carries_the_dotted_key() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config("[mqtt]\nqos = 7")
    assert info.value.key == "mqtt.qos"


def test_invalid_toml_reports_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[mqtt]\nserver = "tcp://x:1"\nqos = = 1\n')
    with pytest.raises(ConfigError, match=r"bad.toml: invalid TOML: .*line 3"):
        load_config(path)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_config(tmp_path / "absent.toml")


def test_regulation_table_keeps_enforce_duty_cycle() -> None:
    cfg = parse_config("[regulation]\nenforce_duty_cycle = true")
    assert cfg.regulation == {"enforce_duty_cycle": True}


def test_unknown_regulation_key_is_an_error() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config("[regulation]\nenforce_dutycycle = false")
    assert info.value.key == "regulation.enforce_dutycycle"


def test_spool_table_is_validated_into_spool_config() -> None:
    cfg = parse_config('[spool]\npath = "/var/lib/x"\nmax_bytes = "1MiB"\ndrain_max_per_s = 50')
    assert cfg.spool == SpoolConfig(path="/var/lib/x", max_bytes=1024 * 1024, drain_max_per_s=50.0)


def test_spool_defaults_without_a_spool_table() -> None:
    assert parse_config("").spool == SpoolConfig()


def test_bad_spool_key_is_a_config_error_naming_it() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config("[spool]\ncommit_interval_ms = -1")
    assert err.value.key == "spool.commit_interval_ms"


def test_load_config_records_source_path(tmp_path: Path) -> None:
    path = tmp_path / "ok.toml"
    path.write_text(CONTRACT)
    assert load_config(path).source_path == path
