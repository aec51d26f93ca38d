"""The daemon's TOML configuration, validated into frozen dataclasses at start.

Every table is a declared schema (``edge_agent.config_schema``): a dataclass whose fields carry
their type and rules. Every error is a ``ConfigError`` naming the dotted key (``mqtt.qos``),
the value and what is allowed, so an operator can fix the file without reading code. Unknown
keys are errors (typos are caught), except the extra ``[concentrator.sim]`` keys, which go to
the simulator. The backend tables live in ``edge_agent.config_backends``, ``[spool]`` in
``edge_agent.spool_config``, the explicit channel plan in ``edge_agent.config_plan``.
``docs/configuration.md`` lists every key.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drivers.boards import BoardPreset, apply_overrides, board_preset
from drivers.sx1302.plan import ChipPlan, RadioPlan
from drivers.transport import transport_schemes
from edge_agent.config_backends import (
    BACKEND_TYPES,
    LEGACY_BACKEND_NAME,
    MARSHALERS,
    BackendConfig,
    BackendFilters,
    FilterConfig,
    MqttConfig,
    SemtechUdpConfig,
    backends,
    split_url,
)
from edge_agent.config_plan import ChannelsTable, explicit_plan, radio_table, with_tx_gain_lut
from edge_agent.config_schema import (
    Rule,
    check_table,
    convert,
    join_key,
    json_shape,
    load,
    rule,
    shown,
)
from edge_agent.errors import ConfigError
from edge_agent.spool_config import SpoolConfig
from packet_forwarder.errors import PlanError
from packet_forwarder.regions import RegionPreset, region_names, region_preset

__all__ = [
    "BACKEND_TYPES",
    "LEGACY_BACKEND_NAME",
    "MARSHALERS",
    "AgentConfig",
    "BackendConfig",
    "BackendFilters",
    "ConcentratorConfig",
    "FilterConfig",
    "GatewayConfig",
    "LogConfig",
    "MqttConfig",
    "SemtechUdpConfig",
    "SimConfig",
    "StatusConfig",
    "load_config",
    "parse_config",
]

LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARNING", "ERROR")
#: a configuration file larger than this is refused unread (1 MiB)
MAX_CONFIG_BYTES = 1024 * 1024
#: AF_UNIX socket paths are at most 107 bytes
MAX_SOCKET_PATH = 107


def _check_url_scheme(url: str, key: str) -> None:
    """The concentrator URL's scheme (``spy+`` allowed before it) is one drivers can open."""
    scheme = split_url(url, key).scheme.removeprefix("spy+")
    if scheme not in transport_schemes():
        known = ", ".join(f"{s}://" for s in transport_schemes())
        raise ConfigError(
            key, f"unknown scheme {shown(scheme)} in {shown(url)}; expected one of {known}"
        )


@json_shape({"minLength": 1})
def _gps_tty(value: Any, key: str) -> str:
    """A serial device path, ``gpsd://HOST:PORT``, or ``sim://gps`` (the simulator's GPS)."""
    tty: str = convert(str, value, key, Rule(min_len=1))
    if "://" in tty:
        parts = split_url(tty, key)
        simulated = parts.scheme == "sim" and parts.hostname == "gps"
        if not simulated and (parts.scheme != "gpsd" or not parts.hostname):
            raise ConfigError(
                key, f"must be a device path, gpsd://HOST:PORT or sim://gps, got {shown(tty)}"
            )
    return tty


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    """``[gateway]``."""

    id: str | None = field(
        default=None,
        metadata=rule(
            pattern="[0-9a-f]{16}", normalize=str.lower, what="16 hexadecimal characters"
        ),
    )
    stats_interval_s: float = field(default=30.0, metadata=rule(gt=0, le=86_400))
    latitude: float | None = field(default=None, metadata=rule(ge=-90, le=90))
    longitude: float | None = field(default=None, metadata=rule(ge=-180, le=180))
    altitude: float | None = field(default=None, metadata=rule(ge=-1_000, le=20_000, doc="metres"))
    channel_plan_from: str | None = field(
        default=None, metadata=rule(doc="backend owning the plan")
    )


@dataclass(frozen=True, slots=True)
class SimConfig:
    """``[concentrator.sim]``: the simulated SX1302's options."""

    scenario: str | None = None
    exit_when_done: bool = False
    tx_log: str | None = None
    options: dict[str, Any] = field(
        default_factory=dict, metadata=rule(extra=True, doc="simulator options")
    )


@dataclass(frozen=True, slots=True)
class ConcentratorConfig:
    """``[concentrator]``."""

    #: the region preset's plan with the explicit tables and the board calibration applied
    plan: ChipPlan = field(metadata=rule(derived=True))
    preset: RegionPreset = field(metadata=rule(derived=True))
    url: str = field(
        default="sim://",
        metadata=rule(
            pattern=r"[A-Za-z][A-Za-z0-9+.-]*://.*",
            what="a URL such as sim://, spi:///dev/spidev0.0 or usb:///dev/ttyACM0",
            doc="default: the board's bus with a board, else sim://",
        ),
    )
    region: str = field(
        default="EU868", metadata=rule(doc="one of packet_forwarder.regions.region_names()")
    )
    board: str | None = field(default=None, metadata=rule(max_len=64))
    #: ``[concentrator.board_overrides]``: BoardPreset fields replaced (drivers.boards)
    board_overrides: dict[str, Any] = field(default_factory=dict)
    firmware_dir: str | None = None
    trace: str | None = None
    antenna_gain_dbi: float = field(default=0.0, metadata=rule(ge=-30, le=30))
    temperature_c: float = field(default=25.0, metadata=rule(ge=-60, le=125))
    #: failed polls for this long (s) close and restart the concentrator (edge_agent.radio_health)
    radio_fail_restart_after_s: float = field(
        default=2.0, metadata=rule(gt=0, le=3600, doc="seconds of failed polls before a restart")
    )
    sim: SimConfig = field(default_factory=SimConfig)
    radio_0: RadioPlan | None = field(
        default=None, metadata=rule(parse=radio_table, doc="explicit radio A")
    )
    radio_1: RadioPlan | None = field(
        default=None, metadata=rule(parse=radio_table, doc="explicit radio B")
    )
    channels: ChannelsTable | None = None

    @staticmethod
    def finish_config(
        values: dict[str, Any], raw: dict[str, Any], key: str, context: dict[str, Any]
    ) -> None:
        """Board preset, default URL, region preset and the resulting plan."""
        board = _board(values, key)
        if "url" not in raw:
            values["url"] = board.default_url() if board is not None else "sim://"
        _check_url_scheme(values["url"], join_key(key, "url"))
        region = values.get("region", "EU868")
        try:
            preset = region_preset(region)
        except PlanError:
            raise ConfigError(
                join_key(key, "region"),
                f"must be one of {', '.join(region_names())}, got {shown(region)}",
            ) from None
        values["region"] = preset.name
        values["preset"] = preset
        values["board"] = board.name if board is not None else None
        plan = explicit_plan(
            preset.plan, values.get("radio_0"), values.get("radio_1"), values.get("channels")
        )
        plan = _with_board_calibration(plan, board, raw)
        vendor = board.tx_gain_table(preset.family) if board is not None else None
        values["plan"] = with_tx_gain_lut(plan, vendor.entries if vendor else None, raw, key)


@dataclass(frozen=True, slots=True)
class StatusConfig:
    """``[status]``."""

    socket: str = field(
        default="/run/edge-agent/status.sock",
        metadata=rule(min_len=1, max_len=MAX_SOCKET_PATH, doc="a socket path"),
    )


@dataclass(frozen=True, slots=True)
class LogConfig:
    """``[log]``."""

    level: str = field(default="INFO", metadata=rule(normalize=str.upper, choices=LOG_LEVELS))


@dataclass(frozen=True, slots=True)
class RegulationTable:
    """``[regulation]`` (stored as a dict of the keys that are set)."""

    enforce_duty_cycle: bool = field(default=True, metadata=rule(doc="default: true in EU868"))


@dataclass(frozen=True, slots=True)
class GpsTable:
    """``[gps]`` (stored as a dict of the keys that are set)."""

    tty: str | None = field(
        default=None,
        metadata=rule(parse=_gps_tty, doc="serial device, gpsd://HOST:PORT or sim://gps"),
    )


_ARGV_RULE = Rule(min_len=1, max_len=64, what="a non-empty array of strings (argv, no shell)")


@json_shape(
    {
        "type": "object",
        "additionalProperties": {
            "type": "array",
            "items": {"type": "string"},
            "minItems": _ARGV_RULE.min_len,
            "maxItems": _ARGV_RULE.max_len,
        },
    }
)
def _commands(value: Any, key: str) -> dict[str, tuple[str, ...]]:
    """``[commands]``: name -> argv (non-empty array of strings), the ``command/exec`` allowlist."""
    argv_rule = _ARGV_RULE
    return {
        name: convert(tuple[str, ...], argv, join_key(key, name), argv_rule)
        for name, argv in check_table(value, key).items()
    }


@dataclass(frozen=True, slots=True)
class AgentConfig:
    """The whole validated configuration; each field is one top-level table."""

    source_path: Path | None = field(metadata=rule(derived=True))
    concentrator: ConcentratorConfig = field(metadata=rule(late=True))
    gateway: GatewayConfig = field(default_factory=GatewayConfig)
    #: the first chirpstack backend's settings (None when there is none), for older callers
    mqtt: MqttConfig | None = field(
        default=None, metadata=rule(late=True, doc="the legacy single ChirpStack backend")
    )
    #: every backend, in file order (``[mqtt]`` first when present)
    backends: tuple[BackendConfig, ...] = field(
        default=(), metadata=rule(late=True, toml_name="backend")
    )
    spool: SpoolConfig = field(default_factory=SpoolConfig)
    regulation: dict[str, Any] = field(default_factory=dict, metadata=rule(schema=RegulationTable))
    status: StatusConfig = field(default_factory=StatusConfig)
    log: LogConfig = field(default_factory=LogConfig)
    #: ``[gps]``: ``tty`` = serial device or ``gpsd://HOST:PORT`` (docs/hardware.md)
    gps: dict[str, Any] = field(default_factory=dict, metadata=rule(schema=GpsTable))
    commands: dict[str, tuple[str, ...]] = field(
        default_factory=dict, metadata=rule(parse=_commands)
    )

    @staticmethod
    def finish_config(
        values: dict[str, Any], raw: dict[str, Any], key: str, context: dict[str, Any]
    ) -> None:
        """The tables whose defaults depend on others: the backends need the region."""
        values["source_path"] = context.get("source_path")
        values["concentrator"] = load(
            ConcentratorConfig, raw.get("concentrator", {}), "concentrator"
        )
        found = backends(raw, values["concentrator"].preset.topic_prefix)
        values["backends"] = found
        values["mqtt"] = next((b.mqtt for b in found if b.mqtt is not None), None)
        plan_from = values.get("gateway", GatewayConfig()).channel_plan_from
        chirpstack = [b.name for b in found if b.mqtt is not None]
        if plan_from is not None and plan_from not in chirpstack:
            known = ", ".join(chirpstack) or "none"
            raise ConfigError("gateway.channel_plan_from", f"names no chirpstack backend ({known})")


def _board(values: dict[str, Any], key: str) -> BoardPreset | None:
    """``[concentrator] board`` with ``[concentrator.board_overrides]`` applied (drivers.boards)."""
    name = values.get("board")
    overrides = values.get("board_overrides") or {}
    if name is None:
        if overrides:
            raise ConfigError(join_key(key, "board_overrides"), "needs [concentrator] board")
        return None
    try:
        preset = board_preset(name)
    except ValueError as exc:
        raise ConfigError(join_key(key, "board"), str(exc)) from None
    try:
        return apply_overrides(preset, overrides) if overrides else preset
    except (ValueError, TypeError) as exc:
        raise ConfigError(join_key(key, "board_overrides"), str(exc)) from None


def _with_board_calibration(
    plan: ChipPlan, board: BoardPreset | None, raw: dict[str, Any]
) -> ChipPlan:
    """The board's RSSI offset and temperature coefficients on each radio, unless the radio's
    own ``[concentrator.radio_N]`` table sets them (explicit plan > board > region default)."""
    if board is None:
        return plan
    radios = []
    for n, radio in enumerate(plan.radios):
        table = raw.get(f"radio_{n}") or {}
        changes: dict[str, Any] = {}
        if "rssi_offset_db" not in table:
            changes["rssi_offset_db"] = board.rssi_offset_db
        if "rssi_tcomp" not in table:
            changes["rssi_tcomp"] = tuple(board.rssi_tcomp)
        radios.append(dataclasses.replace(radio, **changes))
    return dataclasses.replace(plan, radios=(radios[0], radios[1]))


def parse_config(text: str, source: str = "<string>") -> AgentConfig:
    """Validate TOML ``text``; ``source`` names it in errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("", f"{source}: invalid TOML: {exc}") from exc
    except RecursionError:
        raise ConfigError("", f"{source}: invalid TOML: nested too deeply") from None
    source_path = None if source.startswith("<") else Path(source)
    return load(AgentConfig, data, "", context={"source_path": source_path})


def load_config(path: str | Path) -> AgentConfig:
    """Read and validate the TOML file at ``path``."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            data = file.read(MAX_CONFIG_BYTES + 1)
        if len(data) > MAX_CONFIG_BYTES:
            raise ConfigError("", f"{path}: larger than {MAX_CONFIG_BYTES} bytes: not a config")
        text = data.decode("utf-8")
    except FileNotFoundError:
        raise ConfigError("", f"{path}: configuration file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("", f"{path}: cannot read: {exc}") from exc
    return parse_config(text, str(path))
