"""SimSpiDev and open_sim_transport: the py-spidev surface and the sim:// URL."""

from __future__ import annotations

import pytest

from drivers.sim import SimChip, SimConfigError, SimSpiDev, sim_options
from tests.sim.frames import read_frame


def test_simspidev_xfer2_runs_one_frame_on_the_chip():
    dev = SimSpiDev(SimChip(clock="virtual"))
    dev.open(0, 0)
    assert dev.xfer2(list(read_frame(0, 0x5606, 1))) == [0, 0, 0, 0, 0x10]


def test_simspidev_refuses_transfers_when_not_open():
    dev = SimSpiDev(SimChip(clock="virtual"))
    with pytest.raises(OSError):
        dev.xfer2([0, 0x56, 0x06, 0, 0])


def test_simspidev_close_is_idempotent():
    dev = SimSpiDev(SimChip(clock="virtual"))
    dev.open(0, 0)
    dev.close()
    dev.close()
    with pytest.raises(OSError):
        dev.xfer2([0, 0x56, 0x06, 0, 0])


def test_url_query_options_are_converted():
    opts = sim_options(
        "sim://?seed=3&persona=sx1303&clock=virtual&rssi_tcomp=0,0,1,2,3&eui=0102030405060708"
    )
    assert opts == {
        "seed": 3,
        "persona": "sx1303",
        "clock": "virtual",
        "rssi_tcomp": (0.0, 0.0, 1.0, 2.0, 3.0),
        "eui": 0x0102030405060708,
    }


def test_keyword_options_override_the_url():
    assert sim_options("sim://?seed=3", seed=4) == {"seed": 4}


def test_unknown_option_is_refused():
    with pytest.raises(SimConfigError, match="unknown simulator option 'sed'"):
        sim_options("sim://?sed=3")


def test_bad_option_value_is_refused():
    with pytest.raises(SimConfigError, match="devices"):
        sim_options("sim://?devices=many")


def test_open_sim_transport_runs_the_real_spi_framing(tmp_path):
    from drivers.sim import open_sim_transport
    from drivers.transport import Target

    path = tmp_path / "s.jsonl"
    path.write_text('{"at_ms": 0, "fifo_hex": "a5c0"}\n')
    transport = open_sim_transport(f"sim://?scenario={path}&clock=virtual&persona=sx1303")
    assert transport.url.startswith("sim://")
    assert transport.read(Target.SX1302, 0x5606, 1) == b"\x12"
    assert not transport.exhausted
    assert transport.read(Target.SX1302, 0x58C8, 2) == b"\x00\x02"
    assert transport.read(Target.SX1302, 0x4000, 2) == b"\xa5\xc0"
    assert transport.exhausted
    assert transport.sim.persona == "sx1303"
    transport.close()


def test_open_transport_registry_reaches_the_simulator():
    from drivers.transport import open_transport

    transport = open_transport("sim://?clock=virtual", seed=1, tx_log="tx.jsonl")
    assert transport.sim.tx_log == "tx.jsonl"
    assert transport.command(1, 0xC0, b"\x00")[0] >> 4 == 2
    transport.close()
