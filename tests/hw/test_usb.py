"""The USB transport against the simulated MCU on a pseudo-terminal."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from drivers.errors import TransportError, TransportTimeout
from drivers.sim_mcu import SimMcu
from drivers.transport import Target, open_transport
from drivers.usb import (
    GPIO_POWER_EN,
    GPIO_SX1261_NRESET,
    GPIO_SX1302_RESET,
    ORDERS_V0,
    ORDERS_V1,
    BulkModeError,
    UsbTransport,
)
from tests.hw.regfile import RegisterFile


@pytest.fixture
def chip() -> RegisterFile:
    return RegisterFile()


@pytest.fixture
def mcu(chip: RegisterFile) -> Iterator[SimMcu]:
    with SimMcu(chip.xfer, temperature_c=31.25) as sim:
        yield sim


@pytest.fixture
def usb(mcu: SimMcu) -> Iterator[UsbTransport]:
    with mcu.transport(timeout_s=2.0) as transport:
        yield transport


def test_open_pings_and_reads_the_firmware_version(usb: UsbTransport) -> None:
    assert usb.info.version == "01.00.00"
    assert usb.info.unique_id == bytes(range(12))
    assert usb.orders is ORDERS_V1


def test_registry_opens_usb_urls(mcu: SimMcu) -> None:
    with open_transport(mcu.url) as transport:
        assert isinstance(transport, UsbTransport)
        assert transport.max_burst == 4096


def test_write_then_read_round_trips_through_the_spi_frames(
    usb: UsbTransport, chip: RegisterFile
) -> None:
    usb.write(Target.SX1302, 0x5800, b"\x1c\xcd")
    assert chip.frames[-1] == b"\x00\xd8\x00\x1c\xcd"
    assert usb.read(Target.SX1302, 0x5800, 2) == b"\x1c\xcd"
    assert chip.frames[-1] == b"\x00\x58\x00\x00\x00\x00"


def test_full_4096_byte_burst_fits_one_request(usb: UsbTransport, chip: RegisterFile) -> None:
    image = bytes((i * 7) & 0xFF for i in range(4096))
    usb.write(Target.SX1302, 0x0000, image)
    assert usb.read(Target.SX1302, 0x0000, 4096) == image
    assert len(chip.frames[-1]) == 4 + 4096


def test_burst_larger_than_4096_is_refused(usb: UsbTransport) -> None:
    with pytest.raises(ValueError, match="4096"):
        usb.read(Target.SX1302, 0, 4097)


def test_radio_command_returns_bytes_after_the_opcode(
    usb: UsbTransport, chip: RegisterFile
) -> None:
    reply = usb.command(Target.RADIO_A, 0xC0, b"", reply_length=1)
    assert reply == b"\x22"
    assert chip.frames[-1] == b"\x01\xc0\x00"


def test_temperature_comes_from_get_status(usb: UsbTransport) -> None:
    assert usb.temperature_c() == pytest.approx(31.25)


def test_reset_drives_the_mcu_gpio_sequence(usb: UsbTransport, mcu: SimMcu) -> None:
    usb.reset()
    assert mcu.gpio_writes == [
        (0, GPIO_POWER_EN, 1),
        (0, GPIO_SX1302_RESET, 1),
        (0, GPIO_SX1302_RESET, 0),
        (0, GPIO_SX1261_NRESET, 0),
        (0, GPIO_SX1261_NRESET, 1),
    ]


def test_bulk_mode_sends_queued_writes_as_one_request(
    usb: UsbTransport, mcu: SimMcu, chip: RegisterFile
) -> None:
    before = len(mcu.requests)
    usb.begin_bulk()
    for offset in range(10):
        usb.write(Target.SX1302, 0x5300 + offset, bytes((offset,)))
    assert chip.memory[0x5300:0x530A] == bytes(10)
    usb.flush()
    assert mcu.requests[before:] == [ORDERS_V1.multiple_spi]
    assert chip.memory[0x5300:0x530A] == bytes(range(10))


def test_reads_are_refused_in_bulk_mode(usb: UsbTransport) -> None:
    usb.begin_bulk()
    with pytest.raises(BulkModeError):
        usb.read(Target.SX1302, 0x5606, 1)


def test_bulk_mode_splits_at_the_4096_byte_buffer(usb: UsbTransport, mcu: SimMcu) -> None:
    before = len(mcu.requests)
    usb.begin_bulk()
    for block in range(3):
        usb.write(Target.SX1302, 0x1000 * block, bytes(2000))
    usb.flush()
    assert len(mcu.requests) - before == 2


def test_acks_arriving_one_byte_at_a_time_are_reassembled(chip: RegisterFile) -> None:
    with SimMcu(chip.xfer, chunk_size=1) as mcu, mcu.transport() as usb:
        usb.write(Target.SX1302, 0x10, b"abc")
        assert usb.read(Target.SX1302, 0x10, 3) == b"abc"


def test_silent_mcu_raises_transport_timeout(usb: UsbTransport, mcu: SimMcu) -> None:
    mcu.mute = True
    usb._timeout_s = 0.3
    with pytest.raises(TransportTimeout):
        usb.read(Target.SX1302, 0x5606, 1)


def test_old_mcu_firmware_uses_the_0x06_multiple_spi_order(chip: RegisterFile) -> None:
    with SimMcu(chip.xfer, firmware="00.02.06") as mcu, mcu.transport() as usb:
        assert usb.orders is ORDERS_V0
        usb.write(Target.SX1302, 0x20, b"\x42")
        assert usb.read(Target.SX1302, 0x20, 1) == b"\x42"
        assert ORDERS_V0.multiple_spi in mcu.requests
        assert ORDERS_V1.multiple_spi not in mcu.requests


def test_error_ack_raises_transport_error(usb: UsbTransport) -> None:
    with pytest.raises(TransportError, match="error ack"):
        usb._request(0x33, b"")


def test_close_is_idempotent(usb: UsbTransport) -> None:
    usb.close()
    usb.close()
    with pytest.raises(TransportError, match="closed"):
        usb.read(Target.SX1302, 0, 1)


def test_a_failing_frame_handler_is_a_sub_request_fail(usb: UsbTransport, mcu: SimMcu) -> None:
    def broken(frame: bytes) -> bytes:
        raise RuntimeError("chip exploded")

    mcu.frame_handler = broken
    with pytest.raises(TransportError, match="FAIL"):
        usb.read(Target.SX1302, 0x5606, 1)
    assert str(mcu.handler_errors[0]) == "chip exploded"


class LoopbackSerial:
    """A serial port whose MCU is ``SimMcu.answer`` in-process, with bytes to inject first."""

    def __init__(self, mcu: SimMcu, inject: bytes = b"") -> None:
        self.mcu, self.rx = mcu, bytearray(inject)

    def write(self, data: bytes) -> int:
        length = int.from_bytes(data[1:3], "big")
        ack_id, answer = self.mcu.answer(data[3], data[4 : 4 + length])
        self.rx += bytes((data[0],)) + len(answer).to_bytes(2, "big") + bytes((ack_id,)) + answer
        return len(data)

    def read(self, size: int = 1) -> bytes:
        out, self.rx = bytes(self.rx[:size]), self.rx[size:]
        return out

    def reset_input_buffer(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_a_late_ack_of_an_older_request_is_discarded(mcu: SimMcu, chip: RegisterFile) -> None:
    chip.memory[0x5606] = 0x10
    port = LoopbackSerial(mcu)
    usb = UsbTransport("usb:///dev/loop", serial_factory=lambda _path: port)
    usb._rng.randrange = lambda _n: 7  # our requests carry id 7; the stale ack has id 200
    port.rx += bytes((200, 0, 1, 0x45, 0xEE))
    assert usb.read(Target.SX1302, 0x5606, 1) == b"\x10"


def test_modify_is_one_mcu_read_modify_write_sub_request(
    usb: UsbTransport, mcu: SimMcu, chip: RegisterFile
) -> None:
    chip.memory[0x5601] = 0b1010_0101
    before = len(mcu.requests)
    usb.modify(Target.SX1302, 0x5601, 0x08, 0x00)  # HOST_RADIO_CTRL = 0, the rest kept
    assert mcu.requests[before:] == [ORDERS_V1.multiple_spi]
    assert chip.memory[0x5601] == 0b1010_0101
    usb.modify(Target.SX1302, 0x5601, 0x18, 0x18)
    assert chip.memory[0x5601] == 0b1011_1101


def test_modify_is_queued_in_bulk_mode_with_the_writes(
    usb: UsbTransport, mcu: SimMcu, chip: RegisterFile
) -> None:
    before = len(mcu.requests)
    usb.begin_bulk()
    usb.write(Target.SX1302, 0x5200, b"\x00")
    usb.modify(Target.SX1302, 0x5200, 0x02, 0x02)
    usb.modify(Target.SX1302, 0x5200, 0x01, 0x01)
    assert chip.memory[0x5200] == 0
    usb.flush()
    assert mcu.requests[before:] == [ORDERS_V1.multiple_spi]
    assert chip.memory[0x5200] == 0x03  # applied in order by the MCU


def test_read_many_is_one_round_trip(usb: UsbTransport, mcu: SimMcu, chip: RegisterFile) -> None:
    chip.memory[0x6101:0x6109] = bytes(range(1, 9))
    before = len(mcu.requests)
    reads = usb.read_many([(Target.SX1302, 0x6101, 8), (Target.SX1302, 0x6105, 4)])
    assert reads == [bytes(range(1, 9)), bytes(range(5, 9))]
    assert len(mcu.requests) - before == 1


def test_read_many_is_refused_in_bulk_mode(usb: UsbTransport) -> None:
    usb.begin_bulk()
    with pytest.raises(BulkModeError):
        usb.read_many([(Target.SX1302, 0x5606, 1)])


def test_close_resets_the_chip_first_as_lgw_usb_close_does(mcu: SimMcu) -> None:
    usb = mcu.transport(timeout_s=2.0)
    usb.close()
    assert mcu.gpio_writes == [
        (0, GPIO_POWER_EN, 1),
        (0, GPIO_SX1302_RESET, 1),
        (0, GPIO_SX1302_RESET, 0),
        (0, GPIO_SX1261_NRESET, 0),
        (0, GPIO_SX1261_NRESET, 1),
    ]
