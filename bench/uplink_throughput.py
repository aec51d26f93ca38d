"""Uplink throughput: simulated radio -> agent -> mosquitto, against raw paho QoS 1 publishes.

    PYTHONPATH=. python bench/uplink_throughput.py [--count 5000] [--source fake|sim]
        [--rate 2000] [--scenario P]

Runs one mosquitto on a free loopback port. First the whole agent (AgentService: radio thread,
filters, protobuf encoding, in-memory queue, sender thread, QoS 1 with PUBACK acks) forwards
``--count`` uplinks from the source until every one is confirmed; then a bare paho client
publishes the same payloads at QoS 1 with the same in-flight window and waits for every PUBACK.
Prints uplinks/s of both, their ratio, and the process's peak RSS after the agent run (the raw
run comes second so it cannot inflate the agent's peak). The last line is JSON.

``--source fake`` plays a list of ready-made Uplinks (no chip emulation: measures the daemon);
``--source sim`` runs the real radio path: the simulated SX1302 behind the real SPI framing,
FIFO parser, conversions and concentrator. Without ``--scenario`` it plays the same ``--count``
frames offered at ``--rate`` uplinks/s on the eight EU868 multi-SF channels (SF7). The
simulated chip's 4 KiB RX FIFO overflows when the host does not drain it in time, as the real
one would: the run reports those overruns, and the agent's rate is sustainable only if they
are 0. The agent's time includes the scenario's own duration (``count / rate``).
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt

from edge_agent.backends.chirpstack import MAX_INFLIGHT
from edge_agent.backends.chirpstack.codec import uplink_frame
from edge_agent.config import AgentConfig, parse_config
from edge_agent.service import AgentService, open_concentrator
from edge_agent.testing_broker import Broker
from packet_forwarder.model import CrcStatus, Modulation, Uplink

GW_ID = "0016c001ff10a235"


class ListSource:
    """A concentrator stand-in that returns prepared uplinks, ``per_poll`` per poll."""

    session_id = 1
    eui = int(GW_ID, 16)

    def __init__(self, uplinks: list[Uplink], per_poll: int = 64) -> None:
        self._uplinks = uplinks
        self._pos = 0
        self.per_poll = per_poll

    @property
    def exhausted(self) -> bool:
        return self._pos >= len(self._uplinks)

    def start(self) -> None:
        return None

    def poll_once(self) -> list[Uplink]:
        out = self._uplinks[self._pos : self._pos + self.per_poll]
        self._pos += len(out)
        return out

    def stop(self) -> None:
        return None

    def stats(self) -> dict[str, int]:
        return {}


def make_uplinks(count: int) -> list[Uplink]:
    """``count`` data-up frames of 23 bytes with increasing FCnt."""
    now = time.time()
    out = []
    for n in range(count):
        phy = bytes([0x40, 4, 3, 2, 1, 0x80, n & 0xFF, n >> 8 & 0xFF, 1]) + bytes(14)
        up = Uplink(
            phy_payload=phy,
            freq_hz=868_100_000,
            modulation=Modulation.LORA,
            bandwidth_hz=125_000,
            sf=7,
            code_rate="4/5",
            rssi_dbm=-60.0,
            snr_db=8.5,
            channel=n % 8,
            rf_chain=0,
            crc_status=CrcStatus.OK,
            count_us=n * 1000,
            session_id=1,
            gw_time=now,
        )
        out.append(up)
    return out


def write_scenario(path: Path, uplinks: list[Uplink], rate: float) -> str:
    """A scenario playing ``uplinks``' frames at ``rate`` per second on the EU868 channels."""
    channels = (868_100_000, 868_300_000, 868_500_000, 867_100_000,
                867_300_000, 867_500_000, 867_700_000, 867_900_000)  # fmt: skip
    with open(path, "w") as f:
        for n, up in enumerate(uplinks):
            line = {"at_ms": int(n * 1000 / rate), "freq_hz": channels[n % 8], "sf": 7,
                    "bw_hz": 125_000, "cr": "4/5", "rssi_dbm": -60.0, "snr_db": 8.5,
                    "crc": "ok", "phy": up.phy_payload.hex()}  # fmt: skip
            f.write(json.dumps(line) + "\n")
    return str(path)


def run_agent(cfg: AgentConfig, source_factory) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    """Seconds until every uplink was confirmed, and how many were forwarded."""
    svc = AgentService(cfg, concentrator_factory=source_factory)
    t0 = time.perf_counter()
    svc.start()
    try:
        while not svc.done:
            time.sleep(0.005)
        elapsed = time.perf_counter() - t0
    finally:
        svc.stop()
    return elapsed, svc.counters.forwarded


def run_raw(port: int, payloads: list[bytes]) -> float:
    """Seconds for a bare paho client to publish ``payloads`` at QoS 1 and get every PUBACK."""
    acks: queue.Queue[int] = queue.Queue()
    connected = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-raw")
    client.max_inflight_messages_set(MAX_INFLIGHT)
    client.on_connect = lambda *_a: connected.set()
    client.on_publish = lambda _c, _u, mid, _rc, _p: acks.put(mid)
    client.connect("127.0.0.1", port)
    client.loop_start()
    connected.wait(10)
    topic = f"eu868/gateway/{GW_ID}/event/up"
    t0 = time.perf_counter()
    for payload in payloads:
        client.publish(topic, payload, qos=1)
    for _ in payloads:
        acks.get(timeout=60)
    elapsed = time.perf_counter() - t0
    client.disconnect()
    client.loop_stop()
    return elapsed


def main() -> int:
    """Run both measurements and print the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--source", choices=("fake", "sim"), default="fake")
    parser.add_argument("--scenario", help="simulator scenario (with --source sim)")
    parser.add_argument("--rate", type=float, default=2000.0, help="offered uplinks/s (sim)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-uplink-") as tmp:
        broker = Broker(Path(tmp), extra_config="user root" if os.geteuid() == 0 else "")
        broker.start()
        try:
            sim = "exit_when_done = true\n"
            uplinks = make_uplinks(args.count)
            scenario = args.scenario
            if args.source == "sim" and not scenario:
                scenario = write_scenario(Path(tmp) / "scenario.jsonl", uplinks, args.rate)
            if scenario:
                sim += f'scenario = "{Path(scenario).resolve()}"\n'
            cfg = parse_config(
                f'[gateway]\nid = "{GW_ID}"\nstats_interval_s = 3600\n'
                f'[concentrator]\nurl = "sim://"\n[concentrator.sim]\n{sim}'
                f'[mqtt]\nserver = "{broker.url}"\nqos = 1\nqueue_max_uplinks = {args.count + 1}\n'
                f'[spool]\npath = "{tmp}/spool.db"\n'
            )
            overruns = 0
            if args.source == "fake":
                agent_s, forwarded = run_agent(cfg, lambda _cfg: ListSource(uplinks))
            else:
                opened: list = []
                agent_s, forwarded = run_agent(
                    cfg, lambda c: opened.append(open_concentrator(c)) or opened[-1]
                )
                sim_chip = getattr(getattr(opened[0], "_transport", None), "sim", None)
                overruns = sim_chip.stats["overruns"] if sim_chip is not None else -1
            peak_rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            payloads = [uplink_frame(u, GW_ID).SerializeToString() for u in uplinks[:forwarded]]
            raw_s = run_raw(broker.port, payloads)
        finally:
            broker.stop()
    agent_rate = forwarded / agent_s
    raw_rate = len(payloads) / raw_s
    print(f"agent : {forwarded} uplinks in {agent_s:.2f} s = {agent_rate:,.0f} uplinks/s (QoS 1)")
    print(f"raw   : {len(payloads)} publishes in {raw_s:.2f} s = {raw_rate:,.0f} msg/s (QoS 1)")
    print(
        f"ratio : agent/raw = {agent_rate / raw_rate:.2f}; peak RSS {peak_rss_kib / 1024:.1f} MiB"
    )
    if args.source == "sim":
        print(f"sim   : offered {args.rate:,.0f} uplinks/s, RX FIFO overruns {overruns}")
    print(json.dumps({
        "bench": "uplink_throughput", "source": args.source, "count": forwarded,
        "offered_per_s": args.rate if args.source == "sim" else None, "overruns": overruns,
        "agent_uplinks_per_s": round(agent_rate, 1), "raw_paho_msgs_per_s": round(raw_rate, 1),
        "ratio": round(agent_rate / raw_rate, 3), "peak_rss_mib": round(peak_rss_kib / 1024, 1),
    }))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
