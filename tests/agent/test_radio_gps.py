"""GPS time and location in the daemon (edge_agent.radio_gps) on the simulated concentrator."""

from __future__ import annotations

import logging

import pytest

from drivers.errors import SensorError
from drivers.gps import GPS_EPOCH_UNIX_S, GpsTimeReference, Location
from edge_agent.config import parse_config
from edge_agent.radio_gps import GpsConcentrator, gps_source
from edge_agent.service import open_concentrator
from packet_forwarder.errors import ForwardError

PACKET = (
    '{"at_ms": 5, "freq_hz": 868300000, "sf": 7, "bw_hz": 125000, "phy": "c0ffee", '
    '"cr": "4/5", "crc": "ok", "rssi_dbm": -60.0, "snr_db": 8.0}'
)
UTC_S = 1_800_000_000.0
GPS_S = UTC_S - GPS_EPOCH_UNIX_S + 18


class FakeReader:
    """Stands in for drivers.gps.GpsReader: a real time reference, no device."""

    def __init__(self, source: str, *, read_pps_count_us) -> None:  # type: ignore[no-untyped-def]
        self.source = source
        self.read_pps_count_us = read_pps_count_us
        self.reference = GpsTimeReference(clock=lambda: 0.0)
        self.location: Location | None = None
        self.started = self.closed = False

    def start(self) -> None:
        self.started = True

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def conc(tmp_path):  # type: ignore[no-untyped-def]
    scenario = tmp_path / "one.jsonl"
    scenario.write_text(PACKET + "\n")
    text = f'[concentrator]\nurl = "sim://?clock=virtual&scenario={scenario}"\nregion = "EU868"\n'
    readers: list[FakeReader] = []

    def factory(source, **kw):  # type: ignore[no-untyped-def]
        readers.append(FakeReader(source, **kw))
        return readers[-1]

    wrapped = GpsConcentrator(
        open_concentrator(parse_config(text)), "gpsd://x", reader_factory=factory
    )
    wrapped.start()
    yield wrapped, readers[0]
    wrapped.stop()


def receive(wrapped: GpsConcentrator) -> list:  # type: ignore[type-arg]
    wrapped.poll_once()  # the first FIFO poll starts the scenario clock
    wrapped.inner._transport.sim.advance_us(100_000)
    return wrapped.poll_once()


def test_uplink_time_comes_from_gps_while_the_reference_is_valid(conc) -> None:  # type: ignore[no-untyped-def]
    wrapped, reader = conc
    reader.reference.sync(0, UTC_S, GPS_S)
    (uplink,) = receive(wrapped)
    assert uplink.gw_time == pytest.approx(UTC_S + uplink.count_us / 1e6)
    assert uplink.time_since_gps_epoch == pytest.approx(GPS_S + uplink.count_us / 1e6)


def test_without_a_gps_reference_uplinks_keep_the_system_clock(conc) -> None:  # type: ignore[no-untyped-def]
    wrapped, _ = conc
    (uplink,) = receive(wrapped)
    assert uplink.time_since_gps_epoch is None


def test_reader_gets_the_pps_latch_of_the_started_chip(conc) -> None:  # type: ignore[no-untyped-def]
    _wrapped, reader = conc
    assert reader.started
    assert reader.read_pps_count_us() == 0  # the simulator has no PPS source: latch stays 0


def test_location_comes_from_the_gps_fix(conc) -> None:  # type: ignore[no-untyped-def]
    wrapped, reader = conc
    assert wrapped.location is None
    reader.location = Location(48.85, 2.35, 35.0, 7)
    assert wrapped.location == (48.85, 2.35, 35.0)


def test_stop_closes_the_reader(conc) -> None:  # type: ignore[no-untyped-def]
    wrapped, reader = conc
    wrapped.stop()
    assert reader.closed


def test_close_closes_the_reader_and_the_concentrator(conc) -> None:  # type: ignore[no-untyped-def]
    wrapped, reader = conc
    wrapped.close()
    assert reader.closed
    assert not wrapped.inner.started
    with pytest.raises(ForwardError, match="closed"):
        wrapped.inner.start()


def test_unavailable_gps_is_a_warning_not_a_failed_start(tmp_path, caplog) -> None:  # type: ignore[no-untyped-def]
    def failing(source, **_kw):  # type: ignore[no-untyped-def]
        raise SensorError("cannot reach gpsd")

    inner = open_concentrator(parse_config('[concentrator]\nurl = "sim://?clock=virtual"\n'))
    wrapped = GpsConcentrator(inner, "gpsd://127.0.0.1:1", reader_factory=failing)
    with caplog.at_level(logging.WARNING, logger="edge_agent.radio_gps"):
        wrapped.start()
    try:
        assert wrapped.started and wrapped.reader is None
        assert "GPS gpsd://127.0.0.1:1 unavailable" in caplog.text
    finally:
        wrapped.stop()


def test_gps_source_prefers_the_config_then_the_board() -> None:
    class Board:
        gps_tty = "/dev/ttyAMA0"

    assert gps_source({"tty": "gpsd://h:1"}, Board()) == "gpsd://h:1"
    assert gps_source({}, Board()) == "/dev/ttyAMA0"
    assert gps_source({}, None) is None


def test_open_concentrator_wraps_only_with_a_gps_source() -> None:
    plain = open_concentrator(parse_config('[concentrator]\nurl = "sim://"\n'))
    assert not isinstance(plain, GpsConcentrator)
    with_gps = open_concentrator(
        parse_config('[concentrator]\nurl = "sim://"\n[gps]\ntty = "gpsd://127.0.0.1:1"\n')
    )
    assert isinstance(with_gps, GpsConcentrator)
