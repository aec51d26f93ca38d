"""``[[backend]]`` tables, the legacy ``[mqtt]`` table as backend "chirpstack", and filters."""

from __future__ import annotations

import pytest

from edge_agent.config import BackendFilters, FilterConfig, parse_config
from edge_agent.errors import ConfigError

TWO_NETWORKS = """
[[backend]]
name = "metro"
type = "chirpstack"
server = "tcp://10.0.0.1:1884"
topic_prefix = "eu868"
username = "gw"
password = "pw"
[backend.filters]
forward_crc_invalid = true
dev_addr_prefixes = ["26000000/7", "FC00AC00/24"]
net_ids = ["000013", 0x60002D]

[[backend]]
name = "community"
type = "semtech_udp"
server = "udp://eu1.cloud.example:1700"
port_down = 1701
keepalive_interval_s = 5
stat_interval_s = 60
push_timeout_ms = 250
[backend.filters]
lorawan_only = true
join_eui_prefixes = ["70b3d57ed0000000/32"]
"""


def test_legacy_mqtt_table_is_one_chirpstack_backend() -> None:
    cfg = parse_config('[mqtt]\nserver = "tcp://h:1884"\n[mqtt.filters]\nforward_crc_bad = true')
    (backend,) = cfg.backends
    assert (backend.name, backend.type, backend.udp) == ("chirpstack", "chirpstack", None)
    assert backend.mqtt is cfg.mqtt
    assert backend.mqtt is not None and backend.mqtt.port == 1884
    assert backend.filters.forward_crc_bad is True
    assert backend.mqtt.filters is backend.filters


def test_empty_config_has_the_default_chirpstack_backend() -> None:
    (backend,) = parse_config("").backends
    assert backend.name == "chirpstack"
    assert backend.mqtt is not None and backend.mqtt.server == "tcp://127.0.0.1:1883"
    assert backend.filters == BackendFilters()


def test_backend_tables_are_read_in_order() -> None:
    cfg = parse_config(TWO_NETWORKS)
    metro, community = cfg.backends
    assert (metro.name, metro.type) == ("metro", "chirpstack")
    assert metro.mqtt is not None and (metro.mqtt.host, metro.mqtt.port) == ("10.0.0.1", 1884)
    assert metro.mqtt.username == "gw"
    assert metro.filters.forward_crc_bad is True
    assert metro.filters.dev_addr_prefixes == ("26000000/7", "fc00ac00/24")
    assert metro.filters.net_ids == (0x13, 0x60002D)
    assert cfg.mqtt is metro.mqtt
    assert (community.name, community.type, community.mqtt) == ("community", "semtech_udp", None)
    udp = community.udp
    assert udp is not None
    assert (udp.host, udp.port_up, udp.port_down_or_up) == ("eu1.cloud.example", 1700, 1701)
    assert (udp.keepalive_interval_s, udp.stat_interval_s, udp.push_timeout_ms) == (5, 60, 250)
    assert community.filters.lorawan_only is True
    assert community.filters.join_eui_prefixes == ("70b3d57ed0000000/32",)


def test_semtech_udp_defaults_and_one_port() -> None:
    cfg = parse_config('[[backend]]\nname = "u"\ntype = "semtech_udp"\nserver = "udp://[::1]:1700"')
    (backend,) = cfg.backends
    assert cfg.mqtt is None
    udp = backend.udp
    assert udp is not None
    assert (udp.host, udp.port_up, udp.port_down, udp.port_down_or_up) == ("::1", 1700, None, 1700)
    assert (udp.keepalive_interval_s, udp.stat_interval_s, udp.push_timeout_ms) == (10.0, 30.0, 100)


def test_mqtt_and_backend_tables_coexist_with_mqtt_first() -> None:
    text = '[mqtt]\nserver = "tcp://a:1883"\n' + TWO_NETWORKS
    names = [b.name for b in parse_config(text).backends]
    assert names == ["chirpstack", "metro", "community"]


def test_filter_config_is_the_old_name_of_backend_filters() -> None:
    assert FilterConfig is BackendFilters


def test_prefix_without_bits_is_the_whole_address() -> None:
    cfg = parse_config('[mqtt.filters]\ndev_addr_prefixes = ["26011234"]')
    assert cfg.backends[0].filters.dev_addr_prefixes == ("26011234/32",)


def test_aliases_map_to_the_crc_filters() -> None:
    cfg = parse_config("[mqtt.filters]\nforward_crc_invalid = true\nforward_crc_missing = true")
    filters = cfg.backends[0].filters
    assert (filters.forward_crc_bad, filters.forward_crc_none) == (True, True)


UDP = '[[backend]]\nname = "u"\ntype = "semtech_udp"\n'
CS = '[[backend]]\nname = "c"\ntype = "chirpstack"\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[backend]]\ntype = "chirpstack"', "backend[0].name: is required (1..64 of"),
        ('[[backend]]\nname = ""\ntype = "chirpstack"', "backend[0].name: must be 1..64"),
        ('[[backend]]\nname = "a b"\ntype = "chirpstack"', "backend[0].name: must be 1..64"),
        (f'[[backend]]\nname = "{"x" * 65}"\ntype = "chirpstack"', "backend[0].name: must be"),
        (
            '[[backend]]\nname = "n"',
            "backend[0].type: is required (one of chirpstack, semtech_udp)",
        ),
        ('[[backend]]\nname = "n"\ntype = "ttn"', "backend[0].type: must be one of chirpstack"),
        (CS + CS, "backend[1].name: 'c' is already used; names must be unique"),
        (
            '[mqtt]\n[[backend]]\nname = "chirpstack"\ntype = "chirpstack"',
            "backend[0].name: 'chirpstack' is already used (the [mqtt] table's backend)",
        ),
        ("backend = []", "backend: must be [[backend]] tables (an array of tables), got an empty"),
        ("[backend]\nname = 'x'", "backend: must be [[backend]] tables (an array of tables)"),
        (CS + "qos = 3", "backend[0].qos: must be 0, 1 or 2"),
        (CS + 'password = "x"', "backend[0].password: needs backend[0].username"),
        (CS + 'server = "udp://h:1700"', "backend[0].server: must be tcp://HOST:PORT"),
        (CS + "push_timeout_ms = 5", "backend[0].push_timeout_ms: unknown key"),
        (UDP, "backend[0].server: is required (udp://HOST:PORT)"),
        (UDP + 'server = "udp://h"', "backend[0].server: must be udp://HOST:PORT"),
        (UDP + 'server = "tcp://h:1700"', "backend[0].server: must be udp://HOST:PORT"),
        (UDP + 'server = "udp://h:0"', "backend[0].server: port must be 1..65535"),
        (UDP + 'server = "udp://h:70000"', "backend[0].server: port must be 1..65535"),
        (UDP + 'server = "udp://[::1:1700"', "backend[0].server: malformed URL"),
        (
            UDP + 'server = "udp://h:1"\nport_down = 0',
            "backend[0].port_down: must be between 1 and 65535, got 0",
        ),
        (UDP + 'server = "udp://h:1"\nport_down = "1"', "backend[0].port_down: must be an integer"),
        (UDP + 'server = "udp://h:1"\nstat_interval_s = 0', "backend[0].stat_interval_s: must be"),
        (
            UDP + 'server = "udp://h:1"\nkeepalive_interval_s = nan',
            "backend[0].keepalive_interval_s",
        ),
        (UDP + 'server = "udp://h:1"\npush_timeout_ms = 0', "backend[0].push_timeout_ms: must be"),
        (UDP + 'server = "udp://h:1"\ntopic_prefix = "x"', "backend[0].topic_prefix: unknown key"),
        (
            UDP + 'server = "udp://h:1"\n[backend.filters]\ndev_addr_prefixes = ["2600/7"]',
            "backend[0].filters.dev_addr_prefixes[0]: prefix '2600/7' needs 8 hex digits",
        ),
        (
            '[mqtt.filters]\ndev_addr_prefixes = "26000000/7"',
            "mqtt.filters.dev_addr_prefixes: must be an array, got a string",
        ),
        (
            '[mqtt.filters]\ndev_addr_prefixes = ["26000000/33"]',
            "mqtt.filters.dev_addr_prefixes[0]: prefix '26000000/33' needs 8 hex digits and 0..32",
        ),
        (
            "[mqtt.filters]\ndev_addr_prefixes = [7]",
            "mqtt.filters.dev_addr_prefixes[0]: must be a string, got int",
        ),
        (
            '[mqtt.filters]\njoin_eui_prefixes = ["70b3d57ed000000g/32"]',
            "mqtt.filters.join_eui_prefixes[0]: prefix '70b3d57ed000000g/32' is not HEX/BITS",
        ),
        ('[mqtt.filters]\nnet_ids = ["13"]', "mqtt.filters.net_ids[0]: must be a 24-bit NetID"),
        ("[mqtt.filters]\nnet_ids = [16777216]", "mqtt.filters.net_ids[0]: must be a 24-bit"),
        ("[mqtt.filters]\nnet_ids = [true]", "mqtt.filters.net_ids[0]: must be a 24-bit NetID"),
        ('[mqtt.filters]\nnet_ids = ["00001g"]', "mqtt.filters.net_ids[0]: must be a 24-bit"),
        ("[mqtt.filters]\nlorawan_only = 1", "mqtt.filters.lorawan_only: must be true or false"),
        (
            "[mqtt.filters]\nforward_crc_bad = true\nforward_crc_invalid = true",
            "mqtt.filters.forward_crc_invalid: is another name of mqtt.filters.forward_crc_bad",
        ),
    ],
)
def test_bad_backend_names_key_and_allowed(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    assert str(info.value).startswith(message), str(info.value)
