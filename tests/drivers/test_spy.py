"""SpyTransport writes one JSON line per access, exactly as documented in docs/drivers.md."""

from __future__ import annotations

import json

import pytest

from drivers.spi import SpiTransport
from drivers.spy import SpyTransport
from drivers.transport import Target


@pytest.fixture
def spy(mocker, tmp_path):
    dev = mocker.Mock(name="SpiDev")
    dev.xfer2.side_effect = lambda frame: [0] * 4 + [0x10] * (len(frame) - 4)
    inner = SpiTransport("spi:///dev/spidev0.0", spidev_factory=lambda: dev)
    inner.sim = "the simulator"  # an attribute only the inner transport has
    spy = SpyTransport(inner, str(tmp_path / "trace.jsonl"))
    yield spy
    spy.close()


def _lines(spy: SpyTransport) -> list[dict]:
    with open(spy.path) as f:
        return [json.loads(line) for line in f]


def test_read_is_recorded_with_the_bytes_read(spy) -> None:
    assert spy.read(Target.SX1302, 0x5606, 2) == b"\x10\x10"
    assert _lines(spy) == [{"target": 0, "op": "r", "addr": 0x5606, "data": "1010"}]


def test_write_is_recorded_with_the_bytes_written(spy) -> None:
    spy.write(Target.SX1302, 0x5643, b"\x01")
    assert _lines(spy) == [{"target": 0, "op": "w", "addr": 0x5643, "data": "01"}]


def test_command_is_recorded_with_opcode_as_addr_and_params_as_data(spy) -> None:
    spy.command(Target.RADIO_B, 0x86, bytes.fromhex("36380000"))
    assert _lines(spy) == [{"target": 2, "op": "cmd", "addr": 0x86, "data": "36380000"}]


def test_lines_appear_in_access_order_with_exactly_four_keys(spy) -> None:
    spy.write(Target.SX1302, 1, b"\xff")
    spy.read(Target.RADIO_A, 2, 1)
    lines = _lines(spy)
    assert [line["op"] for line in lines] == ["w", "r"]
    assert all(sorted(line) == ["addr", "data", "op", "target"] for line in lines)


def test_forwards_inner_attributes(spy) -> None:
    assert (spy.max_burst, spy.url, spy.exhausted) == (1024, "spi:///dev/spidev0.0", False)
    assert spy.sim == "the simulator"


def test_close_closes_the_inner_transport(spy) -> None:
    spy.close()
    spy.close()
    assert spy.inner._closed


def test_open_transport_with_a_spy_url_traces_an_spi_device(mocker, tmp_path) -> None:
    from drivers.transport import open_transport

    dev = mocker.Mock(name="SpiDev")
    dev.xfer2.side_effect = lambda frame: [0] * 4 + [0x10] * (len(frame) - 4)
    path = tmp_path / "t.jsonl"
    with open_transport(
        "spy+spi:///dev/spidev0.0", trace=str(path), spidev_factory=lambda: dev
    ) as transport:
        assert isinstance(transport, SpyTransport)
        transport.read(Target.SX1302, 0x5606, 1)
    assert json.loads(path.read_text()) == {"target": 0, "op": "r", "addr": 0x5606, "data": "10"}
    dev.close.assert_called_once_with()
