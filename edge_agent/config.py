"""The daemon's TOML configuration, validated into frozen dataclasses at start.

Every error is a ``ConfigError`` naming the dotted key (``mqtt.qos``) and what is allowed, so an
operator can fix the file without reading code. Unknown keys are errors (typos are caught), except
the extra ``[concentrator.sim]`` keys, which go to the simulator. ``[spool]`` is validated by
``edge_agent.spool_config.SpoolConfig``. ``docs/configuration.md`` lists every key.
"""

from __future__ import annotations

import dataclasses
import math
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
from packet_forwarder.regions import RegionPreset, region_names, region_preset

LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARNING", "ERROR")
MARSHALERS = ("protobuf", "json")
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
    #: failed polls for this long (s) close and restart the concentrator (edge_agent.radio_health)
    radio_fail_restart_after_s: float = 2.0
    sim: SimConfig = field(default_factory=SimConfig)


@dataclass(frozen=True, slots=True)
class FilterConfig:
    """``[mqtt.filters]``: which CRC statuses are forwarded."""

    forward_crc_ok: bool = True
    forward_crc_bad: bool = False
    forward_crc_none: bool = False


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
    filters: FilterConfig = field(default_factory=FilterConfig)

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
    mqtt: MqttConfig
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
        radio_fail_restart_after_s=_restart_after_s(t),
        sim=_sim(t.table("sim")),
    )
    t.done()
    return cfg


def _restart_after_s(t: _Table) -> float:
    value = t.float("radio_fail_restart_after_s", 2.0)
    assert value is not None
    if not math.isfinite(value):
        raise ConfigError(t.key("radio_fail_restart_after_s"), f"must be finite, got {value}")
    _positive(t.key("radio_fail_restart_after_s"), value)
    return value


def _gps(t: _Table) -> dict[str, Any]:
    tty = t.str("tty")
    t.done()
    return {} if tty is None else {"tty": tty}


def _filters(t: _Table) -> FilterConfig:
    cfg = FilterConfig(
        forward_crc_ok=t.bool("forward_crc_ok", True),
        forward_crc_bad=t.bool("forward_crc_bad", False),
        forward_crc_none=t.bool("forward_crc_none", False),
    )
    t.done()
    return cfg


def _mqtt(t: _Table, default_prefix: str) -> MqttConfig:
    server = t.str("server", "tcp://127.0.0.1:1883")
    parts = urlsplit(server)
    schemes = [*_PLAIN_SCHEMES, *_TLS_SCHEMES]
    if parts.scheme not in schemes or not parts.hostname:
        raise ConfigError(
            t.key("server"),
            f"must be tcp://HOST:PORT or mqtts://HOST:PORT (schemes: {', '.join(schemes)}), "
            f"got {server!r}",
        )
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ConfigError(t.key("server"), f"port must be 1..65535, got {server!r}") from None
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
        filters=_filters(t.table("filters")),
    )
    _positive(t.key("keepalive_s"), cfg.keepalive_s, minimum=4)
    _positive(t.key("reconnect_min_s"), cfg.reconnect_min_s)
    if cfg.reconnect_max_s < cfg.reconnect_min_s:
        raise ConfigError(t.key("reconnect_max_s"), "must be at least mqtt.reconnect_min_s")
    _positive(t.key("queue_max_uplinks"), cfg.queue_max_uplinks)
    if cfg.password is not None and cfg.username is None:
        raise ConfigError(t.key("password"), "needs mqtt.username")
    if (cfg.tls_cert is None) != (cfg.tls_key is None):
        missing = "tls_key" if cfg.tls_key is None else "tls_cert"
        raise ConfigError(t.key(missing), "mqtt.tls_cert and mqtt.tls_key go together")
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
    cfg = AgentConfig(
        source_path=None if source.startswith("<") else Path(source),
        gateway=gateway,
        concentrator=concentrator,
        mqtt=_mqtt(root.table("mqtt"), concentrator.preset.topic_prefix),
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
