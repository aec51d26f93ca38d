"""GPS fully wired, on the simulator's GPS persona (``[gps] tty = "sim://gps"``): the time lock,
live status, location published with source GPS, Class B (GPS-epoch) downlinks at the right
counter value when locked and GPS_UNLOCKED otherwise, and the reader restarted when it dies."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from chirpstack_api import gw

from drivers.gps import GpsTimeReference, TimeRef
from edge_agent.config import parse_config
from edge_agent.radio_gps import GpsConcentrator
from edge_agent.service import AgentService
from tests.agent.fakes import make_uplink
from tests.health.live import GW_ID, daemon_config_text
from tests.waiting import wait_until

GPS_PHY = bytes.fromhex("60040302010000010001020304")


def gps_daemon(tmp_path: Path, tty: str = "sim://gps") -> AgentService:
    text = daemon_config_text(tmp_path, tmp_path / "status.sock") + f'\n[gps]\ntty = "{tty}"\n'
    service = AgentService(parse_config(text))
    service.start()
    return service


@pytest.fixture
def locked(tmp_path: Path):  # type: ignore[no-untyped-def]
    service = gps_daemon(tmp_path)
    try:
        wait_until(lambda: _gps(service).get("time_valid"), 20, "the GPS time lock")
        yield service
    finally:
        service.stop()


def _gps(service: AgentService) -> dict:
    status = getattr(service.concentrator, "gps_status", None)
    return status() if callable(status) and service.health.running else {}


def class_b_frame(downlink_id: int, gps_epoch_us: int) -> bytes:
    frame = gw.DownlinkFrame(downlink_id=downlink_id, gateway_id=GW_ID)
    item = frame.items.add(phy_payload=GPS_PHY)
    info = item.tx_info
    info.frequency, info.power = 869_525_000, 14
    lora = info.modulation.lora
    lora.bandwidth, lora.spreading_factor, lora.code_rate = 125_000, 9, gw.CodeRate.CR_4_5
    lora.polarization_inversion = True
    info.timing.gps_epoch.time_since_gps_epoch.FromMicroseconds(gps_epoch_us)
    return frame.SerializeToString()


def test_the_gps_persona_locks_and_the_status_says_so(locked: AgentService) -> None:
    gps = _gps(locked)
    assert gps["reader"] == "running" and gps["fix"] and gps["pps"] and gps["time_valid"]
    assert gps["satellites"] == 8 and gps["sentences"] > 0
    assert gps["location"] == pytest.approx([48.1173, 11.5167, 545.4], abs=1e-3)


def test_a_gps_fix_is_published_with_source_gps(locked: AgentService) -> None:
    stats = gw.GatewayStats.FromString(locked.stats_once())
    assert stats.location.source == 1  # common.LocationSource.GPS
    assert stats.location.latitude == pytest.approx(48.1173, abs=1e-4)


def test_class_b_downlink_goes_out_at_the_counter_value_of_its_gps_time(
    locked: AgentService,
) -> None:
    chip = locked.sim_world.chip
    persona = chip.gps_persona
    now_gps_us = persona.origin_gps_epoch_us + chip.clock.elapsed_us()
    target_us = (now_gps_us // 1_000_000 + 2) * 1_000_000  # a whole second 1..2 s ahead
    locked.downlinks.submit(locked.backend, class_b_frame(7, target_us))
    expected = (chip.clock.start_ticks // 32 + target_us - persona.origin_gps_epoch_us) % (1 << 32)
    wait_until(lambda: chip.transmissions, 10, "the Class B transmission")
    (tx,) = chip.transmissions
    assert tx.count_us == expected
    assert locked.downlinks.by_status["OK"] == 1


def test_without_a_gps_lock_a_class_b_downlink_is_gps_unlocked(tmp_path: Path) -> None:
    service = gps_daemon(tmp_path, "sim://gps?fix=false")
    try:
        wait_until(lambda: _gps(service).get("sentences"), 20, "GPS sentences")
        assert not _gps(service)["time_valid"] and not _gps(service)["fix"]
        service.downlinks.submit(service.backend, class_b_frame(8, 1_400_000_000_000_000))
        wait_until(lambda: service.downlinks.by_status["GPS_UNLOCKED"] == 1, 10, "the ack")
    finally:
        service.stop()


def test_a_dead_gps_reader_is_reported_and_restarted(locked: AgentService) -> None:
    conc = locked.concentrator
    reader = conc.reader
    reader.poll_once = lambda: 1 / 0  # the next read raises something unexpected
    wait_until(lambda: _gps(locked).get("reader") == "down", 10, "the reader reported down")
    assert "ZeroDivisionError" in _gps(locked)["error"]
    wait_until(lambda: conc.reader is not None and conc.reader is not reader, 10, "a new reader")
    wait_until(lambda: _gps(locked).get("time_valid"), 10, "the lock again")
    assert _gps(locked)["reader_starts"] == 2


class Inner:
    """A concentrator returning one batch of uplinks."""

    def __init__(self, batch: list) -> None:  # type: ignore[type-arg]
        self.batch = batch

    def start(self) -> None: ...

    def pps_us(self) -> int:
        return 0

    def poll_once(self) -> list:  # type: ignore[type-arg]
        return self.batch


class ExpiringReader:
    """A reader whose time reference expires right after its first validity check."""

    def __init__(self, source: str, *, read_pps_count_us) -> None:  # type: ignore[no-untyped-def]
        self.ticks = iter([0.0] + [1000.0] * 10)
        self.reference = GpsTimeReference(clock=lambda: next(self.ticks))
        self.reference.ref = TimeRef(0, 1_800_000_000.0, 1_400_000_000.0, 1.0, 0.0)
        self.location = None
        self.alive = True

    def start(self) -> None: ...

    def close(self) -> None: ...


def test_one_rx_batch_is_converted_with_one_snapshot_of_the_time_reference() -> None:
    batch = [replace(make_uplink(n), count_us=n * 1_000_000) for n in (1, 2)]
    wrapped = GpsConcentrator(Inner(batch), "gpsd://x", reader_factory=ExpiringReader)
    wrapped.start()
    out = wrapped.poll_once()  # the reference expires between the first and second packet
    assert [u.gw_time for u in out] == [1_800_000_001.0, 1_800_000_002.0]
    assert [u.time_since_gps_epoch for u in out] == [1_400_000_001.0, 1_400_000_002.0]
