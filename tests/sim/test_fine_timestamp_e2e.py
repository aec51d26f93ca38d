"""Fine timestamps end to end: simulated SX1303 -> real driver -> Concentrator -> Uplink."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from drivers import open_transport
from drivers.sim.reception import metrics_for_mean, preamble_end_elapsed_ticks
from drivers.sim.scenario import parse_scenario
from drivers.sx1302.fine_timestamp import TICKS_PER_SECOND
from packet_forwarder.concentrator import Concentrator
from packet_forwarder.regions import region_preset

#: ftime is exact up to the host's float32 mean and the truncation to whole ns
TOLERANCE_NS = 2
#: the scenario clock starts 0.25 s into the simulation (see _run); PPS edges at whole seconds
SCENARIO_START_US = 250_000
PACKETS = [
    {"at_ms": 17_300, "freq_hz": 868_100_000, "sf": 7, "phy": "4034120b268001000119a47e1e70"},
    {"at_ms": 18_712, "freq_hz": 868_300_000, "sf": 9, "phy": "40785601"},
    {"at_ms": 19_050, "freq_hz": 867_500_000, "sf": 12, "phy": "40bc9a0b2680030c"},
]

#: the EU868 LoRa-service channel (SF7 BW250): end-of-header latch, but no fine timestamp
SERVICE = {"at_ms": 19_500, "freq_hz": 868_300_000, "sf": 7, "bw_hz": 250_000, "phy": "40bc9a"}


def _line(packet: dict) -> str:
    base = {"bw_hz": 125_000, "cr": "4/5", "rssi_dbm": -80.0, "snr_db": 5.0, "crc": "ok"}
    return json.dumps({**base, **packet})


def _run(tmp_path: Path, persona: str, fine: bool, packets: list[dict]):
    scenario = tmp_path / "fine.jsonl"
    scenario.write_text("".join(_line(p) + "\n" for p in packets))
    transport = open_transport(f"sim://?clock=virtual&persona={persona}&scenario={scenario}")
    sim = transport.sim
    plan = replace(region_preset("EU868").plan, fine_timestamp=fine)
    conc = Concentrator(transport, plan, temperature_c=lambda: 25.0)
    conc.start()
    sim.advance_us(SCENARIO_START_US - sim.clock.elapsed_us())
    uplinks = conc.poll_once()  # first FIFO poll: the scenario clock starts now
    for _ in range(40):  # 20 s in 500 ms polls: the driver sees every PPS edge
        sim.advance_us(500_000)
        uplinks += conc.poll_once()
    conc.close()
    return uplinks, sim


def _expected_ftime_ns(packet: dict, sim) -> float:
    parsed = parse_scenario([_line(packet)], "x.jsonl").items[0]
    end_ticks = (sim.started_at_us + packet["at_ms"] * 1000) * 32
    preamble_end = preamble_end_elapsed_ticks(parsed, end_ticks)
    return (preamble_end % TICKS_PER_SECOND) * 31.25


@pytest.fixture(scope="module")
def fine_run(tmp_path_factory):
    """One simulated SX1303 run in fine-timestamp mode (uplinks, SimChip)."""
    return _run(tmp_path_factory.mktemp("fine"), "sx1303", True, [*PACKETS, SERVICE])


def test_sx1303_uplinks_carry_the_time_since_the_last_pps(fine_run) -> None:
    uplinks, sim = fine_run
    assert len(uplinks) == len(PACKETS) + 1
    for packet, uplink in zip(PACKETS, uplinks, strict=False):
        assert uplink.fine_timestamp_ns == pytest.approx(
            _expected_ftime_ns(packet, sim), abs=TOLERANCE_NS
        )


def test_sx1303_fine_mode_count_us_is_the_packet_time(fine_run) -> None:
    uplinks, sim = fine_run
    got = [u.count_us for u in uplinks]
    assert got == [sim.started_at_us + p["at_ms"] * 1000 for p in [*PACKETS, SERVICE]]


def test_lora_service_uplinks_have_no_fine_timestamp(fine_run) -> None:
    uplinks, _ = fine_run
    assert [(u.channel, u.fine_timestamp_ns) for u in uplinks[-1:]] == [(8, None)]


def test_no_fine_timestamp_before_sixteen_pps_edges(tmp_path) -> None:
    early = {**PACKETS[0], "at_ms": 5_000}
    uplinks, _ = _run(tmp_path, "sx1303", True, [early])
    assert [u.fine_timestamp_ns for u in uplinks] == [None]


def test_legacy_mode_on_an_sx1303_has_no_fine_timestamp(tmp_path) -> None:
    uplinks, sim = _run(tmp_path, "sx1303", False, PACKETS[:1])
    assert [u.fine_timestamp_ns for u in uplinks] == [None]
    assert sim.fine_timestamping is False


def test_sim_metrics_reach_the_requested_mean() -> None:
    metrics = metrics_for_mean(-2_969 * 64, 64)
    running = total = 0
    for metric in metrics:
        running += metric
        total += running
    assert total == -2_969 * 64
    assert all(-128 <= m <= 127 for m in metrics)
