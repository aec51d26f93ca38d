"""Supervision of the real service on the simulator: health, the status document, SIGHUP reload
(backend only, radio too, invalid file) against a real mosquitto."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from edge_agent import logs
from edge_agent.config import AgentConfig, load_config
from edge_agent.service import AgentService, open_concentrator
from edge_agent.status import StatusClient
from edge_agent.supervision import Supervisor
from tests.agent.mqtt_helpers import Subscriber
from tests.ops.daemon_config import GATEWAY_ID, config_text
from tests.ops.notify_harness import NotifyHarness
from tests.waiting import wait_until

pytestmark = pytest.mark.broker


@pytest.fixture
def running(tmp_path: Path, broker) -> Iterator[tuple[AgentService, Supervisor, Path]]:  # type: ignore[no-untyped-def]
    path = tmp_path / "config.toml"
    path.write_text(config_text(tmp_path, broker.url))
    service = AgentService(load_config(path), config_path=str(path))
    supervisor = Supervisor(service, environ={})
    service.start()
    supervisor.start()
    wait_until(lambda: service.radio_ready.is_set() and service.backend.connected.is_set())
    yield service, supervisor, path
    supervisor.close()
    service.stop()


def test_status_document_reports_radio_rx_and_backend(running) -> None:  # type: ignore[no-untyped-def]
    service, supervisor, _ = running
    wait_until(lambda: service.rx.total >= 3)
    doc = supervisor.document()
    assert doc["gateway_id"] == GATEWAY_ID
    assert doc["radio"]["state"] == "running"
    assert doc["radio"]["model"] == "SX1302"
    assert doc["radio"]["eui"] == "0016c001ff1a08f0"
    rx = doc["radio"]["rx"]
    assert sum(rx["by_channel"].values()) == rx["total"] >= 3
    assert sum(rx["by_sf"].values()) == rx["total"]
    assert rx["rssi_dbm"]["min"] <= rx["rssi_dbm"]["max"]
    assert doc["backends"]["chirpstack"]["state"] == "connected"
    assert doc["downlinks"]["by_status"]["OK"] == 0


def test_the_mqtt_password_is_redacted_from_logs(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    text = config_text(tmp_path, "tcp://127.0.0.1:1").replace(
        "[mqtt]\n", '[mqtt]\nusername = "gw"\npassword = "s3cret-pw"\n'
    )
    path.write_text(text)
    AgentService(load_config(path)).stop()
    assert logs.redact("connecting with s3cret-pw") == "connecting with ***"


def test_healthy_while_threads_run_and_radio_beats(running) -> None:  # type: ignore[no-untyped-def]
    _service, supervisor, _ = running
    assert supervisor.healthy()


def test_reload_of_mqtt_section_restarts_backend_but_not_radio(running, broker) -> None:  # type: ignore[no-untyped-def]
    service, supervisor, path = running
    conc, session, backend = service.concentrator, service.concentrator.session_id, service.backend
    sub = Subscriber(broker.port, f"other/gateway/{GATEWAY_ID}/event/up")
    try:
        path.write_text(config_text(path.parent, broker.url, prefix="other"))
        assert supervisor.reload(str(path)) is True
        assert service.backend is not backend
        sub.expect(lambda m: True, timeout=15)  # uplinks now flow on the new prefix
    finally:
        sub.close()
    assert service.concentrator is conc
    assert service.concentrator.session_id == session
    assert supervisor.document()["reloads"] == 1


def test_reload_of_concentrator_section_starts_a_new_radio_session(running) -> None:  # type: ignore[no-untyped-def]
    service, supervisor, path = running
    conc, session, backend = service.concentrator, service.concentrator.session_id, service.backend
    path.write_text(config_text(path.parent, service.cfg.mqtt.server, temperature_c=30.0))
    assert supervisor.reload(str(path)) is True
    wait_until(lambda: service.concentrator is not conc and service.radio_ready.is_set())
    assert service.concentrator.session_id != session
    assert service.backend is backend
    assert service.cfg.concentrator.temperature_c == 30.0


def test_reload_of_gps_section_restarts_the_radio_with_the_new_source(running) -> None:  # type: ignore[no-untyped-def]
    service, supervisor, path = running
    conc = service.concentrator
    missing = path.parent / "no-such-gps"
    gps = f'[gps]\ntty = "{missing}"\n'
    path.write_text(config_text(path.parent, service.cfg.mqtt.server) + gps)
    assert supervisor.reload(str(path)) is True
    wait_until(lambda: service.concentrator is not conc and service.radio_ready.is_set())
    assert service.concentrator.source == str(missing)  # a GPS that cannot open is a warning


def test_invalid_reload_keeps_the_running_config(running) -> None:  # type: ignore[no-untyped-def]
    service, supervisor, path = running
    before = service.cfg
    path.write_text("[mqtt]\nqos = 9\n")
    assert supervisor.reload(str(path)) is False
    assert service.cfg is before
    assert supervisor.healthy()


def hanging_factory(release: threading.Event) -> Callable[[AgentConfig], object]:
    """A real simulated concentrator whose poll blocks until ``release`` (a hung radio)."""

    def make(cfg: AgentConfig) -> object:
        conc = open_concentrator(cfg)
        real_poll = conc.poll_once

        def poll_once() -> list:
            release.wait()
            return real_poll()

        conc.poll_once = poll_once  # type: ignore[method-assign]
        return conc

    return make


def test_hung_radio_loop_is_unhealthy(tmp_path: Path, broker) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "config.toml"
    path.write_text(config_text(tmp_path, broker.url))
    release = threading.Event()
    service = AgentService(load_config(path), concentrator_factory=hanging_factory(release))
    supervisor = Supervisor(service, environ={}, heartbeat_max_age_s=0.5)
    service.start()
    try:
        wait_until(service.radio_ready.is_set)
        wait_until(lambda: not supervisor.healthy(), timeout=5)
        supervisor.watchdog.poll_once()
        assert supervisor.watchdog.missed == 1
    finally:
        release.set()
        service.stop()


def test_ready_is_sent_while_a_dead_radio_is_retried(tmp_path: Path, broker) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "config.toml"
    path.write_text(
        config_text(tmp_path, broker.url).replace('url = "sim://"', 'url = "spi:///dev/spidev9.9"')
    )
    harness = NotifyHarness(tmp_path / "notify.sock")
    service = AgentService(load_config(path))
    supervisor = Supervisor(service, environ=harness.environ())
    service.start()
    try:
        wait_until(lambda: service.radio_error is not None)
        supervisor.start()
        ready = harness.wait_for("READY", timeout=5)
        assert ready["STATUS"].startswith(("radio down, broker ", "radio restarting, broker "))
        radio = supervisor.document()["radio"]
        assert radio["state"] in ("down", "restarting")
        assert "spidev9.9" in radio["last_error"]
        assert radio["down_since"] is not None and radio["starts"] == 0
        assert supervisor.healthy()  # the retry wait beats the heartbeat
    finally:
        supervisor.close()
        service.stop()
        harness.close()


def test_a_second_daemon_does_not_steal_a_live_status_socket(running) -> None:  # type: ignore[no-untyped-def]
    service, supervisor, _ = running
    second = Supervisor(AgentService(service.cfg), environ={})
    second.start()
    try:
        supervisor.reloads = 7  # marks the first daemon's document
        assert second.status_server is None
        assert StatusClient(service.cfg.status.socket).query("/")["reloads"] == 7
    finally:
        second.close()
        second.service.stop()


def test_reload_while_the_radio_retries_starts_it_from_the_new_config(
    tmp_path: Path, broker
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "config.toml"
    good = config_text(tmp_path, broker.url)
    path.write_text(good.replace('url = "sim://"', 'url = "spi:///dev/spidev9.9"'))
    service = AgentService(load_config(path), config_path=str(path))
    supervisor = Supervisor(service, environ={})
    service.start()
    try:
        wait_until(lambda: service.radio_error is not None)
        path.write_text(good)
        assert supervisor.reload(str(path)) is True
        wait_until(service.radio_ready.is_set)
        assert supervisor.document()["radio"]["state"] == "running"
        assert all(t.is_alive() for t in service.threads())
    finally:
        service.stop()


def test_radio_reload_and_stop_close_every_transport_opened(  # type: ignore[no-untyped-def]
    tmp_path: Path, broker, monkeypatch: pytest.MonkeyPatch
) -> None:
    import drivers

    opened: list = []
    closed: list = []
    real_open = drivers.open_transport

    def recording_open(url: str, **options: object):  # type: ignore[no-untyped-def]
        transport = real_open(url, **options)
        real_close = transport.close

        def close() -> None:
            closed.append(transport)
            real_close()

        transport.close = close
        opened.append(transport)
        return transport

    monkeypatch.setattr(drivers, "open_transport", recording_open)
    path = tmp_path / "config.toml"
    path.write_text(config_text(tmp_path, broker.url))
    service = AgentService(load_config(path), config_path=str(path))
    supervisor = Supervisor(service, environ={})
    service.start()
    try:
        wait_until(service.radio_ready.is_set)
        first = service.concentrator
        path.write_text(config_text(tmp_path, broker.url, temperature_c=30.0))
        assert supervisor.reload(str(path)) is True
        wait_until(lambda: service.concentrator is not first and service.radio_ready.is_set())
        assert len(opened) == 2
        assert closed == [opened[0]]  # the old radio's device is released at the reload
    finally:
        service.stop()
    assert closed == opened  # and the new one's at the stop
