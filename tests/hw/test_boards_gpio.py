"""Board presets and the reset/power GPIO sequence."""

from __future__ import annotations

import pytest

from drivers import gpio as gpio_module
from drivers.boards import apply_overrides, board_names, board_preset
from drivers.errors import SensorError
from drivers.gpio import ResetLines


class FakeLine:
    def __init__(self, log: list[tuple[int, int]], offset: int) -> None:
        self.log, self.offset, self.released = log, offset, False

    def set(self, value: int) -> None:
        self.log.append((self.offset, value))

    def release(self) -> None:
        self.released = True


class FakeBackend:
    def __init__(self) -> None:
        self.log: list[tuple[int, int]] = []
        self.lines: list[FakeLine] = []

    def claim(self, chip: str, offset: int) -> FakeLine:
        line = FakeLine(self.log, offset)
        self.lines.append(line)
        return line


def test_semtech_corecell_uses_the_reset_lgw_pins() -> None:
    preset = board_preset("semtech_corecell")
    assert (preset.power_pin, preset.reset_pin, preset.sx1261_reset_pin) == (18, 23, 22)
    assert preset.temp_i2c_addresses == (0x3B,)
    assert preset.default_url() == "spi:///dev/spidev0.0"


def test_usb_board_defaults_to_a_usb_url() -> None:
    assert board_preset("semtech_corecell_usb").default_url() == "usb:///dev/ttyACM0"


def test_unknown_board_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="rak2287") as info:
        board_preset("rak9999")
    assert "seeed_wm1302" in str(info.value)


def test_every_preset_resolves_by_its_name() -> None:
    assert all(board_preset(name).name == name for name in board_names())
    assert {"rak2287", "seeed_wm1302", "waveshare_sx1302_hat", "dragino_pg1302"} <= set(
        board_names()
    )


def test_overrides_replace_fields_and_keep_the_rest() -> None:
    preset = apply_overrides(
        board_preset("rak2287"), {"reset_pin": 25, "temp_i2c_addresses": [0x38]}
    )
    assert preset.reset_pin == 25
    assert preset.temp_i2c_addresses == (0x38,)
    assert preset.gps_tty == "/dev/ttyAMA0"


def test_unknown_override_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="reset_gpio"):
        apply_overrides(board_preset("rak2287"), {"reset_gpio": 3})


def test_reset_follows_power_reset_sx1261_order() -> None:
    backend = FakeBackend()
    lines = ResetLines("/dev/gpiochip0", 23, 18, 22, backend=backend, step_s=0)
    lines.reset()
    assert backend.log == [(18, 1), (23, 1), (23, 0), (22, 0), (22, 1)]


def test_reset_skips_lines_the_board_does_not_have() -> None:
    backend = FakeBackend()
    ResetLines("/dev/gpiochip0", 17, backend=backend, step_s=0).reset()
    assert backend.log == [(17, 1), (17, 0)]


def test_release_gives_back_every_claimed_line() -> None:
    backend = FakeBackend()
    with ResetLines("/dev/gpiochip0", 23, 18, backend=backend, step_s=0) as lines:
        lines.reset()
    assert [line.released for line in backend.lines] == [True, True]


def test_without_gpiod_claiming_a_line_says_what_to_install(monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "gpiod", None)  # import gpiod -> ImportError
    lines = ResetLines("/dev/gpiochip0", 23, 18, step_s=0)
    with pytest.raises(SensorError, match=r"pip install 'gpiod>=2.1'") as info:
        lines.reset()
    assert "python3-libgpiod" in str(info.value)
    assert not hasattr(gpio_module, "SysfsBackend")  # no /sys/class/gpio fallback


def test_the_libgpiod_v1_bindings_are_refused_by_name(monkeypatch) -> None:
    import sys
    import types

    v1 = types.ModuleType("gpiod")
    v1.Chip = object  # v1 API: gpiod.Chip(...).get_line(...), no request_lines
    v1.__version__ = "1.6.3"
    monkeypatch.setitem(sys.modules, "gpiod", v1)
    with pytest.raises(SensorError, match=r"gpiod 1\.6\.3 is the libgpiod v1 API"):
        ResetLines("/dev/gpiochip0", 23, step_s=0).reset()


def test_stop_resets_once_more_then_releases_the_lines() -> None:
    backend = FakeBackend()
    lines = ResetLines("/dev/gpiochip0", 23, 18, 22, backend=backend, step_s=0)
    lines.reset()
    lines.stop()
    assert backend.log == [(18, 1), (23, 1), (23, 0), (22, 0), (22, 1)] * 2
    assert [line.released for line in backend.lines] == [True, True, True]
    lines.stop()  # nothing held any more: no pulse, nothing to release
    assert len(backend.log) == 10


def test_gpiod_backend_requests_an_output_and_sets_logical_values(monkeypatch) -> None:
    import enum
    import types

    from drivers.gpio import GpiodBackend

    calls: list[tuple] = []

    class Value(enum.Enum):
        INACTIVE = 0
        ACTIVE = 1

    class Direction(enum.Enum):
        OUTPUT = "out"

    class Request:
        def set_value(self, offset: int, value: Value) -> None:
            calls.append(("set", offset, value))

        def release(self) -> None:
            calls.append(("release",))

    def request_lines(path: str, config: dict, consumer: str | None = None) -> Request:
        calls.append(("request", path, consumer, dict(config)))
        return Request()

    fake = types.ModuleType("gpiod")
    fake.line = types.SimpleNamespace(Value=Value, Direction=Direction)
    fake.LineSettings = lambda **kw: kw
    fake.request_lines = request_lines
    monkeypatch.setitem(__import__("sys").modules, "gpiod", fake)

    line = GpiodBackend().claim("/dev/gpiochip0", 23)
    line.set(1)
    line.set(0)
    line.release()
    assert calls == [
        (
            "request",
            "/dev/gpiochip0",
            "edge-agent",
            {23: {"direction": Direction.OUTPUT, "output_value": Value.INACTIVE}},
        ),
        ("set", 23, Value.ACTIVE),
        ("set", 23, Value.INACTIVE),
        ("release",),
    ]


def test_reset_lines_for_a_board_preset_use_its_pins() -> None:
    backend = FakeBackend()
    lines = ResetLines.for_board(board_preset("seeed_wm1302"), backend=backend, step_s=0)
    lines.reset()
    assert backend.log == [(18, 1), (17, 1), (17, 0), (5, 0), (5, 1)]


def test_usb_boards_have_no_host_reset_lines() -> None:
    assert ResetLines.for_board(board_preset("semtech_corecell_usb")) is None
