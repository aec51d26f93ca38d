"""SIGHUP reload, one test per row of the operator guide's reload table (docs/operator-guide.md,
"Signals"): every section is applied, or left for a restart with a WARNING and in ``status``."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from packet_forwarder.model import DownlinkRequest, Modulation, Timing, TxStatus
from tests.health.live import supervised
from tests.ops.daemon_config import config_text
from tests.waiting import wait_until

pytestmark = pytest.mark.broker
NEEDS_RESTART = "needs a restart; still running with the old value"


@pytest.fixture
def daemon(tmp_path: Path, broker) -> Iterator[tuple[object, object, Path]]:  # type: ignore[no-untyped-def]
    """A real daemon on the simulator and the test broker, its config file at ``path``."""
    path = tmp_path / "config.toml"
    path.write_text(config_text(tmp_path, broker.url))
    with supervised(path) as (service, supervisor):
        wait_until(lambda: service.health.running and service.backend.connected.is_set())
        yield service, supervisor, path


def reload_with(daemon, edit) -> bool:  # type: ignore[no-untyped-def]
    """Rewrite the config with ``edit(text)`` and reload it."""
    service, supervisor, path = daemon
    path.write_text(edit(config_text(path.parent, service.cfg.mqtt.server)))
    return supervisor.reload(str(path))


def immediate(freq_hz: int, power_dbm: float = 14.0) -> DownlinkRequest:
    return DownlinkRequest(
        downlink_id=1, phy_payload=b"\x60" + bytes(12), freq_hz=freq_hz, power_dbm=power_dbm,
        modulation=Modulation.LORA, timing=Timing.IMMEDIATELY, bandwidth_hz=500_000, sf=10,
    )  # fmt: skip


def test_concentrator_region_rebuilds_the_downlink_pipeline_with_the_radio(daemon) -> None:  # type: ignore[no-untyped-def]
    service, _supervisor, _path = daemon
    conc = service.concentrator
    assert service.downlinks.scheduler.schedule(immediate(923_300_000), 0) is TxStatus.TX_FREQ
    old_scheduler = service.downlinks.scheduler
    assert reload_with(
        daemon, lambda t: t.replace('url = "sim://"', 'url = "sim://"\nregion = "US915"')
    )
    wait_until(lambda: service.concentrator is not conc and service.health.running)
    scheduler = service.downlinks.scheduler
    assert scheduler is not old_scheduler
    assert scheduler.duty_cycle is None  # US915 has no duty-cycle bands
    assert service.downlinks.cfg.concentrator.region == "US915"
    now_us = service.concentrator.counter_us()
    assert scheduler.schedule(immediate(923_300_000), now_us) is TxStatus.OK


def test_regulation_applies_at_once_without_restarting_the_radio(daemon) -> None:  # type: ignore[no-untyped-def]
    service, _supervisor, _path = daemon
    conc, session = service.concentrator, service.concentrator.session_id
    assert service.downlinks.scheduler.duty_cycle.enforce is True
    assert reload_with(daemon, lambda t: t + "\n[regulation]\nenforce_duty_cycle = false\n")
    assert service.downlinks.scheduler.duty_cycle.enforce is False
    assert service.concentrator is conc and conc.session_id == session


def test_invalid_regulation_keeps_the_running_configuration(daemon) -> None:  # type: ignore[no-untyped-def]
    service, _supervisor, _path = daemon
    before, scheduler = service.cfg, service.downlinks.scheduler
    assert not reload_with(daemon, lambda t: t + '\n[regulation]\nenforce_duty_cycle = "no"\n')
    assert service.cfg is before and service.downlinks.scheduler is scheduler


@pytest.mark.parametrize("section", ["spool", "status"])
def test_restart_only_sections_are_loud_and_shown_in_status(daemon, section, caplog) -> None:  # type: ignore[no-untyped-def]
    service, supervisor, _path = daemon
    before = getattr(service.cfg, section)
    key = {"spool": "spool.db", "status": "status.sock"}[section]
    with caplog.at_level(logging.WARNING, logger="edge_agent.supervision"):
        assert reload_with(daemon, lambda t: t.replace(key, "elsewhere-" + key))
    assert f"reload: [{section}] {NEEDS_RESTART}" in caplog.text
    assert getattr(service.cfg, section) == before  # still running with the old value
    assert supervisor.document()["pending_restart"] == {f"[{section}]": NEEDS_RESTART}
    assert reload_with(daemon, lambda t: t)  # back to the running value: nothing pending
    assert supervisor.document()["pending_restart"] == {}


def test_log_level_applies_at_once(daemon) -> None:  # type: ignore[no-untyped-def]
    try:
        assert reload_with(daemon, lambda t: t + '\n[log]\nlevel = "DEBUG"\n')
        assert logging.getLogger().level == logging.DEBUG
    finally:
        logging.getLogger().setLevel(logging.WARNING)


def test_gateway_stats_interval_and_location_apply_without_restarts(daemon) -> None:  # type: ignore[no-untyped-def]
    service, _supervisor, _path = daemon
    conc, backend = service.concentrator, service.backend
    located = "stats_interval_s = 5\nlatitude = 48.1\nlongitude = 11.5"
    assert reload_with(daemon, lambda t: t.replace("stats_interval_s = 600", located))
    assert service.cfg.gateway.stats_interval_s == 5 and service.cfg.gateway.latitude == 48.1
    assert service.concentrator is conc and service.backend is backend


def test_gateway_id_replaces_the_mqtt_client(daemon) -> None:  # type: ignore[no-untyped-def]
    service, _supervisor, _path = daemon
    backend, conc = service.backend, service.concentrator
    assert reload_with(daemon, lambda t: t.replace("0016c001ff1e0001", "0016c001ff1e0002"))
    assert service.backend is not backend and service.gateway_id == "0016c001ff1e0002"
    assert service.concentrator is conc


def test_mqtt_filters_swap_the_filter_only(daemon) -> None:  # type: ignore[no-untyped-def]
    service, _supervisor, _path = daemon
    backend, conc = service.backend, service.concentrator
    filt = backend.filter
    filters = "reconnect_max_s = 0.5\n[mqtt.filters]\nforward_crc_bad = true"
    assert reload_with(daemon, lambda t: t.replace("reconnect_max_s = 0.5", filters))
    assert service.backend is backend and backend.filter is not filt
    assert service.concentrator is conc


def test_mqtt_marshaler_restarts_only_the_backend(daemon) -> None:  # type: ignore[no-untyped-def]
    service, _supervisor, _path = daemon
    backend, conc = service.backend, service.concentrator
    json_marshaler = 'topic_prefix = "eu868"\nmarshaler = "json"'
    assert reload_with(daemon, lambda t: t.replace('topic_prefix = "eu868"', json_marshaler))
    assert service.backend is not backend
    assert service.backend.cfg.mqtt.marshaler == "json"
    assert service.concentrator is conc


def test_concentrator_sim_section_restarts_the_radio(daemon) -> None:  # type: ignore[no-untyped-def]
    service, _supervisor, _path = daemon
    conc = service.concentrator
    assert reload_with(daemon, lambda t: t.replace("devices = 20", "devices = 3"))
    wait_until(lambda: service.concentrator is not conc and service.health.running)
    assert service.concentrator.session_id != conc.session_id


def test_radio_fail_restart_after_s_applies_with_the_radio_restart(daemon) -> None:  # type: ignore[no-untyped-def]
    service, _supervisor, _path = daemon
    conc = service.concentrator
    assert service.health.fail_restart_after_s == 2.0
    restart = 'url = "sim://"\nradio_fail_restart_after_s = 5'
    assert reload_with(daemon, lambda t: t.replace('url = "sim://"', restart))
    wait_until(lambda: service.concentrator is not conc and service.health.running)
    assert service.health.fail_restart_after_s == 5.0
