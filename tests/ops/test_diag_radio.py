"""Radio checks: facts from the running daemon's status socket, or from the chip interface."""

from __future__ import annotations

import contextlib

import pytest

import edge_agent.diag.radio as radio
from edge_agent.status import StatusServer
from tests.ops.conftest import run_one

RUNNING = {
    "gateway_id": "0016c001ff1e0001",
    "radio": {
        "state": "running",
        "model": "SX1303",
        "version": 0x12,
        "eui": "0016c001ff1e0001",
        "radios": {"a": "ok", "b": "ok"},
        "temperature_c": 43.0,
        "rx": {"by_channel": {}, "by_sf": {}, "crc_ok": 0, "crc_bad": 0},
    },
    "gps": {"enabled": True, "sentences": 120, "fix": True, "satellites": 8, "pps": True},
}


@pytest.fixture
def daemon(use_config):
    """A status socket answering like the daemon, at the path the config names."""
    cfg = use_config()
    document = {"value": RUNNING}
    server = StatusServer(cfg.status.socket, lambda: document["value"])
    server.start()
    yield document
    server.stop()


def test_concentrator_identity_comes_from_the_running_daemon(daemon) -> None:
    result = run_one("concentrator")
    assert (result.status, result.detail) == (
        "pass",
        "SX1303 version 0x12, EUI 0016c001ff1e0001 (from the running daemon)",
    )


def test_a_failed_radio_reported_by_the_daemon_fails_the_check(daemon) -> None:
    daemon["value"] = {"radio": {"state": "failed", "error": "chip version 0x00"}}
    result = run_one("concentrator")
    assert result.status == "fail"
    assert result.detail == "daemon reports radio failed: chip version 0x00"
    assert "journalctl -u edge-agent" in result.hint


def test_radios_temperature_and_gps_come_from_the_daemon(daemon) -> None:
    assert run_one("radios").detail == "a: ok, b: ok (daemon)"
    assert run_one("temperature").detail == "43.0 °C (daemon)"
    assert run_one("gps").detail == "120 sentences, fix True, 8 satellites, PPS True"


def test_gps_without_sentences_fails(daemon) -> None:
    daemon["value"] = {"gps": {"enabled": True, "sentences": 0}}
    result = run_one("gps")
    assert result.status == "fail"
    assert "serial port" in result.hint


def test_rx_test_counts_what_arrived_during_the_window(use_config) -> None:
    cfg = use_config()
    calls = {"n": 0}

    def provider() -> dict:
        calls["n"] += 1
        grown = calls["n"] > 1
        return {
            "radio": {
                "rx": {
                    "by_channel": {"868100000": 10 + (5 if grown else 0), "868300000": 4},
                    "by_sf": {"7": 14 + (4 if grown else 0), "12": 0 + (1 if grown else 0)},
                    "crc_ok": 14 + (4 if grown else 0),
                    "crc_bad": 0 + (1 if grown else 0),
                    "rssi_dbm": {"min": -110, "max": -60},
                    "snr_db": {"min": -7.5, "max": 9.0},
                }
            }
        }

    with StatusServer(cfg.status.socket, provider):
        result = run_one("rx", rx_seconds=0.1)
    assert result.status == "pass"
    assert result.detail == (
        "5 packets in 0.1 s; per channel 868.1 MHz: 5; per SF SF7: 4, SF12: 1; "
        "RSSI -110..-60 dBm, SNR -7.5..9 dB; CRC ok 4, bad 1 (from the running daemon)"
    )


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


def test_radios_warn_when_the_antenna_gain_leaves_no_usable_tx_entry(use_config) -> None:
    cfg = use_config(concentrator={"antenna_gain_dbi": 6.0})
    server = StatusServer(cfg.status.socket, lambda: RUNNING)
    server.start()
    try:
        result = run_one("radios")
    finally:
        server.stop()
    assert result.status == "warn"
    assert result.detail.startswith("a: ok, b: ok (daemon); TX power: radio A: EU868 sub-band K")
    assert "add entries at or below 10 dBm" in result.detail
