"""Issue 13 point 3: stats as concentratord sends them (per frequency and per modulation: CRC_OK
only; TX per modulation) and the gateway properties, from the running objects."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from chirpstack_api import gw

from drivers.firmware import AGC_VERSION, ARB_VERSION
from edge_agent import __version__
from edge_agent.backends.chirpstack import codec
from edge_agent.config import parse_config
from edge_agent.gateway_properties import gateway_properties
from edge_agent.service import AgentService
from packet_forwarder.model import GatewayStats
from tests.agent.mqtt_helpers import GW_ID, Subscriber, config_text
from tests.waiting import wait_until

pytestmark = pytest.mark.broker


def packet(n: int, freq_hz: int, sf: int, crc: str) -> dict[str, object]:
    """One scenario line: a LoRaWAN data-up with FCnt ``n``."""
    phy = f"40040302018000{n:02x}00010aa1b2c3d4"
    return {"at_ms": 100 * (n + 1), "freq_hz": freq_hz, "sf": sf, "bw_hz": 125_000, "cr": "4/5",
            "rssi_dbm": -80.0, "snr_db": 5.0, "crc": crc, "phy": phy}  # fmt: skip


PACKETS = [
    packet(1, 868_100_000, 7, "ok"),
    packet(2, 868_100_000, 7, "ok"),
    packet(3, 868_300_000, 9, "ok"),
    packet(4, 867_900_000, 8, "bad"),
]


def lora(sf: int) -> dict[str, object]:
    return {"lora": {"bandwidth": 125_000, "spreadingFactor": sf, "codeRate": "CR_4_5"}}


def test_stats_count_like_concentratord_and_carry_the_gateway_properties(
    broker, running, tmp_path: Path, js_decoder
) -> None:
    scenario = tmp_path / "scenario.jsonl"
    scenario.write_text("".join(json.dumps(p) + "\n" for p in PACKETS))
    text = config_text(broker.url, extra=f'[concentrator.sim]\nscenario = "{scenario}"')
    svc = AgentService(parse_config(text))
    running.append(svc)
    sub = Subscriber(broker.port, "+/gateway/+/event/stats")
    svc.start()
    wait_until(lambda: svc.drained.is_set() and svc.uplinks.pending() == 0, timeout=30)
    wait_until(svc.backend.connected.is_set)
    svc.stats_once()
    payload = sub.collect("/event/stats", 1)[0].payload
    sub.close()
    stats = gw.GatewayStats.FromString(payload)
    assert (stats.rx_packets_received, stats.rx_packets_received_ok) == (4, 3)
    assert dict(stats.rx_packets_per_frequency) == {868_100_000: 2, 868_300_000: 1}  # no BAD_CRC
    doc = json.loads(codec.encode(stats, "json"))
    per_mod = {m["modulation"]["lora"]["spreadingFactor"]: m["count"]
               for m in doc["rxPacketsPerModulation"]}  # fmt: skip
    assert per_mod == {7: 2, 9: 1}
    assert doc["rxPacketsPerModulation"][0]["modulation"] == lora(7)
    conc = svc.concentrator
    assert conc is not None
    meta = dict(stats.metadata)
    assert meta["edge_agent_version"] == __version__
    assert meta["region"] == "EU868"
    assert meta["concentrator_model"] == conc.model in ("SX1302", "SX1303")
    assert meta["concentrator_eui"] == f"{conc.eui:016x}"
    assert meta["chip_version"] == f"0x{conc.version:02x}"
    assert (meta["agc_firmware_version"], meta["arb_firmware_version"]) == (
        str(AGC_VERSION),
        str(ARB_VERSION),
    )
    assert "concentrator_temp" not in meta  # sim:// without a sensor: the fixed value is no reading
    assert "board" not in meta  # none configured
    (js,) = js_decoder([("GatewayStats", payload)])
    assert js["gatewayId"] == GW_ID
    assert sorted((m["modulation"]["lora"]["spreadingFactor"], m["count"])
                  for m in js["rxPacketsPerModulationList"]) == [(7, 2), (9, 1)]  # fmt: skip
    assert dict(js["metadataMap"])["concentrator_eui"] == meta["concentrator_eui"]


def test_tx_per_modulation_is_encoded_per_modulation() -> None:
    stats = GatewayStats(tx_packets_emitted=3)
    stats.tx_packets_per_modulation.update({"LORA/SF12/BW125000/4/5": 2, "FSK/50000": 1})
    msg = codec.gateway_stats(stats, GW_ID, 1_700_000_000.0, None)
    counts = {m.modulation.WhichOneof("parameters"): m.count for m in msg.tx_packets_per_modulation}
    assert counts == {"lora": 2, "fsk": 1}
    lora_entry = next(m for m in msg.tx_packets_per_modulation if m.count == 2).modulation.lora
    assert (lora_entry.spreading_factor, lora_entry.bandwidth, lora_entry.code_rate) == (
        12,
        125_000,
        gw.CR_4_5,
    )


class _Conc:
    model, eui, version = "SX1303", 0x0016C001FF10A235, 0x12

    @property
    def firmware_versions(self) -> dict[str, int]:
        return {"agc": 6, "arb": 2}

    def stats(self) -> dict[str, object]:
        return {"temperature_c": 41.25}


def test_temperature_is_reported_only_when_a_sensor_measures_it() -> None:
    base = '[gateway]\nid = "0016c001ff10a235"\n[concentrator]\nregion = "EU868"\n'
    sensor = parse_config(base + 'url = "usb:///dev/ttyACM0"\n')
    fixed = parse_config(base + 'url = "sim://"\ntemperature_c = 30\n')
    assert gateway_properties(sensor, _Conc())["concentrator_temp"] == "41.2"
    assert "concentrator_temp" not in gateway_properties(fixed, _Conc())
    assert gateway_properties(fixed, None) == {"edge_agent_version": __version__, "region": "EU868"}


def test_an_emitted_downlink_is_counted_per_modulation(broker, tmp_path: Path, js_decoder) -> None:
    from packet_forwarder.model import parse_context
    from tests.downlink.harness import frame, lora_item, running_agent

    with running_agent(tmp_path, broker) as agent:
        up = agent.next_uplink()
        ctx_us, _session = parse_context(up.rx_info.context)
        agent.send_down(frame(31, lora_item(up.rx_info.context, 1.0)))
        assert agent.ack().items[0].status == gw.OK
        agent.play_until_sent((ctx_us + 1_000_000) & 0xFFFF_FFFF)
        agent.svc.stats_once()
        msg = agent.events.expect(lambda m: m.topic.endswith("/event/stats"))
    stats = gw.GatewayStats.FromString(msg.payload)
    assert (stats.tx_packets_received, stats.tx_packets_emitted) == (1, 1)
    assert dict(stats.tx_packets_per_frequency) == {868_100_000: 1}
    (per_mod,) = stats.tx_packets_per_modulation
    lora = per_mod.modulation.lora
    assert (lora.spreading_factor, lora.bandwidth, lora.code_rate, per_mod.count) == (
        7,
        125_000,
        gw.CR_4_5,
        1,
    )
    (js,) = js_decoder([("GatewayStats", msg.payload)])
    assert js["txPacketsPerModulationList"][0]["count"] == 1
    assert js["txPacketsPerModulationList"][0]["modulation"]["lora"]["spreadingFactor"] == 7
