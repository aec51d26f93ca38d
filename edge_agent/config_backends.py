"""The backend tables: ``[mqtt]`` (+ ``.filters``) and ``[[backend]]`` (+ ``.filters``).

Schemas in the ``edge_agent.config_schema`` form; ``backends()`` turns the root table's
``mqtt`` and ``backend`` keys into ``BackendConfig``s (docs/configuration.md, "[[backend]]").
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit

from edge_agent.config_schema import (
    check_table,
    convert,
    join_key,
    json_shape,
    load,
    rule,
    rule_of,
    shown,
)
from edge_agent.errors import ConfigError
from packet_forwarder.lorawan import DEV_ADDR_BITS, EUI_BITS, parse_prefix

MARSHALERS = ("protobuf", "json")
BACKEND_TYPES = ("chirpstack", "semtech_udp")
#: the name the single ``[mqtt]`` table of earlier releases gets as a backend
LEGACY_BACKEND_NAME = "chirpstack"
_PLAIN_SCHEMES = {"tcp": 1883, "mqtt": 1883, "ws": 80}
_TLS_SCHEMES = {"mqtts": 8883, "ssl": 8883, "wss": 443}
_WEBSOCKET_SCHEMES = ("ws", "wss")
MAX_HOST_LENGTH = 253
MAX_PREFIXES = 1024


def split_url(url: str, key: str) -> SplitResult:
    """``urlsplit(url)`` or one ConfigError naming ``key``: malformed URL, port outside 1..65535,
    credentials inside the URL, over-long host."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        if "Port" not in str(exc):
            raise ConfigError(key, f"malformed URL {shown(url)}: {exc}") from None
        port = 0
    if parts.username is not None or parts.password is not None:
        raise ConfigError(
            key,
            "must not contain credentials (user:password@): put them in the username and "
            "password keys",
        )
    if port == 0:
        raise ConfigError(key, f"port must be 1..65535, got {shown(url)}")
    if parts.hostname and len(parts.hostname) > MAX_HOST_LENGTH:
        raise ConfigError(key, f"host name must be at most {MAX_HOST_LENGTH} characters")
    return parts


@json_shape({"pattern": f"^(?:{'|'.join([*_PLAIN_SCHEMES, *_TLS_SCHEMES])})://[^/?#]+/?$"})
def _mqtt_server(value: Any, key: str) -> str:
    server: str = convert(str, value, key)
    parts = split_url(server, key)
    schemes = [*_PLAIN_SCHEMES, *_TLS_SCHEMES]
    path_ok = parts.path in ("", "/") or parts.scheme in _WEBSOCKET_SCHEMES
    if parts.scheme not in schemes or not parts.hostname or not path_ok:
        raise ConfigError(
            key,
            f"must be tcp://HOST:PORT, mqtts://HOST:PORT or ws[s]://HOST:PORT/PATH (schemes: "
            f"{', '.join(schemes)}), got {shown(server)}",
        )
    return server


@json_shape({"pattern": "^udp://[^/?#]+:[0-9]+$"})
def _udp_server(value: Any, key: str) -> str:
    server: str = convert(str, value, key)
    parts = split_url(server, key)
    if parts.scheme != "udp" or not parts.hostname or parts.port is None:
        raise ConfigError(key, f"must be udp://HOST:PORT, got {shown(server)}")
    return server


def _prefixes(width_bits: int, example: str) -> Any:
    """A parser of ``"HEX/BITS"`` strings, normalised to lower-case hex with explicit bits."""

    digits = width_bits // 4
    item = {"type": "string", "pattern": f"^\\s*[0-9A-Fa-f]{{{digits}}}(?:/[0-9]+)?\\s*$"}

    @json_shape({"maxItems": MAX_PREFIXES, "items": item})
    def parse(value: Any, key: str) -> tuple[str, ...]:
        items: tuple[str, ...] = convert(tuple[str, ...], value, key)
        if len(items) > MAX_PREFIXES:
            raise ConfigError(key, f"must list at most {MAX_PREFIXES} prefixes, got {len(items)}")
        out = []
        for i, item in enumerate(items):
            try:
                number, bits = parse_prefix(item.strip(), width_bits)
            except ValueError as exc:
                raise ConfigError(f"{key}[{i}]", f'{exc} (like "{example}")') from None
            out.append(f"{number:0{width_bits // 4}x}/{bits}")
        return tuple(out)

    return parse


@json_shape(
    {
        "type": "array",
        "items": {
            "anyOf": [
                {"type": "string", "pattern": "^[0-9A-Fa-f]{6}$"},
                {"type": "integer", "minimum": 0, "maximum": 0xFFFFFF},
            ]
        },
    }
)
def _net_ids(value: Any, key: str) -> tuple[int, ...]:
    """24-bit NetIDs: 6 hex digits as a string (``"000013"``) or an integer."""
    if not isinstance(value, list):
        raise ConfigError(key, f"must be an array, got {type(value).__name__}")
    out = []
    for i, item in enumerate(value):
        number = -1
        if isinstance(item, str) and len(item) == 6:
            try:
                number = int(item, 16)
            except ValueError:
                number = -1
        elif isinstance(item, int) and not isinstance(item, bool):
            number = item
        if not 0 <= number <= 0xFFFFFF:
            raise ConfigError(
                f"{key}[{i}]",
                'must be a 24-bit NetID: 6 hex digits like "000013" or 0..16777215, '
                f"got {shown(item)}",
            )
        out.append(number)
    return tuple(out)


@dataclass(frozen=True, slots=True)
class BackendFilters:
    """``[backend.filters]`` (and the legacy ``[mqtt.filters]``): what one backend receives."""

    forward_crc_ok: bool = field(
        default=True, metadata=rule(doc="forward packets whose payload CRC is correct")
    )
    forward_crc_bad: bool = field(
        default=False,
        metadata=rule(
            aliases=("forward_crc_invalid",), doc="forward packets with a wrong payload CRC"
        ),
    )
    forward_crc_none: bool = field(
        default=False,
        metadata=rule(aliases=("forward_crc_missing",), doc="forward packets sent without a CRC"),
    )
    lorawan_only: bool = field(
        default=False, metadata=rule(doc="forward only frames that parse as LoRaWAN uplinks")
    )
    #: normalised ``"26000000/7"`` strings (lower-case hex, explicit bit count)
    dev_addr_prefixes: tuple[str, ...] = field(
        default=(),
        metadata=rule(
            parse=_prefixes(DEV_ADDR_BITS, "26000000/7"), doc="DevAddr prefixes HEX/BITS"
        ),
    )
    #: normalised ``"70b3d57ed0000000/32"`` strings
    join_eui_prefixes: tuple[str, ...] = field(
        default=(),
        metadata=rule(
            parse=_prefixes(EUI_BITS, "70b3d57ed0000000/32"), doc="JoinEUI prefixes HEX/BITS"
        ),
    )
    net_ids: tuple[int, ...] = field(default=(), metadata=rule(parse=_net_ids, doc="24-bit NetIDs"))


@dataclass(frozen=True, slots=True)
class MqttConfig:
    """``[mqtt]``, or a ``type = "chirpstack"`` backend: ChirpStack v4 over MQTT."""

    server: str = field(
        default="tcp://127.0.0.1:1883", metadata=rule(parse=_mqtt_server, doc="broker URL")
    )
    #: the default is the region's (``eu868``), given by the loader
    topic_prefix: str = field(
        default="eu868",
        metadata=rule(
            max_len=128,
            pattern=r"(?:[^/+#](?:[^+#]*[^/+#])?)?",
            what="a topic prefix that does not start or end with '/' nor contain '+' or '#'",
        ),
    )
    marshaler: str = field(
        default="protobuf", metadata=rule(choices=MARSHALERS, what='"protobuf" or "json"')
    )
    qos: int = field(default=1, metadata=rule(choices=(0, 1, 2)))
    username: str | None = field(default=None, metadata=rule(max_len=256))
    password: str | None = field(default=None, repr=False, metadata=rule(max_len=1024))
    ca_cert: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    #: the passphrase of an encrypted ``tls_key`` (edge_agent.tls); never logged
    tls_key_password: str | None = field(default=None, repr=False, metadata=rule(max_len=1024))
    #: a file whose first line is that passphrase (kept 0600/0640 like the key)
    tls_key_password_file: str | None = field(default=None, metadata=rule(min_len=1, max_len=4096))
    client_id: str | None = field(default=None, metadata=rule(min_len=1, max_len=128))
    keepalive_s: int = field(default=30, metadata=rule(gt=4, le=65535))
    reconnect_min_s: float = field(default=1.0, metadata=rule(gt=0, le=3600))
    reconnect_max_s: float = field(default=30.0, metadata=rule(gt=0, le=86400))
    queue_max_uplinks: int = field(default=10_000, metadata=rule(gt=0, le=10_000_000))
    clean_session: bool = field(default=True, metadata=rule(doc="MQTT clean session"))
    filters: BackendFilters = field(default_factory=BackendFilters)

    @staticmethod
    def finish_config(
        values: dict[str, Any], raw: dict[str, Any], key: str, context: dict[str, Any]
    ) -> None:
        """Keys checked against each other: credentials, TLS files, reconnect delays."""
        cfg = MqttConfig(**values)
        if cfg.reconnect_max_s < cfg.reconnect_min_s:
            raise ConfigError(
                join_key(key, "reconnect_max_s"),
                f"must be at least {join_key(key, 'reconnect_min_s')}",
            )
        if cfg.password is not None and cfg.username is None:
            raise ConfigError(join_key(key, "password"), f"needs {join_key(key, 'username')}")
        if (cfg.tls_cert is None) != (cfg.tls_key is None):
            missing = "tls_key" if cfg.tls_key is None else "tls_cert"
            together = f"{join_key(key, 'tls_cert')} and {join_key(key, 'tls_key')} go together"
            raise ConfigError(join_key(key, missing), together)
        if cfg.tls_key_password is not None and cfg.tls_key_password_file is not None:
            raise ConfigError(
                join_key(key, "tls_key_password_file"),
                f"set {join_key(key, 'tls_key_password')} or this key, not both",
            )
        for name in ("tls_key_password", "tls_key_password_file"):
            if getattr(cfg, name) is not None and cfg.tls_key is None:
                raise ConfigError(join_key(key, name), f"needs {join_key(key, 'tls_key')}")
        for name in ("ca_cert", "tls_cert", "tls_key", "tls_key_password_file"):
            path = getattr(cfg, name)
            if path is None:
                continue
            if not cfg.tls:
                raise ConfigError(
                    join_key(key, name), f"needs an mqtts:// server, got {shown(cfg.server)}"
                )
            if not Path(path).is_file():
                raise ConfigError(join_key(key, name), f"file not found: {path}")

    @property
    def host(self) -> str:
        """Broker host name from ``server``."""
        return urlsplit(self.server).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        """Broker port from ``server`` (1883, or 8883 for TLS, when absent)."""
        parts = urlsplit(self.server)
        return parts.port or {**_PLAIN_SCHEMES, **_TLS_SCHEMES}[parts.scheme]

    @property
    def tls(self) -> bool:
        """True for ``mqtts://``, ``ssl://`` and ``wss://`` servers."""
        return urlsplit(self.server).scheme in _TLS_SCHEMES

    @property
    def websocket_path(self) -> str | None:
        """The HTTP path of a ``ws://``/``wss://`` server (``/mqtt`` when the URL has none), or
        None for a plain MQTT server."""
        parts = urlsplit(self.server)
        if parts.scheme not in _WEBSOCKET_SCHEMES:
            return None
        path = parts.path if parts.path not in ("", "/") else "/mqtt"
        return f"{path}?{parts.query}" if parts.query else path

    def topic(self, gateway_id: str, suffix: str) -> str:
        """``<prefix>/gateway/<id>/<suffix>`` (no leading slash when the prefix is empty)."""
        base = f"gateway/{gateway_id}/{suffix}"
        return f"{self.topic_prefix}/{base}" if self.topic_prefix else base


#: the name of the single backend's filters before ``[[backend]]`` existed
FilterConfig = BackendFilters


@dataclass(frozen=True, slots=True)
class SemtechUdpConfig:
    """A ``type = "semtech_udp"`` backend: a GWMP v2 (Semtech UDP packet forwarder) server."""

    server: str = field(metadata=rule(parse=_udp_server, what="udp://HOST:PORT"))
    #: the server's PULL port when it differs from the PUSH port of ``server``
    port_down: int | None = field(default=None, metadata=rule(ge=1, le=65535))
    keepalive_interval_s: float = field(default=10.0, metadata=rule(gt=0, le=3600))
    stat_interval_s: float = field(default=30.0, metadata=rule(gt=0, le=86400))
    push_timeout_ms: int = field(default=100, metadata=rule(ge=1, le=60_000))

    @property
    def host(self) -> str:
        """Server host name (brackets of an IPv6 literal removed)."""
        return urlsplit(self.server).hostname or ""

    @property
    def port_up(self) -> int:
        """The port PUSH_DATA goes to (the port of ``server``)."""
        return urlsplit(self.server).port or 0

    @property
    def port_down_or_up(self) -> int:
        """The port PULL_DATA goes to: ``port_down`` when set, else ``port_up``."""
        return self.port_down if self.port_down is not None else self.port_up


@dataclass(frozen=True, slots=True)
class BackendConfig:
    """One ``[[backend]]`` table (or the legacy ``[mqtt]`` table, named ``chirpstack``).

    In TOML, ``name``, ``type`` and the ``filters`` sub-table sit next to the keys of the
    type's own schema (``MqttConfig`` for chirpstack, ``SemtechUdpConfig`` for semtech_udp).
    """

    name: str = field(
        metadata=rule(
            pattern=r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}",
            what="1..64 of A-Z a-z 0-9 _ . - (not first: _ . -)",
            doc="unique; in logs, status and the spool",
        )
    )
    type: str = field(metadata=rule(choices=BACKEND_TYPES))
    filters: BackendFilters = field(default_factory=BackendFilters)
    mqtt: MqttConfig | None = field(
        default=None, metadata=rule(derived=True, doc='the keys of type "chirpstack"')
    )
    udp: SemtechUdpConfig | None = field(
        default=None, metadata=rule(derived=True, doc='the keys of "semtech_udp"')
    )


def _head(raw: dict[str, Any], name: str, key: str) -> str:
    declared = next(f for f in dataclasses.fields(BackendConfig) if f.name == name)
    key_rule = rule_of(BackendConfig, declared)
    if name not in raw:
        raise ConfigError(
            join_key(key, name),
            f"is required ({key_rule.what or 'one of ' + ', '.join(key_rule.choices)})",
        )
    value: str = convert(str, raw.pop(name), join_key(key, name), key_rule)
    return value


def backends(root: dict[str, Any], default_prefix: str) -> tuple[BackendConfig, ...]:
    """The legacy ``[mqtt]`` table (when present, or when nothing else is) and each
    ``[[backend]]`` table, in that order; names are unique."""
    prefix = {"topic_prefix": default_prefix}
    out: list[BackendConfig] = []
    if "mqtt" in root or "backend" not in root:
        mqtt = load(MqttConfig, root.get("mqtt", {}), "mqtt", defaults=prefix)
        out.append(BackendConfig(LEGACY_BACKEND_NAME, "chirpstack", mqtt.filters, mqtt=mqtt))
    if "backend" not in root:
        return tuple(out)
    tables = root["backend"]
    if not isinstance(tables, list) or not tables:
        got = (
            "an empty array"
            if tables == []
            else "a table"
            if isinstance(tables, dict)
            else type(tables).__name__
        )
        raise ConfigError("backend", f"must be [[backend]] tables (an array of tables), got {got}")
    for i, data in enumerate(tables):
        key = f"backend[{i}]"
        raw = check_table(data, key)
        name = _head(raw, "name", key)
        if any(b.name == name for b in out):
            clash = " (the [mqtt] table's backend)" if name == LEGACY_BACKEND_NAME else ""
            raise ConfigError(
                join_key(key, "name"), f"{shown(name)} is already used{clash}; names must be unique"
            )
        kind = _head(raw, "type", key)
        if kind == "chirpstack":
            mqtt = load(MqttConfig, raw, key, defaults=prefix)
            out.append(BackendConfig(name, kind, mqtt.filters, mqtt=mqtt))
        else:
            filters = load(BackendFilters, raw.pop("filters", {}), join_key(key, "filters"))
            udp = load(SemtechUdpConfig, raw, key)
            out.append(BackendConfig(name, kind, filters, udp=udp))
    return tuple(out)
