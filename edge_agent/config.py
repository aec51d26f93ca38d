"""The daemon's TOML configuration, validated into frozen dataclasses at start.

Every error is a ``ConfigError`` naming the dotted key (``mqtt.qos``) and what is allowed, so an
operator can fix the file without reading code. Unknown keys are errors (typos are caught), except
the extra ``[concentrator.sim]`` keys, which go to the simulator. ``[spool]`` is validated by
``edge_agent.spool_config.SpoolConfig``. ``docs/configuration.md`` lists every key.
"""

from __future__ import annotations

import dataclasses
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from drivers.boards import BoardPreset, apply_overrides, board_preset
from drivers.sx1302.plan import ChipPlan
from edge_agent.config_plan import explicit_plan
from edge_agent.errors import ConfigError
from edge_agent.spool_config import SpoolConfig
from packet_forwarder.errors import PlanError
from packet_forwarder.lorawan import DEV_ADDR_BITS, EUI_BITS, parse_prefix
from packet_forwarder.regions import RegionPreset, region_names, region_preset

LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARNING", "ERROR")
MARSHALERS = ("protobuf", "json")
BACKEND_TYPES = ("chirpstack", "semtech_udp")
#: the name the single ``[mqtt]`` table of earlier releases gets as a backend
LEGACY_BACKEND_NAME = "chirpstack"
_BACKEND_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
#: ChirpStack MQTT forwarder names accepted for the CRC filters
_FILTER_ALIASES = {
    "forward_crc_invalid": "forward_crc_bad",
    "forward_crc_missing": "forward_crc_none",
}
_PLAIN_SCHEMES = {"tcp": 1883, "mqtt": 1883}
_TLS_SCHEMES = {"mqtts": 8883, "ssl": 8883}
_MISSING = object()


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    """``[gateway]``."""

    id: str | None = None
    stats_interval_s: float = 30.0
    latitude: float | None = None
    longitude: float | None = None
    altitude: float | None = None


@dataclass(frozen=True, slots=True)
class SimConfig:
    """``[concentrator.sim]``: the simulated SX1302's options."""

    scenario: str | None = None
    exit_when_done: bool = False
    tx_log: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ConcentratorConfig:
    """``[concentrator]``."""

    plan: ChipPlan
    preset: RegionPreset
    url: str = "sim://"
    region: str = "EU868"
    board: str | None = None
    #: ``[concentrator.board_overrides]``: BoardPreset fields replaced (drivers.boards)
    board_overrides: dict[str, Any] = field(default_factory=dict)
    firmware_dir: str | None = None
    trace: str | None = None
    antenna_gain_dbi: float = 0.0
    temperature_c: float = 25.0
    sim: SimConfig = field(default_factory=SimConfig)


@dataclass(frozen=True, slots=True)
class BackendFilters:
    """``[backend.filters]`` (and the legacy ``[mqtt.filters]``): what one backend receives."""

    forward_crc_ok: bool = True
    #: alias accepted: ``forward_crc_invalid`` (ChirpStack MQTT forwarder's name)
    forward_crc_bad: bool = False
    #: alias accepted: ``forward_crc_missing``
    forward_crc_none: bool = False
    lorawan_only: bool = False
    #: normalised ``"26000000/7"`` strings (lower-case hex, explicit bit count)
    dev_addr_prefixes: tuple[str, ...] = ()
    #: normalised ``"70b3d57ed0000000/32"`` strings
    join_eui_prefixes: tuple[str, ...] = ()
    #: 24-bit NetIDs
    net_ids: tuple[int, ...] = ()


#: the name of the single backend before ``[[backend]]`` existed
FilterConfig = BackendFilters


@dataclass(frozen=True, slots=True)
class MqttConfig:
    """``[mqtt]``: the ChirpStack MQTT backend."""

    server: str = "tcp://127.0.0.1:1883"
    topic_prefix: str = "eu868"
    marshaler: str = "protobuf"
    qos: int = 1
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_cert: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    client_id: str | None = None
    keepalive_s: int = 30
    reconnect_min_s: float = 1.0
    reconnect_max_s: float = 30.0
    queue_max_uplinks: int = 10_000
    filters: BackendFilters = field(default_factory=BackendFilters)

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
        """True for ``mqtts://`` and ``ssl://`` servers."""
        return urlsplit(self.server).scheme in _TLS_SCHEMES

    def topic(self, gateway_id: str, suffix: str) -> str:
        """``<prefix>/gateway/<id>/<suffix>`` (no leading slash when the prefix is empty)."""
        base = f"gateway/{gateway_id}/{suffix}"
        return f"{self.topic_prefix}/{base}" if self.topic_prefix else base


@dataclass(frozen=True, slots=True)
class SemtechUdpConfig:
    """A ``type = "semtech_udp"`` backend: a GWMP v2 (Semtech UDP packet forwarder) server."""

    #: ``udp://HOST:PORT`` (the port is required)
    server: str
    #: the server's PULL port when it differs from the PUSH port of ``server``
    port_down: int | None = None
    keepalive_interval_s: float = 10.0
    stat_interval_s: float = 30.0
    push_timeout_ms: int = 100

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
    """One ``[[backend]]`` table (or the legacy ``[mqtt]`` table, named ``chirpstack``)."""

    #: unique; used in logs, status and as the backend's spool queue name
    name: str
    #: one of BACKEND_TYPES
    type: str
    filters: BackendFilters = field(default_factory=BackendFilters)
    #: ``type = "chirpstack"``: the ``[mqtt]`` keys, read at the backend table's level
    mqtt: MqttConfig | None = None
    #: ``type = "semtech_udp"``
    udp: SemtechUdpConfig | None = None


@dataclass(frozen=True, slots=True)
class StatusConfig:
    """``[status]``."""

    socket: str = "/run/edge-agent/status.sock"


@dataclass(frozen=True, slots=True)
class LogConfig:
    """``[log]``."""

    level: str = "INFO"


@dataclass(frozen=True, slots=True)
class AgentConfig:
    """The whole validated configuration."""

    source_path: Path | None
    gateway: GatewayConfig
    concentrator: ConcentratorConfig
    #: the first chirpstack backend's settings (None when there is none), for older callers
    mqtt: MqttConfig | None
    #: every backend, in file order (``[mqtt]`` first when present)
    backends: tuple[BackendConfig, ...] = ()
    spool: SpoolConfig = field(default_factory=SpoolConfig)
    regulation: dict[str, Any] = field(default_factory=dict)
    status: StatusConfig = field(default_factory=StatusConfig)
    log: LogConfig = field(default_factory=LogConfig)
    #: ``[gps]``: ``tty`` = serial device or ``gpsd://HOST:PORT`` (docs/hardware.md)
    gps: dict[str, Any] = field(default_factory=dict)


class _Table:
    """One TOML table being read: typed getters that name the dotted key on error."""

    def __init__(self, data: Any, prefix: str) -> None:
        if not isinstance(data, dict):
            raise ConfigError(prefix, f"must be a table, got {_type_name(data)}")
        self.data = dict(data)
        self.prefix = prefix

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def _get(self, name: str, types: tuple[type, ...], what: str, default: Any) -> Any:
        value = self.data.pop(name, _MISSING)
        if value is _MISSING:
            return default
        if isinstance(value, bool) and bool not in types:
            raise ConfigError(self.key(name), f"must be {what}, got a boolean")
        if not isinstance(value, types):
            raise ConfigError(self.key(name), f"must be {what}, got {_type_name(value)}")
        return value

    def str(self, name: str, default: str | None = None) -> str | None:
        return self._get(name, (str,), "a string", default)

    def bool(self, name: str, default: bool) -> bool:
        return self._get(name, (bool,), "true or false", default)

    def int(self, name: str, default: int) -> int:
        return self._get(name, (int,), "an integer", default)

    def float(self, name: str, default: float | None) -> float | None:
        value = self._get(name, (int, float), "a number", default)
        return None if value is None else float(value)

    def table(self, name: str) -> _Table:
        return _Table(self.data.pop(name, {}), self.key(name))

    def raw(self, name: str) -> dict[str, Any]:
        return dict(self.table(name).data)

    def has(self, name: str) -> bool:
        return name in self.data

    def done(self) -> None:
        """Every key was consumed; anything left is a typo or an unsupported key."""
        for name in self.data:
            raise ConfigError(self.key(name), "unknown key")


def _type_name(value: object) -> str:
    return {dict: "a table", list: "an array", str: "a string"}.get(
        type(value), type(value).__name__
    )


def _positive(key: str, value: float, *, minimum: float = 0.0) -> None:
    if value <= minimum:
        raise ConfigError(key, f"must be greater than {minimum:g}, got {value:g}")


def _gateway(t: _Table) -> GatewayConfig:
    gw_id = t.str("id")
    if gw_id is not None:
        if len(gw_id) != 16 or any(c not in "0123456789abcdefABCDEF" for c in gw_id):
            raise ConfigError(t.key("id"), f"must be 16 hexadecimal characters, got {gw_id!r}")
        gw_id = gw_id.lower()
    stats = t.float("stats_interval_s", 30.0)
    _positive(t.key("stats_interval_s"), stats)
    cfg = GatewayConfig(
        id=gw_id,
        stats_interval_s=stats,
        latitude=t.float("latitude", None),
        longitude=t.float("longitude", None),
        altitude=t.float("altitude", None),
    )
    if cfg.latitude is not None and not -90 <= cfg.latitude <= 90:
        raise ConfigError(t.key("latitude"), "must be between -90 and 90")
    if cfg.longitude is not None and not -180 <= cfg.longitude <= 180:
        raise ConfigError(t.key("longitude"), "must be between -180 and 180")
    t.done()
    return cfg


def _sim(t: _Table) -> SimConfig:
    cfg = SimConfig(
        scenario=t.str("scenario"),
        exit_when_done=t.bool("exit_when_done", False),
        tx_log=t.str("tx_log"),
        options=dict(t.data),
    )
    t.data.clear()
    return cfg


def _board(t: _Table, overrides: dict[str, Any]) -> BoardPreset | None:
    """``[concentrator] board`` with ``[concentrator.board_overrides]`` applied (drivers.boards)."""
    name = t.str("board")
    if name is None:
        if overrides:
            raise ConfigError(t.key("board_overrides"), "needs [concentrator] board")
        return None
    try:
        preset = board_preset(name)
    except ValueError as exc:
        raise ConfigError(t.key("board"), str(exc)) from None
    try:
        return apply_overrides(preset, overrides) if overrides else preset
    except (ValueError, TypeError) as exc:
        raise ConfigError(t.key("board_overrides"), str(exc)) from None


def _with_board_calibration(
    plan: ChipPlan, board: BoardPreset | None, radio_tables: tuple[Any, Any]
) -> ChipPlan:
    """The board's RSSI offset and temperature coefficients on each radio, unless the radio's
    own ``[concentrator.radio_N]`` table sets them (explicit plan > board > region default)."""
    if board is None:
        return plan
    radios = []
    for radio, table in zip(plan.radios, radio_tables, strict=True):
        table = table or {}
        changes: dict[str, Any] = {}
        if "rssi_offset_db" not in table:
            changes["rssi_offset_db"] = board.rssi_offset_db
        if "rssi_tcomp" not in table:
            changes["rssi_tcomp"] = tuple(board.rssi_tcomp)
        radios.append(dataclasses.replace(radio, **changes))
    return dataclasses.replace(plan, radios=(radios[0], radios[1]))


def _concentrator(t: _Table) -> ConcentratorConfig:
    board_overrides = t.raw("board_overrides")
    board = _board(t, board_overrides)
    # a board preset knows its bus: its SPI device or USB port unless `url` says otherwise
    url = t.str("url", board.default_url() if board is not None else "sim://")
    if "://" not in url:
        examples = "sim://, spi:///dev/spidev0.0 or usb:///dev/ttyACM0"
        raise ConfigError(t.key("url"), f"must be a URL such as {examples}, got {url!r}")
    region = t.str("region", "EU868")
    try:
        preset = region_preset(region)
    except PlanError:
        raise ConfigError(
            t.key("region"), f"must be one of {', '.join(region_names())}, got {region!r}"
        ) from None
    radio_tables = (t.raw("radio_0"), t.raw("radio_1"))
    plan = explicit_plan(preset.plan, *radio_tables, t.raw("channels"), t.prefix)
    plan = _with_board_calibration(plan, board, radio_tables)
    cfg = ConcentratorConfig(
        plan=plan,
        preset=preset,
        url=url,
        region=preset.name,
        board=board.name if board is not None else None,
        board_overrides=board_overrides,
        firmware_dir=t.str("firmware_dir"),
        trace=t.str("trace"),
        antenna_gain_dbi=t.float("antenna_gain_dbi", 0.0),
        temperature_c=t.float("temperature_c", 25.0),
        sim=_sim(t.table("sim")),
    )
    t.done()
    return cfg


def _gps(t: _Table) -> dict[str, Any]:
    tty = t.str("tty")
    t.done()
    return {} if tty is None else {"tty": tty}


def _filters(t: _Table) -> BackendFilters:
    for alias, name in _FILTER_ALIASES.items():
        if t.has(alias):
            if t.has(name):
                raise ConfigError(t.key(alias), f"is an alias of {t.key(name)}; set only one")
            t.data[name] = t.data.pop(alias)
    cfg = BackendFilters(
        forward_crc_ok=t.bool("forward_crc_ok", True),
        forward_crc_bad=t.bool("forward_crc_bad", False),
        forward_crc_none=t.bool("forward_crc_none", False),
        lorawan_only=t.bool("lorawan_only", False),
        dev_addr_prefixes=_prefixes(t, "dev_addr_prefixes", DEV_ADDR_BITS, "26000000/7"),
        join_eui_prefixes=_prefixes(t, "join_eui_prefixes", EUI_BITS, "70b3d57ed0000000/32"),
        net_ids=_net_ids(t),
    )
    t.done()
    return cfg


def _array(t: _Table, name: str) -> list[Any]:
    value = t.data.pop(name, [])
    if not isinstance(value, list):
        raise ConfigError(t.key(name), f"must be an array, got {_type_name(value)}")
    return value


def _prefixes(t: _Table, name: str, width_bits: int, example: str) -> tuple[str, ...]:
    """``"HEX/BITS"`` strings, normalised to lower-case hex with an explicit bit count."""
    out = []
    for i, item in enumerate(_array(t, name)):
        key = f"{t.key(name)}[{i}]"
        if not isinstance(item, str) or len(item) > 64:
            raise ConfigError(key, f'must be a string like "{example}", got {item!r}')
        try:
            value, bits = parse_prefix(item.strip(), width_bits)
        except ValueError as exc:
            raise ConfigError(key, f'{exc} (like "{example}")') from None
        out.append(f"{value:0{width_bits // 4}x}/{bits}")
    return tuple(out)


def _net_ids(t: _Table) -> tuple[int, ...]:
    """24-bit NetIDs: 6 hex digits as a string (``"000013"``) or an integer."""
    out = []
    for i, item in enumerate(_array(t, "net_ids")):
        key = f"{t.key('net_ids')}[{i}]"
        value = -1
        if isinstance(item, str) and len(item) == 6:
            try:
                value = int(item, 16)
            except ValueError:
                value = -1
        elif isinstance(item, int) and not isinstance(item, bool):
            value = item
        if not 0 <= value <= 0xFFFFFF:
            raise ConfigError(
                key,
                f'must be a 24-bit NetID: 6 hex digits like "000013" or 0..16777215, got {item!r}',
            )
        out.append(value)
    return tuple(out)


def _mqtt(t: _Table, default_prefix: str, filters: BackendFilters) -> MqttConfig:
    server = t.str("server", "tcp://127.0.0.1:1883")
    parts = _split_url(t, "server", server)
    schemes = [*_PLAIN_SCHEMES, *_TLS_SCHEMES]
    if parts.scheme not in schemes or not parts.hostname:
        raise ConfigError(
            t.key("server"),
            f"must be tcp://HOST:PORT or mqtts://HOST:PORT (schemes: {', '.join(schemes)}), "
            f"got {server!r}",
        )
    prefix = t.str("topic_prefix", default_prefix)
    if prefix.startswith("/") or prefix.endswith("/") or any(c in prefix for c in "+#"):
        raise ConfigError(
            t.key("topic_prefix"), "must not start or end with '/' nor contain '+' or '#'"
        )
    marshaler = t.str("marshaler", "protobuf")
    if marshaler not in MARSHALERS:
        raise ConfigError(t.key("marshaler"), f'must be "protobuf" or "json", got {marshaler!r}')
    qos = t.int("qos", 1)
    if qos not in (0, 1, 2):
        raise ConfigError(t.key("qos"), f"must be 0, 1 or 2, got {qos}")
    cfg = MqttConfig(
        server=server,
        topic_prefix=prefix,
        marshaler=marshaler,
        qos=qos,
        username=t.str("username"),
        password=t.str("password"),
        ca_cert=t.str("ca_cert"),
        tls_cert=t.str("tls_cert"),
        tls_key=t.str("tls_key"),
        client_id=t.str("client_id"),
        keepalive_s=t.int("keepalive_s", 30),
        reconnect_min_s=t.float("reconnect_min_s", 1.0),
        reconnect_max_s=t.float("reconnect_max_s", 30.0),
        queue_max_uplinks=t.int("queue_max_uplinks", 10_000),
        filters=filters,
    )
    _positive(t.key("keepalive_s"), cfg.keepalive_s, minimum=4)
    _positive(t.key("reconnect_min_s"), cfg.reconnect_min_s)
    if cfg.reconnect_max_s < cfg.reconnect_min_s:
        raise ConfigError(t.key("reconnect_max_s"), f"must be at least {t.key('reconnect_min_s')}")
    _positive(t.key("queue_max_uplinks"), cfg.queue_max_uplinks)
    if cfg.password is not None and cfg.username is None:
        raise ConfigError(t.key("password"), f"needs {t.key('username')}")
    if (cfg.tls_cert is None) != (cfg.tls_key is None):
        missing = "tls_key" if cfg.tls_key is None else "tls_cert"
        together = f"{t.key('tls_cert')} and {t.key('tls_key')} go together"
        raise ConfigError(t.key(missing), together)
    for name in ("ca_cert", "tls_cert", "tls_key"):
        path = getattr(cfg, name)
        if path is None:
            continue
        if not cfg.tls:
            raise ConfigError(t.key(name), f"needs an mqtts:// server, got {server!r}")
        if not Path(path).is_file():
            raise ConfigError(t.key(name), f"file not found: {path}")
    t.done()
    return cfg


def _split_url(t: _Table, name: str, url: str) -> Any:
    """``urlsplit(url)`` with a ConfigError naming the key on a malformed URL or port."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise ConfigError(t.key(name), f"malformed URL {url!r}: {exc}") from None
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0 and parts.netloc.rpartition(":")[2] not in ("", parts.netloc):
        raise ConfigError(t.key(name), f"port must be 1..65535, got {url!r}")
    return parts


def _semtech_udp(t: _Table) -> SemtechUdpConfig:
    server = t.str("server")
    if server is None:
        raise ConfigError(t.key("server"), 'is required for type "semtech_udp" (udp://HOST:PORT)')
    parts = _split_url(t, "server", server)
    if parts.scheme != "udp" or not parts.hostname or parts.port is None:
        raise ConfigError(t.key("server"), f"must be udp://HOST:PORT, got {server!r}")
    port_down = t.data.get("port_down")
    if port_down is not None:
        port_down = t.int("port_down", 0)
        if not 1 <= port_down <= 65535:
            raise ConfigError(t.key("port_down"), f"must be 1..65535, got {port_down}")
    cfg = SemtechUdpConfig(
        server=server,
        port_down=port_down,
        keepalive_interval_s=_finite_positive(t, "keepalive_interval_s", 10.0),
        stat_interval_s=_finite_positive(t, "stat_interval_s", 30.0),
        push_timeout_ms=t.int("push_timeout_ms", 100),
    )
    if not 1 <= cfg.push_timeout_ms <= 60_000:
        raise ConfigError(t.key("push_timeout_ms"), f"must be 1..60000, got {cfg.push_timeout_ms}")
    t.done()
    return cfg


def _finite_positive(t: _Table, name: str, default: float) -> float:
    value = t.float(name, default)
    assert value is not None
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(t.key(name), f"must be a finite number > 0, got {value!r}")
    return value


def _backends(root: _Table, default_prefix: str) -> tuple[BackendConfig, ...]:
    """The legacy ``[mqtt]`` table (when present, or when nothing else is) and each
    ``[[backend]]`` table, in that order; names must be unique."""
    out: list[BackendConfig] = []
    if root.has("mqtt") or not root.has("backend"):
        t = root.table("mqtt")
        filters = _filters(t.table("filters"))
        mqtt = _mqtt(t, default_prefix, filters)
        out.append(BackendConfig(LEGACY_BACKEND_NAME, "chirpstack", filters, mqtt=mqtt))
    if not root.has("backend"):
        return tuple(out)
    tables = root.data.pop("backend")
    if not isinstance(tables, list) or not tables:
        got = "an empty array" if tables == [] else _type_name(tables)
        raise ConfigError("backend", f"must be [[backend]] tables (an array of tables), got {got}")
    for i, data in enumerate(tables):
        t = _Table(data, f"backend[{i}]")
        name = t.str("name")
        if name is None or not _BACKEND_NAME_RE.match(name):
            raise ConfigError(
                t.key("name"),
                f"must be 1..64 of A-Z a-z 0-9 _ . - (not first: _ . -), got {name!r}",
            )
        if any(b.name == name for b in out):
            clash = " (the [mqtt] table's backend)" if name == LEGACY_BACKEND_NAME else ""
            raise ConfigError(
                t.key("name"), f"{name!r} is already used{clash}; names must be unique"
            )
        kind = t.str("type")
        if kind not in BACKEND_TYPES:
            raise ConfigError(
                t.key("type"), f"must be one of {', '.join(BACKEND_TYPES)}, got {kind!r}"
            )
        filters = _filters(t.table("filters"))
        if kind == "chirpstack":
            backend = BackendConfig(name, kind, filters, mqtt=_mqtt(t, default_prefix, filters))
        else:
            backend = BackendConfig(name, kind, filters, udp=_semtech_udp(t))
        out.append(backend)
    return tuple(out)


def _log(t: _Table) -> LogConfig:
    level = t.str("level", "INFO").upper()
    if level not in LOG_LEVELS:
        raise ConfigError(t.key("level"), f"must be one of {', '.join(LOG_LEVELS)}")
    t.done()
    return LogConfig(level=level)


def _status(t: _Table) -> StatusConfig:
    cfg = StatusConfig(socket=t.str("socket", "/run/edge-agent/status.sock"))
    t.done()
    return cfg


def _regulation(t: _Table) -> dict[str, Any]:
    """``[regulation]`` as a dict; ``enforce_duty_cycle`` (a bool) is its only key."""
    if not t.has("enforce_duty_cycle"):
        t.done()
        return {}
    enforce = t.bool("enforce_duty_cycle", True)
    t.done()
    return {"enforce_duty_cycle": enforce}


def parse_config(text: str, source: str = "<string>") -> AgentConfig:
    """Validate TOML ``text``; ``source`` names it in errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("", f"{source}: invalid TOML: {exc}") from exc
    root = _Table(data, "")
    gateway = _gateway(root.table("gateway"))
    concentrator = _concentrator(root.table("concentrator"))
    backends = _backends(root, concentrator.preset.topic_prefix)
    cfg = AgentConfig(
        source_path=None if source.startswith("<") else Path(source),
        gateway=gateway,
        concentrator=concentrator,
        mqtt=next((b.mqtt for b in backends if b.mqtt is not None), None),
        backends=backends,
        spool=SpoolConfig.from_section(root.table("spool").data),
        regulation=_regulation(root.table("regulation")),
        status=_status(root.table("status")),
        log=_log(root.table("log")),
        gps=_gps(root.table("gps")),
    )
    root.done()
    return cfg


def load_config(path: str | Path) -> AgentConfig:
    """Read and validate the TOML file at ``path``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("", f"{path}: configuration file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("", f"{path}: cannot read: {exc}") from exc
    return parse_config(text, str(path))
