"""A downlink flood against ``edge-agent run`` on ``sim://``: uplink lateness, order, RSS, CPU.

One mosquitto on a free loopback port; the daemon as a subprocess plays a scenario of numbered
uplinks at a steady rate; a publisher process floods ``command/down`` with valid DownlinkFrames
(QoS 0, paced per millisecond slice) for ``flood_s`` seconds, starting ``lead_s`` after the
daemon is online. A subscriber records every ``event/up`` and counts ``event/ack``.

Lateness: the scenario's clock starts at the daemon's first FIFO poll, which the test cannot see,
so each uplink's lateness is (arrival - scenario time) minus the smallest such offset of the run:
the fastest uplink counts as 0 and every other one is measured against it. The sampler reads the
daemon's VmRSS and CPU time from /proc every 0.25 s.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from chirpstack_api import gw

from edge_agent.testing_broker import Broker

GW_ID = "0016c001ff10a235"
PREFIX = f"eu868/gateway/{GW_ID}"
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class FloodResult:
    """What one run observed."""

    sent_uplinks: int
    received_seq: list[int] = field(default_factory=list)
    lateness_s: list[float] = field(default_factory=list)
    acks: int = 0
    flood_sent: int = 0
    flood_s: float = 0.0
    rss_before_kb: int = 0
    rss_peak_kb: int = 0
    rss_after_kb: int = 0
    cpu_flood_s: float = 0.0
    status: dict[str, Any] = field(default_factory=dict)
    log_tail: str = ""

    def pct(self, q: float) -> float:
        """Lateness percentile ``q`` (0..100) in seconds."""
        values = sorted(self.lateness_s)
        if not values:
            return float("nan")
        return values[min(len(values) - 1, round(q / 100 * (len(values) - 1)))]


def uplink_phy(seq: int) -> str:
    """An unconfirmed data up whose FRMPayload carries ``seq`` (4 bytes, big endian)."""
    return (
        "400102030480"
        + (seq & 0xFFFF).to_bytes(2, "little").hex()
        + "01"
        + seq.to_bytes(4, "big").hex()
        + "aabbccdd"
    )


def seq_of(phy: bytes) -> int:
    """The sequence number ``uplink_phy`` put in."""
    return int.from_bytes(phy[9:13], "big")


def write_config(workdir: Path, server: str, count: int, interval_ms: int) -> Path:
    """Scenario of ``count`` numbered uplinks every ``interval_ms``, and the daemon's config."""
    scenario = workdir / "scenario.jsonl"
    lines = []
    for seq in range(count):
        freq_hz = 868_100_000 + 200_000 * (seq % 3)
        lines.append({"at_ms": 500 + seq * interval_ms, "freq_hz": freq_hz,
                      "sf": 7, "bw_hz": 125_000, "cr": "4/5", "rssi_dbm": -60.0, "snr_db": 8.0,
                      "crc": "ok", "phy": uplink_phy(seq)})  # fmt: skip
    scenario.write_text("".join(json.dumps(line) + "\n" for line in lines))
    config = workdir / "agent.toml"
    config.write_text(
        f'[gateway]\nid = "{GW_ID}"\nstats_interval_s = 600\n'
        '[concentrator]\nurl = "sim://"\nregion = "EU868"\n'
        f'[concentrator.sim]\nscenario = "{scenario}"\n'
        f'[mqtt]\nserver = "{server}"\nreconnect_min_s = 0.1\nreconnect_max_s = 0.5\n'
        f'[spool]\npath = "{workdir / "spool.db"}"\n'
        f'[status]\nsocket = "{workdir / "status.sock"}"\n'
    )
    return config


def downlink_payload(downlink_id: int) -> bytes:
    """A valid Class A DownlinkFrame for our gateway (its context is an old counter: refused)."""
    frame = gw.DownlinkFrame(downlink_id=downlink_id, gateway_id=GW_ID)
    item = frame.items.add()
    item.phy_payload = bytes.fromhex("6001020304000100")
    info = item.tx_info
    info.frequency, info.power, info.context = 868_100_000, 14, (1000).to_bytes(4, "big")
    lora = info.modulation.lora
    lora.bandwidth, lora.spreading_factor, lora.code_rate = 125_000, 7, gw.CodeRate.CR_4_5
    lora.polarization_inversion = True
    info.timing.delay.delay.FromMicroseconds(1_000_000)
    return bytes(frame.SerializeToString())


def flood(port: int, rate_per_s: int, seconds: float, sent: Any) -> None:
    """Publisher process: ``rate_per_s`` command/down frames a second for ``seconds``."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="flood-publisher")
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port, keepalive=30)
    client.loop_start()
    topic = f"{PREFIX}/command/down"
    payloads = [downlink_payload(i + 1) for i in range(1000)]
    start = time.monotonic()
    n = 0
    while True:
        elapsed = time.monotonic() - start
        if elapsed >= seconds:
            break
        due = int(elapsed * rate_per_s)
        while n < due:
            client.publish(topic, payloads[n % 1000], qos=0)
            n += 1
        time.sleep(0.001)
    sent.value = n
    time.sleep(0.5)
    client.loop_stop()
    client.disconnect()


def _proc_sample(pid: int) -> tuple[int, float]:
    """(VmRSS kB, CPU seconds) of ``pid``."""
    rss = 0
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return rss, (int(fields[11]) + int(fields[12])) / CLK_TCK


def run_flood(
    *, rate_per_s: int = 10_000, flood_s: float = 10.0, lead_s: float = 2.0,
    tail_s: float = 4.0, interval_ms: int = 50, workdir: Path | None = None,
) -> FloodResult:  # fmt: skip
    """One run; returns what it saw (the caller asserts)."""
    workdir = Path(workdir or tempfile.mkdtemp(prefix="edge-agent-flood-"))
    broker = Broker(workdir / "broker").start()
    total_s = lead_s + flood_s + tail_s + 3.0
    count = int(total_s * 1000 / interval_ms)
    result = FloodResult(sent_uplinks=count)
    arrivals: list[tuple[int, float]] = []
    lock = threading.Lock()

    def on_message(_c: Any, _u: Any, msg: Any) -> None:
        now = time.monotonic()
        if msg.topic.endswith("/event/up"):
            frame = gw.UplinkFrame.FromString(msg.payload)
            with lock:
                arrivals.append((seq_of(frame.phy_payload), now))
        elif msg.topic.endswith("/event/ack"):
            result.acks += 1

    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="flood-subscriber")
    subscribed = threading.Event()
    sub.on_message = on_message
    sub.on_connect = lambda c, _u, _f, _rc, _p: c.subscribe(f"{PREFIX}/event/+", qos=1)
    sub.on_subscribe = lambda *_a: subscribed.set()
    sub.connect("127.0.0.1", broker.port, keepalive=30)
    sub.loop_start()
    subscribed.wait(10)
    config = write_config(workdir, broker.url, count, interval_ms)
    daemon = subprocess.Popen(
        [sys.executable, "-m", "edge_agent.cli", "run", "-c", str(config)],
        stdout=subprocess.DEVNULL, stderr=open(workdir / "daemon.log", "w"),  # noqa: SIM115
        env=os.environ.copy(),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while not arrivals and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(lead_s)
        result.rss_before_kb, cpu0 = _proc_sample(daemon.pid)
        ctx = multiprocessing.get_context("spawn")
        sent = ctx.Value("l", 0)
        publisher = ctx.Process(target=flood, args=(broker.port, rate_per_s, flood_s, sent))
        started = time.monotonic()
        publisher.start()
        peak = result.rss_before_kb
        while publisher.is_alive():
            rss, _cpu = _proc_sample(daemon.pid)
            peak = max(peak, rss)
            time.sleep(0.25)
        result.flood_s = time.monotonic() - started
        result.flood_sent = sent.value
        _rss, cpu1 = _proc_sample(daemon.pid)
        result.cpu_flood_s = cpu1 - cpu0
        end = time.monotonic() + tail_s + 3.0
        while time.monotonic() < end:
            peak = max(peak, _proc_sample(daemon.pid)[0])
            with lock:
                if len(arrivals) >= count:
                    break
            time.sleep(0.25)
        result.rss_peak_kb = peak
        result.rss_after_kb = _proc_sample(daemon.pid)[0]
        result.status = _status(workdir / "status.sock")
    finally:
        daemon.terminate()
        try:
            daemon.wait(10)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        sub.loop_stop()
        sub.disconnect()
        broker.stop()
    result.log_tail = (workdir / "daemon.log").read_text()[-3000:]
    with lock:
        result.received_seq = [seq for seq, _t in arrivals]
        offsets = [t - (0.5 + seq * interval_ms / 1000) for seq, t in arrivals]
    base = min(offsets, default=0.0)
    result.lateness_s = [o - base for o in offsets]
    return result


def _status(path: Path) -> dict[str, Any]:
    """``edge-agent status --json`` against the daemon's socket ({} when it fails)."""
    out = subprocess.run(
        [sys.executable, "-m", "edge_agent.cli", "status", "--json", "--socket", str(path)],
        capture_output=True, text=True, timeout=20,
    )  # fmt: skip
    try:
        return dict(json.loads(out.stdout))
    except ValueError:
        return {}
