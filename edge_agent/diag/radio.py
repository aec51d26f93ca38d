"""Radio checks: concentrator identity, both radios, temperature, GPS, and the receive test.

While the daemon runs, these take their facts from its status socket (``radio`` and ``gps``
sections, docs/technician-guide.md) instead of fighting it for the chip. When something listens
on the socket but does not answer in time, the daemon is busy, not absent: the checks say "busy"
and never open the chip. Otherwise they open the concentrator themselves through
``drivers.transport.open_transport`` (whose device lock, ``drivers.lock``, still says "busy" when
another process holds the chip) and ``drivers.sx1302.chip.SX1302`` (``version() -> int``,
``model() -> str``, ``eui() -> int``).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

from edge_agent.diag.core import (
    DAEMON_BUSY,
    PASS,
    CheckResult,
    DiagContext,
    check,
    failed,
    needs_config,
    passed,
    warned,
)
from edge_agent.diag.system import concentrator_device

CHIP_VERSIONS = {0x10: "SX1302", 0x12: "SX1303"}  # sx1302_hal: COMMON_VERSION 0x5606
SX1250_GET_STATUS = 0xC0
SX1250_MODES = {2: "STDBY_RC", 3: "STDBY_XOSC", 4: "FS", 5: "RX", 6: "TX"}
DEFAULT_I2C_BUS = "/dev/i2c-1"
TEMP_WARN_C = 70.0


BUSY_HINT = (
    "the concentrator is never opened while a daemon holds it: run diag again when the daemon "
    "answers, or stop it first (systemctl stop edge-agent) to test the chip from here"
)


def daemon_radio(ctx: DiagContext) -> dict[str, Any] | None:
    """The daemon's ``radio`` section, or None when no daemon answers."""
    status = ctx.daemon_status()
    return None if status is None else dict(status.get("radio") or {})


def daemon_busy(name: str, ctx: DiagContext) -> CheckResult | None:
    """A WARN "busy" result when a daemon holds the status socket without answering, else None."""
    ctx.daemon_status()
    if ctx.daemon_state != DAEMON_BUSY:
        return None
    from drivers.lock import is_locked

    _, device = concentrator_device(ctx.config.concentrator.url)
    holds = f"; it holds {device}" if device and is_locked(device) else ""
    return warned(name, f"busy: {ctx.daemon_error}{holds}", BUSY_HINT)


@contextlib.contextmanager
def open_chip(ctx: DiagContext) -> Iterator[Any]:
    """Open the concentrator named in the config: yields ``(SX1302, transport)``."""
    from drivers.sx1302.chip import SX1302
    from drivers.transport import open_transport

    transport = open_transport(ctx.config.concentrator.url)
    try:
        transport.reset()
        yield SX1302(transport), transport
    finally:
        transport.close()


def _chip_unavailable(name: str, exc: Exception) -> CheckResult:
    from drivers.errors import DeviceBusy

    if isinstance(exc, DeviceBusy):
        return warned(name, f"busy: {exc}", BUSY_HINT)
    if isinstance(exc, ImportError):
        return warned(
            name, f"concentrator driver not available: {exc}", "install the full edge-agent"
        )
    return failed(
        name,
        f"cannot open the concentrator: {exc}",
        "run the device and gpio checks; a chip in reset reads version 0x00: check the board's "
        "reset and power-enable GPIO lines ([concentrator] board)",
    )


def _radio_text(chain: Any) -> str:
    """One radio of the daemon's ``radios``: mode, frequency, last error."""
    if not isinstance(chain, dict):
        return str(chain)
    text = str(chain.get("mode"))
    if chain.get("freq_hz"):
        text += f" {chain['freq_hz'] / 1e6:.3f} MHz"
    if chain.get("last_error"):
        text += f" ({chain['last_error']})"
    return text


def radio_down_detail(radio: dict[str, Any]) -> str:
    """What the daemon says about a radio that is not running: state, since when, why, restarts."""
    since = radio.get("down_since")
    when = (
        f" since {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(float(since)))}"
        if since is not None
        else ""
    )
    return (
        f"daemon reports radio {radio.get('state')}{when}: "
        f"{radio.get('last_error') or 'no detail'} "
        f"({radio.get('restarts', 0)} restarts, {radio.get('starts', 0)} starts)"
    )


def radio_down_hint(radio: dict[str, Any]) -> str:
    """Where to look next, by state."""
    if radio.get("state") in ("restarting", "down") and radio.get("starts"):
        return (
            "the daemon restarts the concentrator by itself (docs/technician-guide.md, radio "
            "faults); if it stays down, check power, the cable and 'journalctl -u edge-agent'"
        )
    return "see 'journalctl -u edge-agent' for the bring-up error"


@check("concentrator", "chip version, model and EUI", requires=("device",))
def check_concentrator(ctx: DiagContext) -> CheckResult:
    """The SX1302/SX1303 answers with a known version, its model and its EUI."""
    if skip := needs_config("concentrator", ctx):
        return skip
    if busy := daemon_busy("concentrator", ctx):
        return busy
    radio = daemon_radio(ctx)
    if radio is not None:
        if radio.get("state") != "running":
            return failed("concentrator", radio_down_detail(radio), radio_down_hint(radio))
        return passed(
            "concentrator",
            f"{radio.get('model', '?')} version 0x{int(radio.get('version', 0)):02x}, "
            f"EUI {radio.get('eui', '?')} (from the running daemon)",
        )
    try:
        with open_chip(ctx) as chip:
            version, model, eui = chip[0].version(), chip[0].model(), chip[0].eui()
    except Exception as exc:
        return _chip_unavailable("concentrator", exc)
    if version not in CHIP_VERSIONS:
        return failed(
            "concentrator",
            f"chip version 0x{version:02x} (expected 0x10 SX1302 or 0x12 SX1303)",
            "0x00 means the chip is in reset or unpowered: check the reset/power GPIO lines "
            "and the board definition; 0xff means nothing answers on the SPI bus",
        )
    return passed("concentrator", f"{model} version 0x{version:02x}, EUI {eui:016x}")


@check("radios", "both SX1250 radios answer", requires=("concentrator",))
def check_radios(ctx: DiagContext) -> CheckResult:
    """Radio A and radio B answer GET_STATUS with a valid chip mode."""
    if skip := needs_config("radios", ctx):
        return skip
    if busy := daemon_busy("radios", ctx):
        return busy
    gaps = tx_power_gaps(ctx)
    radio = daemon_radio(ctx)
    if radio is not None:
        radios = {k: _radio_text(v) for k, v in (radio.get("radios") or {}).items()}
        modes = {k: (v or {}).get("mode") for k, v in (radio.get("radios") or {}).items()}
        if not radios:
            return warned("radios", "the daemon does not report radio states", "")
        bad = [f"{k}: {radios[k]}" for k, mode in modes.items() if mode not in ("rx", "disabled")]
        if bad:
            return failed("radios", f"daemon reports {'; '.join(bad)}", radio_down_hint(radio))
        states = ", ".join(f"{k}: {v}" for k, v in radios.items())
        return with_power_gaps(passed("radios", f"{states} (daemon){tx_gain_detail(ctx)}"), gaps)
    try:
        from drivers.transport import Target

        with open_chip(ctx) as (_chip, transport):
            answers = {}
            for label, target in (("A", Target.RADIO_A), ("B", Target.RADIO_B)):
                status = transport.command(target, SX1250_GET_STATUS, b"", 1)[-1]
                answers[label] = SX1250_MODES.get((status >> 4) & 0x7)
    except Exception as exc:
        return _chip_unavailable("radios", exc)
    silent = [k for k, mode in answers.items() if mode is None]
    if silent:
        return failed(
            "radios",
            f"radio {', '.join(silent)} does not answer GET_STATUS",
            "a radio that stays silent after reset points to the board (clock, power): "
            "try another concentrator to confirm",
        )
    states = ", ".join(f"radio {k}: {m}" for k, m in answers.items())
    return with_power_gaps(passed("radios", states + tx_gain_detail(ctx)), gaps)


def tx_gain_detail(ctx: DiagContext) -> str:
    """``; radio A TX gain table (source): 12 dBm PA0/15, ...``: the table downlinks use."""
    from drivers.tx_gain_tables import describe_lut
    from packet_forwarder.regions import region_family

    conc = ctx.config.concentrator
    plan = getattr(conc, "plan", None)
    if plan is None:
        return ""
    lut = plan.radios[0].tx_gain_lut
    if not lut:
        return "; radio A has no TX gain table: no downlink can be sent"
    board = _board(ctx)
    vendor = board.tx_gain_table(region_family(conc.region)) if board else None
    preset = getattr(getattr(conc, "preset", None), "plan", None)
    if vendor is not None and vendor.entries == lut:
        source = f"board {board.name}, {vendor.source}"
    elif preset is not None and preset.radios[0].tx_gain_lut == lut:
        source = f"region {conc.region} preset, Semtech Corecell reference"
    else:
        source = "[concentrator.radio_0] tx_gain_lut"
    return f"; radio A TX gain table ({source}): {describe_lut(lut)}"


def tx_power_gaps(ctx: DiagContext) -> list[str]:
    """Sub-bands of the region that no TX gain entry can serve with the antenna gain (11.5)."""
    from packet_forwarder.regions import power_gaps, region_preset

    conc = ctx.config.concentrator
    preset = getattr(conc, "preset", None) or region_preset(conc.region)
    plan = getattr(conc, "plan", None) or preset.plan
    return [
        f"radio {'AB'[n]}: {gap}"
        for n, radio in enumerate(plan.radios)
        if radio.enable and radio.tx_enable
        for gap in power_gaps(preset, radio.tx_gain_lut, conc.antenna_gain_dbi)
    ]


def with_power_gaps(result: CheckResult, gaps: list[str]) -> CheckResult:
    """``result`` turned into a WARN naming the TX power gaps, when there are any."""
    if not gaps or result.status != PASS:
        return result
    hint = "lower the antenna_gain_dbi only if it is wrong; otherwise carry the lower entries"
    return warned(result.name, f"{result.detail}; TX power: {'; '.join(gaps)}", hint)


def stts751_celsius(high: int, low: int) -> float:
    """TEMP_H/TEMP_L registers to °C: int16(H << 8 | L) / 256 (sx1302_hal loragw_stts751.c)."""
    raw = (high << 8) | low
    return (raw - 0x10000 if raw & 0x8000 else raw) / 256.0


def open_i2c_bus(path: str) -> Any:
    """The Linux I2C bus at ``path`` (``drivers.stts751.I2cBus``; tests give a simulated one)."""
    from drivers.stts751 import LinuxI2cBus

    return LinuxI2cBus(path)


def read_stts751(
    bus_path: str = DEFAULT_I2C_BUS, preferred: tuple[int, ...] = ()
) -> tuple[float, int, tuple[int, ...]]:
    """``(°C, address that answered, addresses probed)``: ``preferred`` first, then the HAL's.

    Raises FileNotFoundError when the bus does not exist, OSError when no STTS751 answers.
    """
    from drivers.errors import SensorError
    from drivers.stts751 import probe_order, probe_stts751

    addresses = probe_order(preferred)
    try:
        bus = open_i2c_bus(bus_path)
    except SensorError as exc:
        if isinstance(exc.__cause__, FileNotFoundError):
            raise exc.__cause__ from exc
        raise OSError(str(exc)) from exc
    try:
        sensor = probe_stts751(bus, addresses)
        if sensor is None:
            raise OSError(f"no STTS751 at {_hex_list(addresses)} on {bus_path}")
        probed = addresses[: addresses.index(sensor.address) + 1]
        return sensor.temperature_c(), sensor.address, probed
    except SensorError as exc:
        raise OSError(str(exc)) from exc
    finally:
        bus.close()


def _hex_list(addresses: tuple[int, ...]) -> str:
    return ", ".join(f"0x{a:02x}" for a in addresses)


def _board(ctx: DiagContext) -> Any:
    from edge_agent.radio_setup import resolve_board

    return resolve_board(ctx.config)


@check("temperature", "board temperature")
def check_temperature(ctx: DiagContext) -> CheckResult:
    """The board temperature sensor answers and reads a plausible value."""
    if skip := needs_config("temperature", ctx):
        return skip
    radio = daemon_radio(ctx)
    if radio is not None and radio.get("temperature_c") is not None:
        celsius, source = float(radio["temperature_c"]), "daemon"
    else:
        scheme, _ = concentrator_device(ctx.config.concentrator.url)
        if scheme != "spi":
            return passed(
                "temperature",
                f"{scheme}://: no host-side sensor; the daemon reports it (configured "
                f"fallback {ctx.config.concentrator.temperature_c} °C)",
            )
        board = _board(ctx)
        if board is not None and not board.temp_i2c_addresses:
            return passed(
                "temperature",
                f"board {board.name} has no temperature sensor; RSSI compensation uses "
                f"[concentrator] temperature_c = {ctx.config.concentrator.temperature_c} °C",
            )
        bus_path = board.i2c_bus if board is not None else DEFAULT_I2C_BUS
        preferred = tuple(board.temp_i2c_addresses) if board is not None else ()
        try:
            celsius, address, probed = read_stts751(bus_path, preferred)
        except FileNotFoundError:
            return warned(
                "temperature",
                f"{bus_path} does not exist: I2C is disabled",
                "enable I2C (raspi-config → Interface Options → I2C), then reboot",
            )
        except OSError as exc:
            return warned(
                "temperature",
                f"no temperature sensor: {exc}",
                "enable I2C (raspi-config → Interface Options → I2C); without a sensor RSSI uses "
                "[concentrator] temperature_c for compensation",
            )
        source = f"STTS751 at 0x{address:02x} on {bus_path}"
        if len(probed) > 1:
            source += f", no answer at {_hex_list(probed[:-1])}"
    if not -40 <= celsius <= 100:
        return failed(
            "temperature", f"{celsius:.1f} °C ({source}): implausible", "check the sensor"
        )
    if celsius > TEMP_WARN_C:
        return warned(
            "temperature", f"{celsius:.1f} °C ({source})", "improve the enclosure's cooling"
        )
    return passed("temperature", f"{celsius:.1f} °C ({source})")


@check("gps", "GPS sentences, fix, satellites and PPS (from the daemon)")
def check_gps(ctx: DiagContext) -> CheckResult:
    """The daemon sees NMEA sentences, a fix, satellites and PPS pulses."""
    if skip := needs_config("gps", ctx):
        return skip
    status = ctx.daemon_status()
    if busy := daemon_busy("gps", ctx):
        return busy
    if status is None:
        return warned(
            "gps", "no daemon answers: GPS facts come from the running daemon", "start it"
        )
    gps = status.get("gps") or {}
    if not gps or not gps.get("enabled", True):
        return passed("gps", "no GPS configured (class B and geolocation unavailable)")
    if gps.get("reader") in ("down", "starting"):
        return failed(
            "gps",
            f"GPS reader {gps['reader']} ({gps.get('source')}): {gps.get('error') or 'no detail'}",
            "the daemon restarts the reader with backoff; a radio that is down takes the GPS "
            "with it (see the concentrator check); else check the GPS serial port",
        )
    facts = (
        f"{gps.get('sentences', 0)} sentences, fix {gps.get('fix', False)}, "
        f"{gps.get('satellites', 0)} satellites, PPS {gps.get('pps', False)}"
    )
    if not gps.get("sentences"):
        return failed("gps", facts, "no NMEA from the GPS: check its serial port and enable_uart=1")
    if not gps.get("fix") or not gps.get("pps"):
        return warned("gps", facts, "the antenna needs open sky; a first fix can take 15 min")
    return passed("gps", facts)


@check("rx", "receive test: packets per channel and SF, RSSI/SNR, CRC ratio", default=False)
def check_rx(ctx: DiagContext) -> CheckResult:
    """Count what is received during ``--seconds`` (``diag rx``): from the daemon's counters
    while it runs, else by starting the concentrator here."""
    if skip := needs_config("rx", ctx):
        return skip
    if busy := daemon_busy("rx", ctx):
        return busy
    before = (daemon_radio(ctx) or {}).get("rx")
    if before is None:
        try:
            tracker = receive_here(ctx)
        except Exception as exc:
            return _chip_unavailable("rx", exc)
        return _rx_result(ctx, tracker.snapshot(), {}, "")
    from edge_agent.errors import StatusError
    from edge_agent.status import StatusClient

    time.sleep(ctx.rx_seconds)
    try:
        after = (StatusClient(ctx.status_socket()).query("/radio", timeout=2.0)).get("rx") or {}
    except StatusError as exc:
        return warned("rx", f"the daemon stopped answering during the test: {exc}", BUSY_HINT)
    return _rx_result(ctx, after, before, " (from the running daemon)")


def receive_here(ctx: DiagContext) -> Any:
    """Start the concentrator from the config, poll it for ``rx_seconds``: an ``RxTracker``."""
    from drivers.transport import open_transport
    from edge_agent.rxstats import RxTracker
    from edge_agent.service import transport_options
    from packet_forwarder.concentrator import Concentrator

    cfg = ctx.config
    conc_cfg = cfg.concentrator
    tracker = RxTracker()
    transport = open_transport(conc_cfg.url, **transport_options(cfg))
    try:
        conc = Concentrator(transport, conc_cfg.plan, temperature_c=lambda: conc_cfg.temperature_c)
        conc.start()
        try:
            deadline = time.monotonic() + ctx.rx_seconds
            while time.monotonic() < deadline:
                for uplink in conc.poll_once():
                    tracker.add(uplink)
                time.sleep(0.01)
        finally:
            conc.stop()
    finally:
        transport.close()
    return tracker


def _rx_result(
    ctx: DiagContext, after: dict[str, Any], before: dict[str, Any], source: str
) -> CheckResult:
    from edge_agent.rxstats import delta, describe

    channels = delta(after.get("by_channel", {}), before.get("by_channel", {}))
    sfs = delta(after.get("by_sf", {}), before.get("by_sf", {}))
    ok = int(after.get("crc_ok", 0)) - int(before.get("crc_ok", 0))
    bad = int(after.get("crc_bad", 0)) - int(before.get("crc_bad", 0))
    if not channels:
        return warned(
            "rx",
            f"no packet in {ctx.rx_seconds:g} s{source}",
            "make a device transmit nearby; check the antenna is connected",
        )
    rssi, snr = after.get("rssi_dbm") or {}, after.get("snr_db") or {}
    detail = describe(channels, sfs, ok, bad, rssi, snr, ctx.rx_seconds) + source
    if ok + bad and bad / (ok + bad) > 0.5:
        return warned("rx", detail, "more bad CRCs than good: interference or a poor antenna")
    return passed("rx", detail)
