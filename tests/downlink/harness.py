"""The daemon in-process on the simulated SX1302 with a VIRTUAL clock, plus a fake network server.

Virtual time makes every timing assertion deterministic: the chip's counter only moves when the
test moves it (``advance_us``), so "the uplink's context + 1 s" is an exact counter value and
nothing depends on how fast this machine runs the threads. Every step of the clock is at most
``STEP_US`` and is followed by a counter read through the concentrator, so the driver sees every
2^32-tick wrap (it must read the counter at least once per 134 s).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from chirpstack_api import gw

from drivers import open_transport
from drivers.sx1302.chip import SX1302
from edge_agent.config import AgentConfig, parse_config
from edge_agent.service import AgentService, transport_options
from packet_forwarder.concentrator import Concentrator
from packet_forwarder.jit import wrap_diff
from tests.agent.mqtt_helpers import GW_ID, Subscriber

PREFIX = f"eu868/gateway/{GW_ID}"
#: largest virtual-clock step between two counter reads (the driver needs one per 134 s)
STEP_US = 100_000_000

UPLINK = {"at_ms": 100, "freq_hz": 868_100_000, "sf": 7, "bw_hz": 125_000, "cr": "4/5",
          "rssi_dbm": -60.0, "snr_db": 8.0, "crc": "ok",
          "phy": "40010203048001000101aabbccdd"}  # fmt: skip
PHY_DOWN = bytes.fromhex("6001020304000100")


@dataclass
class Agent:
    """A running AgentService, its simulated chip and a subscriber on the gateway's events."""

    svc: AgentService
    sim: Any
    conc: Concentrator
    events: Subscriber
    publisher: mqtt.Client
    tx_log: Path

    def count_us(self) -> int:
        """The chip's counter now, in the daemon's µs domain (virtual clock)."""
        clock = self.sim.clock
        return ((clock.start_ticks + clock.elapsed_us() * 32) // 32) & 0xFFFF_FFFF

    def advance_us(self, us: int) -> None:
        """Move the virtual clock, reading the counter through the driver at least per 100 s."""
        while us > 0:
            step = min(us, STEP_US)
            self.sim.advance_us(step)
            self.conc.counter_us()
            us -= step

    def advance_to(self, count_us: int) -> None:
        """Move the virtual clock until the counter reads ``count_us`` (modulo 2^32)."""
        ahead = wrap_diff(count_us, self.count_us())
        assert ahead >= 0, f"counter is already {-ahead} µs past {count_us}"
        self.advance_us(ahead)

    def next_uplink(self, timeout: float = 10.0) -> gw.UplinkFrame:
        """Play the scenario forward until the daemon publishes an uplink; return it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.advance_us(50_000)
            try:
                msg = self.events.expect(lambda m: m.topic.endswith("/event/up"), timeout=0.05)
            except AssertionError:
                continue
            return gw.UplinkFrame.FromString(msg.payload)
        raise AssertionError("no uplink published")

    def send_down(self, frame: gw.DownlinkFrame, *, json_body: bool = False) -> None:
        """Publish a DownlinkFrame on command/down as ChirpStack does."""
        if json_body:
            from google.protobuf import json_format

            payload = json_format.MessageToJson(frame, indent=None).encode()
        else:
            payload = frame.SerializeToString()
        self.publisher.publish(f"{PREFIX}/command/down", payload, qos=1).wait_for_publish(5)

    def ack(self, timeout: float = 10.0) -> gw.DownlinkTxAck:
        """The next event/ack."""
        msg = self.events.expect(lambda m: m.topic.endswith("/event/ack"), timeout)
        if msg.payload.startswith(b"{"):
            from google.protobuf import json_format

            return json_format.Parse(msg.payload.decode(), gw.DownlinkTxAck())
        return gw.DownlinkTxAck.FromString(msg.payload)

    def play_until_sent(self, count_us: int) -> list[Any]:
        """Advance to the JIT window of a TX at ``count_us``, wait until the radio thread has
        programmed it, then past its start; the simulator's transmissions."""
        programmed = threading.Event()
        self.svc.downlinks.on_programmed = lambda tx, _t: programmed.set()
        self.advance_to((count_us - 30_000) & 0xFFFF_FFFF)
        assert programmed.wait(5.0), "the radio thread did not program the TX"
        self.advance_us(31_000)
        return self.sim.transmissions

    def tx_log_lines(self) -> list[dict[str, Any]]:
        """The tx_log JSONL file, parsed."""
        if not self.tx_log.exists():
            return []
        return [json.loads(line) for line in self.tx_log.read_text().splitlines()]


def agent_config(tmp_path: Path, server: str, *, counter_start_ticks: int = 0,
                 extra: str = "", marshaler: str = "protobuf") -> AgentConfig:  # fmt: skip
    """Daemon config: virtual-clock simulator with one scenario uplink, tx_log in tmp."""
    scenario = tmp_path / "scenario.jsonl"
    scenario.write_text(json.dumps(UPLINK) + "\n")
    text = (
        f'[gateway]\nid = "{GW_ID}"\nstats_interval_s = 600\n'
        '[concentrator]\nurl = "sim://"\nregion = "EU868"\n'
        f'[concentrator.sim]\nscenario = "{scenario}"\ntx_log = "{tmp_path / "tx.jsonl"}"\n'
        f'clock = "virtual"\ncounter_start_ticks = {counter_start_ticks}\n'
        f'[mqtt]\nserver = "{server}"\nmarshaler = "{marshaler}"\n'
        "reconnect_min_s = 0.1\nreconnect_max_s = 0.5\n"
        f'[spool]\npath = "{tmp_path / "spool.db"}"\n'
        f'[status]\nsocket = "{tmp_path / "status.sock"}"\n'
        f"{extra}\n"
    )
    return parse_config(text)


@contextmanager
def running_agent(tmp_path: Path, broker: Any, **options: Any) -> Iterator[Agent]:
    """Start the daemon on ``broker``; stop it and the MQTT clients afterwards."""
    cfg = agent_config(tmp_path, broker.url, **options)
    holder: dict[str, Any] = {}

    def factory(cfg: AgentConfig) -> Concentrator:
        conc = cfg.concentrator
        transport = open_transport(conc.url, **transport_options(cfg))
        holder["sim"] = transport.sim
        holder["conc"] = Concentrator(
            transport,
            conc.plan,
            temperature_c=lambda: 25.0,
            chip_factory=lambda t: SX1302(t, sleep=lambda _s: None),  # the sim needs no waits
        )
        return holder["conc"]

    events = Subscriber(broker.port, f"{PREFIX}/event/+")
    publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-network-server")
    publisher.connect("127.0.0.1", broker.port)
    publisher.loop_start()
    svc = AgentService(cfg, concentrator_factory=factory)
    svc.start()
    try:
        assert svc.radio_ready.wait(20), "radio did not come up"
        assert svc.backend.connected.wait(10), "backend did not connect"
        # the daemon subscribes right after CONNACK; give the SUBACK a moment
        time.sleep(0.2)
        yield Agent(svc, holder["sim"], holder["conc"], events, publisher, tmp_path / "tx.jsonl")
    finally:
        svc.stop()
        publisher.loop_stop()
        publisher.disconnect()
        events.close()


def lora_item(context: bytes, delay_s: float, *, freq_hz: int = 868_100_000, sf: int = 7,
              power: int = 14, payload: bytes = PHY_DOWN) -> gw.DownlinkFrameItem:  # fmt: skip
    """A Class A (delay) LoRa item as ChirpStack builds it."""
    item = gw.DownlinkFrameItem(phy_payload=payload)
    info = item.tx_info
    info.frequency, info.power, info.context = freq_hz, power, context
    lora = info.modulation.lora
    lora.bandwidth, lora.spreading_factor, lora.code_rate = 125_000, sf, gw.CodeRate.CR_4_5
    lora.polarization_inversion = True
    info.timing.delay.delay.FromMicroseconds(round(delay_s * 1_000_000))
    return item


def frame(
    downlink_id: int, *items: gw.DownlinkFrameItem, gateway_id: str = GW_ID
) -> gw.DownlinkFrame:
    """A DownlinkFrame for our gateway."""
    out = gw.DownlinkFrame(downlink_id=downlink_id, gateway_id=gateway_id)
    out.items.extend(items)
    return out


def statuses(ack: gw.DownlinkTxAck) -> list[str]:
    """The ack's item statuses by name."""
    return [gw.TxAckStatus.Name(item.status) for item in ack.items]
