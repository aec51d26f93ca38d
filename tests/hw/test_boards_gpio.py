"""Board presets and the reset/power GPIO sequence."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers.boards import apply_overrides, board_names, board_preset
from drivers.errors import SensorError
from drivers.gpio import ResetLines, SysfsBackend


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


def _fake_sysfs(root: Path, base: int) -> None:
    chip = root / f"gpiochip{base}"
    chip.mkdir(parents=True)
    (chip / "base").write_text(f"{base}\n")
    (root / "export").write_text("")
    (root / "unexport").write_text("")


def test_sysfs_adds_the_chip_base_offset(tmp_path: Path) -> None:
    _fake_sysfs(tmp_path, 512)
    (tmp_path / "gpio535").mkdir()  # as if the kernel created it on export
    line = SysfsBackend(tmp_path).claim("/dev/gpiochip0", 23)
    line.set(1)
    assert (tmp_path / "gpio535" / "direction").read_text() == "out"
    assert (tmp_path / "gpio535" / "value").read_text() == "1"


def test_sysfs_exports_a_line_not_yet_exported(tmp_path: Path) -> None:
    _fake_sysfs(tmp_path, 0)
    with pytest.raises(SensorError):  # the fake kernel does not create gpio18 on export
        SysfsBackend(tmp_path).claim("/dev/gpiochip0", 18)
    assert (tmp_path / "export").read_text() == "18"


def test_sysfs_without_any_chip_is_a_sensor_error(tmp_path: Path) -> None:
    with pytest.raises(SensorError, match="no sysfs gpiochip"):
        SysfsBackend(tmp_path).claim("/dev/gpiochip0", 18)


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
