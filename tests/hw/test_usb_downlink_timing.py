"""USB Corecell timing: a downlink is one bulk transfer, so a Class A reply leaves on time.

The simulated bridge MCU (drivers/sim_mcu.py) spends 1 ms per USB request/ack round trip, the
figure sx1302_hal's maintainers measured, and adds it to the simulated chip's virtual clock. The
JIT queue hands a packet out when its start is less than 40 ms away; a send that takes ~45 round
trips would arm the delayed trigger after the start has passed (the chip then fires it one
counter wrap, 134 s, later). Counts before this change (main, same harness): 45 round trips per
downlink, 656 per bring-up.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drivers.sim_mcu import open_sim_usb_transport
from drivers.sx1302.chip import SX1302
from edge_agent.downlinks import DownlinkPipeline
from packet_forwarder.concentrator import Concentrator
from packet_forwarder.jit import TX_JIT_DELAY_US
from packet_forwarder.model import Uplink
from tests.agent.fakes import AckRecordingBackend
from tests.agent.mqtt_helpers import GW_ID
from tests.downlink.harness import agent_config, frame, lora_item

WRAP = 1 << 32
#: bring-up round trips: 656 before bulk mode and the MCU's read-modify-write; radio commands
#: (each waits 1 ms, as the HAL does) and the firmware handshakes' status polls remain
BRING_UP_MAX = 160


@pytest.fixture
def usb(tmp_path: Path) -> Iterator[tuple[Any, Concentrator, Any]]:
    """(transport, started Concentrator, config) on a virtual-clock SimChip behind a SimMcu."""
    cfg = agent_config(tmp_path, "mqtt://127.0.0.1:1")
    scenario = tmp_path / "scenario.jsonl"  # agent_config wrote UPLINK there
    transport = open_sim_usb_transport(
        clock="virtual", scenario=str(scenario), plan=cfg.concentrator.plan, latency_us=1000
    )
    conc = Concentrator(
        transport,
        cfg.concentrator.plan,
        temperature_c=lambda: 25.0,
        chip_factory=lambda t: SX1302(t, sleep=lambda _s: None),
    )
    try:
        yield transport, conc, cfg
    finally:
        conc.close()


def _first_uplink(transport: Any, conc: Concentrator) -> Uplink:
    for _ in range(50):
        uplinks = conc.poll_once()
        if uplinks:
            return uplinks[0]
        transport.sim.advance_us(20_000)
    raise AssertionError("the scenario uplink was not received")


def _pipeline(cfg: Any, conc: Concentrator) -> tuple[DownlinkPipeline, AckRecordingBackend]:
    return DownlinkPipeline(cfg, lambda: conc.session_id), AckRecordingBackend(
        cfg, gateway_id=GW_ID
    )


def _advance_to(transport: Any, conc: Concentrator, count_us: int) -> None:
    now = conc.counter_us()
    transport.sim.advance_us((count_us - now) % WRAP)


def test_delay_1s_downlink_over_usb_goes_on_air_at_context_plus_1s(usb) -> None:
    transport, conc, cfg = usb
    conc.start()
    up = _first_uplink(transport, conc)
    pipeline, backend = _pipeline(cfg, conc)
    pipeline.submit(backend, frame(1, lora_item(up.context, 1.0)).SerializeToString())
    assert pipeline.handle_once(conc, timeout=1.0) == 1
    start_us = (up.count_us + 1_000_000) % WRAP
    # the first radio tick inside the JIT window: 39 ms before the start
    _advance_to(transport, conc, (start_us - TX_JIT_DELAY_US + 1_000) % WRAP)
    assert pipeline.dispatch_once(conc) is not None
    transport.sim.advance_us(100_000)
    assert [t.count_us for t in transport.sim.transmissions] == [start_us]


def test_one_downlink_is_at_most_three_usb_round_trips(usb) -> None:
    transport, conc, cfg = usb
    conc.start()
    up = _first_uplink(transport, conc)
    pipeline, backend = _pipeline(cfg, conc)
    pipeline.submit(backend, frame(2, lora_item(up.context, 1.0)).SerializeToString())
    pipeline.handle_once(conc, timeout=1.0)
    _advance_to(transport, conc, (up.count_us + 1_000_000 - 30_000) % WRAP)
    before = transport.mcu.transactions
    assert pipeline.dispatch_once(conc) is not None
    # counter (both reads in one request), TX status, then the whole send as one bulk request
    assert transport.mcu.transactions - before == 3


def test_a_bring_up_takes_a_bounded_number_of_usb_round_trips(usb) -> None:
    transport, conc, _cfg = usb
    before = transport.mcu.transactions
    conc.start()
    assert transport.sim.firmware_ready
    assert transport.mcu.transactions - before <= BRING_UP_MAX


def test_the_mcu_latency_moves_the_virtual_chip_clock(usb) -> None:
    transport, _conc, _cfg = usb
    elapsed = transport.sim.clock.elapsed_us()
    for _ in range(5):
        transport.read(0, 0x5606, 1)
    assert transport.sim.clock.elapsed_us() - elapsed == 5_000
