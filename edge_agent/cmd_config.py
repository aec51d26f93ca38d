"""``edge-agent config import-global-conf FILE``: a Semtech ``global_conf.json`` as edge-agent TOML.

Maps the ``SX130x_conf`` and ``gateway_conf`` keys of sx1302_hal's packet forwarder
(ref/sx1302.md §11) to the explicit channel plan form documented in docs/hardware.md. Keys with
no edge-agent equivalent are listed as comments in the output, so nothing is dropped silently.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

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
    except ValueError as exc:
        raise GlobalConfError(f"not valid JSON: {exc}") from exc
    if not isinstance(conf, dict) or "SX130x_conf" not in conf:
        raise GlobalConfError("no SX130x_conf object: not an sx1302_hal global_conf.json")
    return conf


def toml_value(value: Any) -> str:
    """One TOML value (inline tables and arrays included)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML form for {value!r}")


def _radio(conf: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"enable": bool(conf.get("enable", False))}
    if "freq" in conf:
        out["freq_hz"] = int(conf["freq"])
    if "rssi_offset" in conf:
        out["rssi_offset_db"] = float(conf["rssi_offset"])
    tcomp = conf.get("rssi_tcomp")
    if isinstance(tcomp, dict):
        out["rssi_tcomp"] = [float(tcomp.get(key, 0.0)) for key in _TCOMP_KEYS]
    if "type" in conf:
        out["type"] = str(conf["type"])
    if conf.get("single_input_mode"):
        out["single_input_mode"] = True
    out["tx_enable"] = bool(conf.get("tx_enable", False))
    if out["tx_enable"]:
        for src, dst in (("tx_freq_min", "tx_freq_min_hz"), ("tx_freq_max", "tx_freq_max_hz")):
            if src in conf:
                out[dst] = int(conf[src])
        out["tx_gain_lut"] = [
            {
                "rf_power_dbm": int(entry["rf_power"]),
                "pa_gain": int(entry.get("pa_gain", 0)),
                "pwr_idx": int(entry.get("pwr_idx", 0)),
            }
            for entry in conf.get("tx_gain_lut") or []
        ]
    return out


def _channels(sx: dict[str, Any]) -> dict[str, Any]:
    """The [concentrator.channels] table: the ChipPlan fields other than the radios."""
    out: dict[str, Any] = {}
    sfs = sx.get("chan_multiSF_All", {}).get("spreading_factor_enable")
    if sfs:
        out["spreading_factors"] = [int(sf) for sf in sfs]
    out["lorawan_public"] = bool(sx.get("lorawan_public", True))
    if sx.get("full_duplex"):
        out["full_duplex"] = True
    if sx.get("fine_timestamp", {}).get("enable"):
        out["fine_timestamp"] = True
    # all eight chains, in order: the list index is the IF chain number
    out["multi_sf"] = []
    for n in range(8):
        chan = sx.get(f"chan_multiSF_{n}", {})
        entry: dict[str, Any] = {"enable": bool(chan.get("enable", False))}
        entry |= {"radio": int(chan.get("radio", 0)), "if_hz": int(chan.get("if", 0))}
        out["multi_sf"].append(entry)
    std = sx.get("chan_Lora_std", {})
    if std:
        lora = {
            "enable": bool(std.get("enable", False)),
            "radio": int(std.get("radio", 0)),
            "if_hz": int(std.get("if", 0)),
            "bandwidth_hz": int(std.get("bandwidth", 250000)),
            "sf": int(std.get("spread_factor", 7)),
        }
        if std.get("implicit_hdr"):
            lora |= {
                "implicit_header": True,
                "implicit_payload_length": int(std.get("implicit_payload_length", 0)),
                "implicit_crc": bool(std.get("implicit_crc_en", False)),
                "implicit_code_rate": int(std.get("implicit_coderate", 1)),
            }
        out["lora_std"] = lora
    fsk = sx.get("chan_FSK", {})
    if fsk:
        datarate = int(fsk.get("datarate", 50000))
        fdev = int(fsk.get("freq_deviation", 25000))
        # lora_pkt_fwd.c: a bandwidth of 0 means 2·fdev + datarate
        bandwidth = int(fsk.get("bandwidth", 0)) or 2 * fdev + datarate
        out["fsk"] = {
            "enable": bool(fsk.get("enable", False)),
            "radio": int(fsk.get("radio", 0)),
            "if_hz": int(fsk.get("if", 0)),
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


def convert(conf: dict[str, Any], source: str = "global_conf.json") -> str:
    """The edge-agent TOML equivalent of a parsed global_conf.json."""
    sx = conf["SX130x_conf"]
    gw = conf.get("gateway_conf", {})
    notes: list[str] = []
    tables: list[tuple[str, dict[str, Any]]] = []

    gateway: dict[str, Any] = {}
    if gw.get("gateway_ID"):
        gateway["id"] = str(gw["gateway_ID"]).lower()
    for src, dst in (
        ("ref_latitude", "latitude"),
        ("ref_longitude", "longitude"),
        ("ref_altitude", "altitude"),
    ):
        if src in gw:
            gateway[dst] = gw[src]
    tables.append(("gateway", gateway))

    scheme = "usb" if str(sx.get("com_type", "SPI")).upper() == "USB" else "spi"
    default_path = "/dev/ttyACM0" if scheme == "usb" else "/dev/spidev0.0"
    concentrator: dict[str, Any] = {"url": f"{scheme}://{sx.get('com_path') or default_path}"}
    radios = {n: _radio(sx.get(f"radio_{n}", {})) for n in (0, 1)}
    freqs = [r["freq_hz"] for r in radios.values() if r["enable"] and "freq_hz" in r]
    channels = _channels(sx)
    channel_freqs = _channel_freqs_hz(radios, channels)
    region = preset_for_channels(channel_freqs)
    if region is None:
        tx = radios[0] if radios[0].get("tx_enable") else radios[1]
        tx_range = (tx.get("tx_freq_min_hz"), tx.get("tx_freq_max_hz"))
        region = preset_for_band(channel_freqs, tx_range if None not in tx_range else None)
        region = region or guess_region(freqs)
        if region:
            notes.append(f"region: {region} guessed from the band; check it and its topic_prefix")
    if region:
        concentrator["region"] = region
    else:
        notes.append(f"region: no preset covers radio centres {freqs}; set [concentrator] region")
    if "antenna_gain" in sx:
        concentrator["antenna_gain_dbi"] = float(sx["antenna_gain"])
    tables.append(("concentrator", concentrator))
    for n, radio in radios.items():
        if radio.get("type", "SX1250") != "SX1250":
            notes.append(f"radio_{n} type {radio['type']}: only SX1250 radios are supported")
        tables.append((f"concentrator.radio_{n}", radio))
    tables.append(("concentrator.channels", channels))
    if gw.get("gps_tty_path"):
        tables.append(("gps", {"tty": gw["gps_tty_path"]}))
    tables.append(
        (
            "mqtt.filters",
            {
                "forward_crc_ok": bool(gw.get("forward_crc_valid", True)),
                "forward_crc_bad": bool(gw.get("forward_crc_error", False)),
                "forward_crc_none": bool(gw.get("forward_crc_disabled", False)),
            },
        )
    )
    ignored = sorted(set(sx) - _USED_SX130X) + sorted(
        f"gateway_conf.{k}" for k in set(gw) - _USED_GATEWAY
    )

    lines = [f"# edge-agent configuration imported from {source}"]
    lines += [f"# NOTE {note}" for note in notes]
    if ignored:
        lines.append(f"# not imported (no edge-agent equivalent): {', '.join(ignored)}")
    for name, values in tables:
        lines += ["", f"[{name}]"]
        lines += [f"{key} = {toml_value(value)}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


def _run_import(args: argparse.Namespace) -> int:
    try:
        text = Path(args.file).read_text()
        output = convert(load_global_conf(text), source=args.file)
    except (OSError, GlobalConfError, KeyError, TypeError) as exc:
        print(f"cannot import {args.file}: {exc}", file=sys.stderr)
        return 1
    if args.output:
        Path(args.output).write_text(output)
    else:
        sys.stdout.write(output)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``config import-global-conf`` (joining an existing ``config`` command if present)."""
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
