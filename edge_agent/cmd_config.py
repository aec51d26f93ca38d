"""``edge-agent config import-global-conf FILE``: a Semtech ``global_conf.json`` as edge-agent TOML.

Maps the ``SX130x_conf`` and ``gateway_conf`` keys of sx1302_hal's packet forwarder
(ref/sx1302.md §11) to the explicit channel plan form documented in docs/hardware.md. Keys with
no edge-agent equivalent are listed as comments in the output, so nothing is dropped silently.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path
from typing import Any

from edge_agent.errors import ConfigError
from packet_forwarder.regions import all_presets

# strings are matched first so that "//" inside a path string is not taken for a comment
_JSON_COMMENTS = re.compile(r'("(?:\\.|[^"\\])*")|/\*.*?\*/|//[^\n]*', re.S)
_TCOMP_KEYS = ("coeff_a", "coeff_b", "coeff_c", "coeff_d", "coeff_e")
_REGIONS = (("EU868", 863_000_000, 870_000_000), ("US915", 902_000_000, 928_000_000))
_USED_SX130X = {
    "com_type", "com_path", "antenna_gain", "radio_0", "radio_1", "chan_multiSF_All",
    "chan_Lora_std", "chan_FSK", "lorawan_public", "full_duplex", "fine_timestamp",
    *(f"chan_multiSF_{n}" for n in range(8)),
}  # fmt: skip
_MAX_LISTED = 40
_USED_GATEWAY = {
    "gateway_ID", "gps_tty_path", "ref_latitude", "ref_longitude", "ref_altitude",
    "forward_crc_valid", "forward_crc_error", "forward_crc_disabled",
}  # fmt: skip


class GlobalConfError(ValueError):
    """The file is not a usable global_conf.json."""


def load_global_conf(text: str) -> dict[str, Any]:
    """Parse global_conf.json, tolerating the C comments Semtech's files carry."""
    stripped = _JSON_COMMENTS.sub(lambda m: m.group(1) or " ", text)
    try:
        conf = json.loads(stripped)
    except (ValueError, RecursionError) as exc:
        raise GlobalConfError(f"not valid JSON: {exc}") from None
    if not isinstance(conf, dict) or "SX130x_conf" not in conf:
        raise GlobalConfError("no SX130x_conf object: not an sx1302_hal global_conf.json")
    return conf


def toml_value(value: Any) -> str:
    """One TOML value (inline tables and arrays included); strings are escaped (JSON = TOML)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise GlobalConfError(f"not a finite number: {value!r}")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # ASCII only: every control character and quote escaped
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML form for {value!r}")


def _json_type(value: Any) -> str:
    names = {bool: "a boolean", dict: "an object", list: "an array", str: "a string"}
    if value is None:
        return "null"
    return names.get(type(value), "a number")


def _get(obj: dict[str, Any], key: str, path: str, kind: str, default: Any = None) -> Any:
    """``obj[key]`` checked to be a JSON ``kind`` (object, array, string, boolean, integer,
    number); GlobalConfError naming ``path.key`` otherwise; ``default`` when absent."""
    if key not in obj:
        return default
    value = obj[key]
    where = f"{path}{'' if key.startswith('[') else '.'}{key}" if path else key
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "integer" and number and float(value).is_integer() and abs(value) < 2**63:
        return int(value)
    if kind == "number" and number:
        if not math.isfinite(value):
            raise GlobalConfError(f"{where}: must be a finite number, got {value!r}")
        return value
    types = {"object": dict, "array": list, "string": str, "boolean": bool}
    if kind in types and isinstance(value, types[kind]):
        return value
    article = "an" if kind[0] in "aeio" else "a"
    raise GlobalConfError(f"{where}: must be {article} {kind}, got {_json_type(value)}")


def _radio(sx: dict[str, Any], n: int) -> dict[str, Any]:
    path = f"SX130x_conf.radio_{n}"
    conf = _get(sx, f"radio_{n}", "SX130x_conf", "object", {})
    out: dict[str, Any] = {"enable": _get(conf, "enable", path, "boolean", False)}
    if "freq" in conf:
        out["freq_hz"] = _get(conf, "freq", path, "integer")
    if "rssi_offset" in conf:
        out["rssi_offset_db"] = float(_get(conf, "rssi_offset", path, "number"))
    if "rssi_tcomp" in conf:
        tcomp = _get(conf, "rssi_tcomp", path, "object")
        where = f"{path}.rssi_tcomp"
        out["rssi_tcomp"] = [float(_get(tcomp, k, where, "number", 0.0)) for k in _TCOMP_KEYS]
    if "type" in conf:
        out["type"] = _get(conf, "type", path, "string")
    if _get(conf, "single_input_mode", path, "boolean", False):
        out["single_input_mode"] = True
    out["tx_enable"] = _get(conf, "tx_enable", path, "boolean", False)
    if out["tx_enable"]:
        for src, dst in (("tx_freq_min", "tx_freq_min_hz"), ("tx_freq_max", "tx_freq_max_hz")):
            if src in conf:
                out[dst] = _get(conf, src, path, "integer")
        lut = _get(conf, "tx_gain_lut", path, "array", [])
        out["tx_gain_lut"] = []
        for i, entry in enumerate(lut):
            where = f"{path}.tx_gain_lut[{i}]"
            if not isinstance(entry, dict) or "rf_power" not in entry:
                raise GlobalConfError(f"{where}: must be an object with rf_power")
            out["tx_gain_lut"].append(
                {
                    "rf_power_dbm": _get(entry, "rf_power", where, "integer"),
                    "pa_gain": _get(entry, "pa_gain", where, "integer", 0),
                    "pwr_idx": _get(entry, "pwr_idx", where, "integer", 0),
                }
            )
    return out


def _channels(sx: dict[str, Any]) -> dict[str, Any]:
    """The [concentrator.channels] table: the ChipPlan fields other than the radios."""
    top = "SX130x_conf"
    out: dict[str, Any] = {}
    multi_all = _get(sx, "chan_multiSF_All", top, "object", {})
    sfs = _get(multi_all, "spreading_factor_enable", f"{top}.chan_multiSF_All", "array", [])
    if sfs:
        where = f"{top}.chan_multiSF_All.spreading_factor_enable"
        out["spreading_factors"] = [
            _get({f"[{i}]": sf}, f"[{i}]", where, "integer") for i, sf in enumerate(sfs)
        ]
    out["lorawan_public"] = _get(sx, "lorawan_public", top, "boolean", True)
    if _get(sx, "full_duplex", top, "boolean", False):
        out["full_duplex"] = True
    fine = _get(sx, "fine_timestamp", top, "object", {})
    if _get(fine, "enable", f"{top}.fine_timestamp", "boolean", False):
        out["fine_timestamp"] = True
    # all eight chains, in order: the list index is the IF chain number
    out["multi_sf"] = []
    for n in range(8):
        path = f"{top}.chan_multiSF_{n}"
        chan = _get(sx, f"chan_multiSF_{n}", top, "object", {})
        out["multi_sf"].append(
            {
                "enable": _get(chan, "enable", path, "boolean", False),
                "radio": _get(chan, "radio", path, "integer", 0),
                "if_hz": _get(chan, "if", path, "integer", 0),
            }
        )
    std = _get(sx, "chan_Lora_std", top, "object", {})
    if std:
        path = f"{top}.chan_Lora_std"
        lora = {
            "enable": _get(std, "enable", path, "boolean", False),
            "radio": _get(std, "radio", path, "integer", 0),
            "if_hz": _get(std, "if", path, "integer", 0),
            "bandwidth_hz": _get(std, "bandwidth", path, "integer", 250000),
            "sf": _get(std, "spread_factor", path, "integer", 7),
        }
        if _get(std, "implicit_hdr", path, "boolean", False):
            lora |= {
                "implicit_header": True,
                "implicit_payload_length": _get(std, "implicit_payload_length", path, "integer", 0),
                "implicit_crc": _get(std, "implicit_crc_en", path, "boolean", False),
                "implicit_code_rate": _get(std, "implicit_coderate", path, "integer", 1),
            }
        out["lora_std"] = lora
    fsk = _get(sx, "chan_FSK", top, "object", {})
    if fsk:
        path = f"{top}.chan_FSK"
        datarate = _get(fsk, "datarate", path, "integer", 50000)
        fdev = _get(fsk, "freq_deviation", path, "integer", 25000)
        # lora_pkt_fwd.c: a bandwidth of 0 means 2·fdev + datarate
        bandwidth = _get(fsk, "bandwidth", path, "integer", 0) or 2 * fdev + datarate
        out["fsk"] = {
            "enable": _get(fsk, "enable", path, "boolean", False),
            "radio": _get(fsk, "radio", path, "integer", 0),
            "if_hz": _get(fsk, "if", path, "integer", 0),
            "bandwidth_hz": bandwidth,
            "datarate_bps": datarate,
            "freq_deviation_hz": fdev,
        }
    return out


def preset_for_channels(channel_freqs_hz: list[int]) -> str | None:
    """The region preset whose enabled IF chains listen on exactly these frequencies, if any."""
    wanted = sorted(channel_freqs_hz)
    for preset in all_presets():
        if wanted and sorted(preset.uplink_frequencies_hz()) == wanted:
            return preset.name
    return None


def preset_for_band(channel_freqs_hz: list[int], tx_range_hz: tuple[int, int] | None) -> str | None:
    """The preset whose regulatory sub-bands hold every channel and the TX range, preferring the
    one whose downlink range overlaps the imported TX range most; None when none fits."""
    best: tuple[int, str] | None = None
    for preset in all_presets():
        rules = preset.rules
        if not channel_freqs_hz or not all(rules.sub_band(f) for f in channel_freqs_hz):
            continue
        overlap = 0
        if tx_range_hz is not None:
            low, high = tx_range_hz
            if rules.sub_band(low) is None or rules.sub_band(high - 1) is None:
                continue
            overlap = min(high, preset.tx_freq_max_hz) - max(low, preset.tx_freq_min_hz)
        if best is None or overlap > best[0]:
            best = (overlap, preset.name)
    return None if best is None else best[1]


def _channel_freqs_hz(radios: dict[int, dict[str, Any]], channels: dict[str, Any]) -> list[int]:
    """Centre frequencies of the enabled IF chains of an imported plan."""
    chains = [*channels.get("multi_sf", []), channels.get("lora_std"), channels.get("fsk")]
    return [
        int(radios[c["radio"]].get("freq_hz", 0)) + c["if_hz"]
        for c in chains
        if c and c["enable"] and c["radio"] in radios
    ]


def guess_region(freqs_hz: list[int]) -> str | None:
    """The region whose band holds every enabled radio centre, if any."""
    for name, low, high in _REGIONS:
        if freqs_hz and all(low <= f <= high for f in freqs_hz):
            return name
    return None


def _quoted_list(names: list[str]) -> str:
    """Input-chosen names for a comment: each escaped and shortened, at most 40 of them."""
    shown = [json.dumps(name[:64]) for name in names[:_MAX_LISTED]]
    more = len(names) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _gateway(gw: dict[str, Any]) -> dict[str, Any]:
    gateway: dict[str, Any] = {}
    if _get(gw, "gateway_ID", "gateway_conf", "string", ""):
        gateway["id"] = gw["gateway_ID"].lower()
    for src, dst in (
        ("ref_latitude", "latitude"),
        ("ref_longitude", "longitude"),
        ("ref_altitude", "altitude"),
    ):
        if src in gw:
            gateway[dst] = _get(gw, src, "gateway_conf", "number")
    return gateway


def convert(conf: dict[str, Any], source: str = "global_conf.json") -> str:
    """The edge-agent TOML equivalent of a parsed global_conf.json, checked to load as an
    edge-agent configuration; GlobalConfError naming the JSON key (or the config key) if not."""
    sx = _get(conf, "SX130x_conf", "", "object")
    gw = _get(conf, "gateway_conf", "", "object", {})
    notes: list[str] = []
    tables: list[tuple[str, dict[str, Any]]] = [("gateway", _gateway(gw))]

    com_type = _get(sx, "com_type", "SX130x_conf", "string", "SPI")
    scheme = "usb" if com_type.upper() == "USB" else "spi"
    default_path = "/dev/ttyACM0" if scheme == "usb" else "/dev/spidev0.0"
    com_path = _get(sx, "com_path", "SX130x_conf", "string", "") or default_path
    concentrator: dict[str, Any] = {"url": f"{scheme}://{com_path}"}
    radios = {n: _radio(sx, n) for n in (0, 1)}
    freqs = [r["freq_hz"] for r in radios.values() if r["enable"] and "freq_hz" in r]
    channels = _channels(sx)
    channel_freqs = _channel_freqs_hz(radios, channels)
    region = preset_for_channels(channel_freqs)
    if region is None:
        tx = radios[0] if radios[0].get("tx_enable") else radios[1]
        low, high = tx.get("tx_freq_min_hz"), tx.get("tx_freq_max_hz")
        tx_range = (int(low), int(high)) if low is not None and high is not None else None
        region = preset_for_band(channel_freqs, tx_range)
        region = region or guess_region(freqs)
        if region:
            notes.append(f"region: {region} guessed from the band; check it and its topic_prefix")
    if region:
        concentrator["region"] = region
    else:
        notes.append(f"region: no preset covers radio centres {freqs}; set [concentrator] region")
    if "antenna_gain" in sx:
        concentrator["antenna_gain_dbi"] = float(_get(sx, "antenna_gain", "SX130x_conf", "number"))
    tables.append(("concentrator", concentrator))
    for n, radio in radios.items():
        if radio.get("type", "SX1250") != "SX1250":
            kind = json.dumps(radio["type"][:64])
            notes.append(f"radio_{n} type {kind}: only SX1250 radios are supported")
        tables.append((f"concentrator.radio_{n}", radio))
    tables.append(("concentrator.channels", channels))
    if _get(gw, "gps_tty_path", "gateway_conf", "string", ""):
        tables.append(("gps", {"tty": gw["gps_tty_path"]}))
    crc = {
        "forward_crc_ok": ("forward_crc_valid", True),
        "forward_crc_bad": ("forward_crc_error", False),
        "forward_crc_none": ("forward_crc_disabled", False),
    }
    filters = {dst: _get(gw, src, "gateway_conf", "boolean", d) for dst, (src, d) in crc.items()}
    tables.append(("mqtt.filters", filters))
    ignored = sorted(set(sx) - _USED_SX130X) + sorted(
        f"gateway_conf.{k}" for k in set(gw) - _USED_GATEWAY
    )

    lines = [f"# edge-agent configuration imported from {json.dumps(source)}"]
    lines += [f"# NOTE {note}" for note in notes]
    if ignored:
        lines.append(f"# not imported (no edge-agent equivalent): {_quoted_list(ignored)}")
    for name, values in tables:
        lines += ["", f"[{name}]"]
        lines += [f"{key} = {toml_value(value)}" for key, value in values.items()]
    output = "\n".join(lines) + "\n"
    from edge_agent.config import parse_config

    try:
        parse_config(output, "<imported>")
    except ConfigError as exc:
        raise GlobalConfError(f"the result is not a valid configuration: {exc}") from None
    return output


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


def _run_import(args: argparse.Namespace) -> int:
    try:
        text = Path(args.file).read_text(encoding="utf-8")
        output = convert(load_global_conf(text), source=args.file)
    except (OSError, UnicodeDecodeError, GlobalConfError) as exc:
        print(f"edge-agent config: cannot import {args.file}: {_one_line(exc)}", file=sys.stderr)
        return 2
    if not args.output:
        sys.stdout.write(output)
        return 0
    try:
        Path(args.output).write_text(output)
    except OSError as exc:
        print(f"edge-agent config: cannot write {args.output}: {_one_line(exc)}", file=sys.stderr)
        return 2
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``config import-global-conf``, ``init`` and ``check`` (joining an existing ``config``
    command if present)."""
    existing = subparsers.choices.get("config")
    actions = None
    if existing is not None:
        actions = next(
            (a for a in existing._actions if isinstance(a, argparse._SubParsersAction)), None
        )
    if actions is None:
        parser = subparsers.add_parser("config", help="work with configuration files")
        actions = parser.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    imp = actions.add_parser(
        "import-global-conf", help="print the edge-agent TOML equivalent of a global_conf.json"
    )
    imp.add_argument("file", help="sx1302_hal packet forwarder global_conf.json")
    imp.add_argument("-o", "--output", help="write the TOML here instead of stdout")
    imp.set_defaults(func=_run_import)
    from edge_agent.cmd_config_init import add_check, add_init

    add_init(actions)
    add_check(actions)
