"""SpiTransport frames, byte for byte, on a mocked spidev.SpiDev (ref/sx1302.md §1)."""

from __future__ import annotations

import pytest

from drivers.errors import TransportError, UnknownTransportError
from drivers.spi import SpiTransport
from drivers.transport import Target


@pytest.fixture
def spidev(mocker):
    dev = mocker.Mock(name="SpiDev")
    dev.xfer2.side_effect = lambda frame: [0xEE] * len(frame)
    return dev


@pytest.fixture
def transport(spidev) -> SpiTransport:
    return SpiTransport("spi:///dev/spidev0.1", spidev_factory=lambda: spidev)


def test_open_selects_bus_and_device_from_the_url(transport, spidev) -> None:
    spidev.open.assert_called_once_with(0, 1)


def test_open_sets_mode_0_2mhz_8_bits(transport, spidev) -> None:
    assert (spidev.mode, spidev.max_speed_hz, spidev.bits_per_word) == (0, 2_000_000, 8)


def test_single_write_frame(transport, spidev) -> None:
    transport.write(Target.SX1302, 0x5606, b"\x42")
    spidev.xfer2.assert_called_once_with([0x00, 0xD6, 0x06, 0x42])


def test_burst_write_frame_to_radio_b(transport, spidev) -> None:
    transport.write(Target.RADIO_B, 0x0123, b"\x01\x02\x03")
    spidev.xfer2.assert_called_once_with([0x02, 0x81, 0x23, 1, 2, 3])


def test_single_read_frame_and_answer_at_index_4(transport, spidev) -> None:
    spidev.xfer2.side_effect = lambda frame: [9, 9, 9, 9, 0x10]
    assert transport.read(Target.SX1302, 0x5606, 1) == b"\x10"
    spidev.xfer2.assert_called_once_with([0x00, 0x56, 0x06, 0x00, 0x00])


def test_burst_read_returns_miso_after_the_four_byte_header(transport, spidev) -> None:
    spidev.xfer2.side_effect = lambda frame: [0xAA] * 4 + list(range(len(frame) - 4))
    assert transport.read(Target.SX1302, 0x4000, 6) == bytes(range(6))
    spidev.xfer2.assert_called_once_with([0x00, 0x40, 0x00, 0x00, 0, 0, 0, 0, 0, 0])


def test_command_frame_and_reply_after_the_opcode(transport, spidev) -> None:
    spidev.xfer2.side_effect = lambda frame: [0xA0, 0xA1, 0x22, 0x33]
    reply = transport.command(Target.RADIO_A, 0xC0, b"", 2)
    spidev.xfer2.assert_called_once_with([0x01, 0xC0, 0x00, 0x00])
    assert reply == b"\x22\x33"


def test_command_with_parameters(transport, spidev) -> None:
    transport.command(Target.RADIO_A, 0x86, bytes.fromhex("36380000"))
    spidev.xfer2.assert_called_once_with([0x01, 0x86, 0x36, 0x38, 0x00, 0x00])


def test_burst_longer_than_1024_bytes_is_refused(transport) -> None:
    with pytest.raises(ValueError, match=r"1\.\.1024"):
        transport.read(Target.SX1302, 0x4000, 1025)


def test_missing_device_raises_transport_error_with_a_hint(spidev) -> None:
    spidev.open.side_effect = FileNotFoundError(2, "No such file or directory")
    with pytest.raises(TransportError, match="is SPI enabled"):
        SpiTransport("spi:///dev/spidev0.0", spidev_factory=lambda: spidev)


def test_bad_url_names_the_expected_form(spidev) -> None:
    with pytest.raises(TransportError, match=r"spidevB\.D"):
        SpiTransport("spi:///dev/ttyUSB0", spidev_factory=lambda: spidev)


def test_ioctl_failure_becomes_transport_error(transport, spidev) -> None:
    spidev.xfer2.side_effect = OSError(121, "Remote I/O error")
    with pytest.raises(TransportError, match="SPI transfer failed"):
        transport.read(Target.SX1302, 0x5606, 1)


def test_close_is_idempotent(transport, spidev) -> None:
    transport.close()
    transport.close()
    spidev.close.assert_called_once_with()


def test_access_after_close_raises(transport) -> None:
    transport.close()
    with pytest.raises(TransportError, match="closed"):
        transport.read(Target.SX1302, 0x5606, 1)


def test_default_factory_is_the_real_spidev(mocker) -> None:
    fake_module = mocker.Mock()
    fake_module.SpiDev.return_value.open.side_effect = FileNotFoundError(2, "missing")
    mocker.patch.dict("sys.modules", {"spidev": fake_module})
    with pytest.raises(TransportError, match=r"/dev/spidev7\.0"):
        SpiTransport("spi:///dev/spidev7.0")
    fake_module.SpiDev.return_value.open.assert_called_once_with(7, 0)


def test_a_fake_device_may_sit_behind_another_url_scheme(spidev) -> None:
    transport = SpiTransport("sim://?seed=1", spidev_factory=lambda: spidev)
    transport.write(Target.SX1302, 0x5643, b"\x01")
    spidev.xfer2.assert_called_once_with([0x00, 0xD6, 0x43, 0x01])
    assert transport.url == "sim://?seed=1"


def test_drivers_import_without_spidev_and_open_names_the_package(mocker) -> None:
    import importlib

    import drivers.spi

    mocker.patch.dict("sys.modules", {"spidev": None})  # import spidev -> ImportError
    importlib.reload(drivers.spi)
    with pytest.raises(UnknownTransportError, match="pip install spidev"):
        drivers.spi.SpiTransport("spi:///dev/spidev0.0")
