"""Daemon hardware wiring: firmware resolution, board presets, thermometer, radio retry."""

from __future__ import annotations

import time

import pytest
from chirpstack_api import gw

from drivers.errors import FirmwareError
from drivers.firmware import AGC_FILE, ARB_FILE, stand_in_images
from drivers.stts751 import BoardThermometer
from edge_agent.config import parse_config
from edge_agent.radio_setup import RadioSetup, radio_setup, resolve_board, resolve_firmware
from edge_agent.service import AgentService, open_concentrator
from tests.agent.mqtt_helpers import GW_ID, Subscriber, config_text
from tests.hw.test_stts751 import FakeBus, stts751


def cfg(url: str = "sim://", extra: str = "") -> object:
    return parse_config(f'[concentrator]\nurl = "{url}"\nregion = "EU868"\n{extra}\n')


def test_sim_without_firmware_dir_uses_the_transport_default() -> None:
    assert resolve_firmware(cfg()) is None


def test_spi_without_firmware_dir_explains_how_to_get_the_images() -> None:
    with pytest.raises(FirmwareError, match="edge-agent firmware import"):
        resolve_firmware(cfg("spi:///dev/spidev0.0"))


def test_firmware_dir_images_are_loaded(tmp_path) -> None:
    images = stand_in_images()
    (tmp_path / AGC_FILE).write_bytes(images.agc)
    (tmp_path / ARB_FILE).write_bytes(images.arb)
    fw = resolve_firmware(cfg(extra=f'firmware_dir = "{tmp_path}"'))
    assert (fw.agc, fw.arb) == (images.agc, images.arb)


def test_board_preset_is_resolved_by_name() -> None:
    board = resolve_board(cfg(extra='board = "rak2287"'))
    assert board is not None and board.name == "rak2287"


def test_no_board_gives_the_configured_fixed_temperature() -> None:
    setup = radio_setup(cfg(extra="temperature_c = 31.5"))
    assert setup.temperature_c() == 31.5


def test_open_concentrator_on_sim_runs_the_full_bring_up() -> None:
    conc = open_concentrator(cfg("sim://?clock=virtual"))
    conc.start()
    try:
        assert conc.model == "SX1302"
        assert conc._transport.sim.firmware_ready
    finally:
        conc.stop()


@pytest.mark.broker
def test_chip_in_reset_is_retried_while_mqtt_stays_online(broker) -> None:
    text = config_text(broker.url).replace('url = "sim://"', 'url = "sim://?persona=reset"')
    sub = Subscriber(broker.port, "+/gateway/+/state/conn")
    svc = AgentService(parse_config(text))
    svc.start()
    try:
        state = gw.ConnState.FromString(sub.expect(lambda m: m.topic.endswith("conn")).payload)
        assert (state.gateway_id, state.state) == (GW_ID, gw.ConnState.ONLINE)
        deadline = time.monotonic() + 10
        while svc.counters.radio_starts < 2:
            assert time.monotonic() < deadline, "the radio start was not retried"
            time.sleep(0.05)
        assert not svc.radio_ready.is_set()
        stats_sub = Subscriber(broker.port, "+/gateway/+/event/stats")
        svc.stats_once()
        stats = gw.GatewayStats.FromString(stats_sub.expect(lambda m: True).payload)
        assert stats.metadata["radio_up"] == "false"
        stats_sub.close()
    finally:
        svc.stop()
        sub.close()


def test_board_overrides_replace_preset_fields() -> None:
    extra = 'board = "rak2287"\n[concentrator.board_overrides]\nreset_pin = 25\n'
    board = resolve_board(cfg(extra=extra))
    assert board is not None and board.reset_pin == 25


def test_usb_temperature_comes_from_the_mcu_get_status() -> None:
    from drivers.sim import SimChip
    from drivers.sim_mcu import SimMcu

    setup = radio_setup(cfg(extra="temperature_c = 20.0"))
    with (
        SimMcu(SimChip(clock="virtual").xfer, temperature_c=41.5) as mcu,
        mcu.transport(timeout_s=5.0) as transport,
    ):
        read = setup.temperature_for(transport, "usb:///dev/ttyACM0")
        assert read() == 41.5


def test_failed_mcu_temperature_read_falls_back_to_the_configured_value() -> None:
    from drivers.errors import TransportError
    from edge_agent.radio_setup import McuThermometer

    def broken() -> float:
        raise TransportError("no answer")

    assert McuThermometer(broken, lambda: 22.0).temperature_c() == 22.0


def test_every_chip_start_resets_the_board_first(monkeypatch) -> None:
    from edge_agent import radio_setup as module

    resets: list[str] = []
    monkeypatch.setattr(module, "reset_board", lambda board, url: resets.append(url))

    class Transport:
        def reset(self) -> None:
            resets.append("transport")

    setup = radio_setup(cfg())
    chip = setup.new_chip(Transport())
    setup.new_chip(Transport())
    assert resets == ["sim://", "transport"] * 2
    assert chip.firmware is None  # sim:// without firmware_dir: the transport's stand-ins


def test_spi_board_reset_drives_power_then_reset_lines() -> None:
    from drivers.boards import board_preset
    from edge_agent.radio_setup import reset_board

    events: list[tuple[int, int]] = []

    class Line:
        def __init__(self, pin: int) -> None:
            self.pin = pin

        def set(self, value: int) -> None:
            events.append((self.pin, value))

        def release(self) -> None:
            pass

    class Backend:
        def claim(self, chip: str, pin: int) -> Line:
            return Line(pin)

    board = board_preset("rak2287")
    reset_board(board, "spi:///dev/spidev0.0", backend=Backend(), step_s=0)
    assert [v for pin, v in events if pin == board.reset_pin] == [1, 0]
    reset_board(board, "usb:///dev/ttyACM0", backend=Backend(), step_s=0)  # USB: the MCU's job
    assert len(events) == len(
        [e for e in events if e[0] in (board.reset_pin, board.power_pin, board.sx1261_reset_pin)]
    )
    assert [v for pin, v in events if pin == board.reset_pin] == [1, 0]


def test_close_releases_the_board_thermometer_bus() -> None:
    bus = FakeBus({0x39: stts751(0x19, 0x80)})
    setup = RadioSetup(None, None, BoardThermometer(fixed_c=21.0, bus=bus).temperature_c)
    setup.close()
    setup.close()
    assert bus.closed
