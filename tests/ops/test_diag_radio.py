"""Radio checks: facts from the running daemon's status socket, or from the chip interface."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import pytest

import edge_agent.diag.radio as radio
from tests.health.live import live_daemon
from tests.ops.conftest import run_one

UNPLUGGED = [{"at_ms": 300, "fault": "unplug", "duration_ms": 600_000}]


@pytest.fixture
def daemon(use_config, tmp_path):
    """Start a real daemon on the simulator at the socket the diag config names
    (``diag_sections``: what diag's own config overrides)."""

    @contextlib.contextmanager
    def start(diag_sections=None, **kwargs):
        cfg = use_config(**(diag_sections or {}))
        with live_daemon(tmp_path, Path(cfg.status.socket), **kwargs) as supervisor:
            yield supervisor

    return start


def test_concentrator_identity_comes_from_the_running_daemon(daemon) -> None:
    with daemon():
        result = run_one("concentrator")
    assert (result.status, result.detail) == (
        "pass",
        "SX1302 version 0x10, EUI 0016c001ff1a08f0 (from the running daemon)",
    )


def test_a_radio_down_in_the_daemon_fails_the_check_saying_why_and_since_when(daemon) -> None:
    down = lambda doc: doc["radio"]["state"] == "down" and doc["radio"]["restarts"] >= 1  # noqa: E731
    with daemon(scenario=UNPLUGGED, until=down):
        result = run_one("concentrator")
        radios = run_one("radios")
    assert result.status == "fail"
    assert result.detail.startswith("daemon reports radio down since 20")
    assert "unplugged" in result.detail and "restarts, 1 starts)" in result.detail
    assert "restarts the concentrator by itself" in result.hint
    assert radios.status == "fail" and "a: off 867.500 MHz (" in radios.detail


def test_radios_temperature_and_gps_come_from_the_daemon(daemon) -> None:
    with daemon():
        radios, temperature, gps = run_one("radios"), run_one("temperature"), run_one("gps")
    assert radios.detail == "a: rx 867.500 MHz, b: rx 868.500 MHz (daemon)"
    assert temperature.detail == "25.0 °C (daemon)"
    assert (gps.status, gps.detail) == (
        "pass",
        "no GPS configured (class B and geolocation unavailable)",
    )


def test_rx_test_counts_what_arrived_during_the_window(daemon) -> None:
    packets = [
        {"at_ms": 1000 + 100 * i, "freq_hz": 868_100_000, "sf": 7, "bw_hz": 125_000,
         "cr": "4/5", "rssi_dbm": -60.0 - i, "snr_db": 8.0, "crc": "ok", "phy": "40" + "00" * 12}
        for i in range(10)
    ]  # fmt: skip
    with daemon(scenario=packets):  # the window opens before the first packet is due
        result = run_one("rx", rx_seconds=4.0)
    assert result.status == "pass"
    assert re.fullmatch(
        r"10 packets in 4 s; per channel 868\.1 MHz: 10; per SF SF7: 10; "
        r"RSSI -69\.\d\.\.-60\.\d dBm, SNR 8\.\.8 dB; CRC ok 10, bad 0 \(from the running daemon\)",
        result.detail,
    ), result.detail


def test_rx_test_without_daemon_opens_the_concentrator_and_fails_when_absent(use_config) -> None:
    use_config(concentrator={"url": "spi:///dev/spidev9.9"})
    result = run_one("rx", rx_seconds=0.1)
    assert result.status == "fail"
    assert result.detail.startswith("cannot open the concentrator: ")


class FakeChip:
    """The documented chip interface: version(), model(), eui()."""

    def __init__(self, version: int) -> None:
        self._version = version

    def version(self) -> int:
        return self._version

    def model(self) -> str:
        return "SX1302"

    def eui(self) -> int:
        return 0x0016C001FF1E0001


def _use_chip(monkeypatch: pytest.MonkeyPatch, chip: FakeChip) -> None:
    @contextlib.contextmanager
    def fake_open(_ctx):
        yield chip, None

    monkeypatch.setattr(radio, "open_chip", fake_open)


def test_chip_in_reset_fails_with_the_gpio_hint(use_config, monkeypatch) -> None:
    use_config()
    _use_chip(monkeypatch, FakeChip(0x00))
    result = run_one("concentrator")
    assert result.detail == "chip version 0x00 (expected 0x10 SX1302 or 0x12 SX1303)"
    assert "reset or unpowered" in result.hint


def test_chip_identity_without_daemon(use_config, monkeypatch) -> None:
    use_config()
    _use_chip(monkeypatch, FakeChip(0x10))
    assert run_one("concentrator").detail == "SX1302 version 0x10, EUI 0016c001ff1e0001"


def test_unopenable_chip_fails_naming_the_error(use_config, monkeypatch) -> None:
    use_config()

    @contextlib.contextmanager
    def broken(_ctx):
        raise OSError("SPI transfer failed")
        yield

    monkeypatch.setattr(radio, "open_chip", broken)
    result = run_one("concentrator")
    assert (result.status, result.detail) == (
        "fail",
        "cannot open the concentrator: SPI transfer failed",
    )


def test_stts751_registers_decode_as_signed_256ths() -> None:
    assert radio.stts751_celsius(0x29, 0x80) == 41.5
    assert radio.stts751_celsius(0xFF, 0x80) == -0.5


def test_gps_facts_come_from_the_daemon_s_gps_persona(daemon) -> None:
    locked = lambda doc: doc["gps"].get("time_valid") is True  # noqa: E731
    with daemon(extra='[gps]\ntty = "sim://gps"\n', until=locked):
        result = run_one("gps")
    assert result.status == "pass"
    assert result.detail.endswith("fix True, 8 satellites, PPS True")


def test_a_gps_down_with_the_radio_fails_saying_why(daemon) -> None:
    down = lambda doc: doc["radio"]["state"] == "down" and doc["radio"]["restarts"] >= 1  # noqa: E731
    with daemon(scenario=UNPLUGGED, extra='[gps]\ntty = "sim://gps"\n', until=down):
        result = run_one("gps")
    assert result.status == "fail"
    assert result.detail == (
        "GPS reader down (sim://gps): the radio is down: the GPS reader runs with it"
    )


def test_radios_warn_when_the_antenna_gain_leaves_no_usable_tx_entry(daemon) -> None:
    with daemon(diag_sections={"concentrator": {"antenna_gain_dbi": 6.0}}):
        result = run_one("radios")
    assert result.status == "warn"
    assert result.detail.startswith(
        "a: rx 867.500 MHz, b: rx 868.500 MHz (daemon); TX power: radio A: EU868 sub-band K"
    )
    assert "add entries at or below 10 dBm" in result.detail
