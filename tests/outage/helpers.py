"""Outage tests: scenarios with a sequence number in every payload, a collecting subscriber,
a broker that keeps one subscriber's session across SIGKILL restarts, and daemon configs."""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from chirpstack_api import gw

from tests.agent.mqtt_helpers import GW_ID, enable_persistence
from tests.waiting import wait_until

UP_TOPIC = "eu868/gateway/+/event/up"
STATS_TOPIC = "eu868/gateway/+/event/stats"
#: EU868 plan channels (125 kHz, SF7 is enabled on every multi-SF chain)
FREQUENCIES = (868_100_000, 868_300_000, 868_500_000, 867_100_000, 867_300_000, 867_500_000)


def packet(seq: int, at_ms: int) -> dict[str, object]:
    """One scenario line: a LoRaWAN data-up whose FRMPayload carries ``seq`` (4 bytes BE)."""
    fcnt = seq & 0xFFFF
    phy = bytes([0x40, 0x04, 0x03, 0x02, 0x01, 0x80, fcnt & 0xFF, fcnt >> 8, 0x01])
    phy += seq.to_bytes(4, "big") + bytes(4)
    return {
        "at_ms": at_ms,
        "freq_hz": FREQUENCIES[seq % len(FREQUENCIES)],
        "sf": 7,
        "bw_hz": 125_000,
        "cr": "4/5",
        "rssi_dbm": -60.0,
        "snr_db": 8.0,
        "crc": "ok",
        "phy": phy.hex(),
    }


def write_scenario(path: Path, times_ms: list[int], first_seq: int = 0) -> Path:
    """A scenario of one packet per entry of ``times_ms``, sequence numbers from ``first_seq``."""
    lines = [json.dumps(packet(first_seq + i, t)) for i, t in enumerate(times_ms)]
    path.write_text("\n".join(lines) + "\n")
    return path


def seq_of(frame: gw.UplinkFrame) -> int:
    """The sequence number a scenario packet carries."""
    return int.from_bytes(frame.phy_payload[9:13], "big")


def stored_uplink(seq: int) -> bytes:
    """The spool row a ChirpStack backend stores for scenario packet ``seq``."""
    frame = gw.UplinkFrame()
    frame.phy_payload = bytes.fromhex(str(packet(seq, 0)["phy"]))
    frame.tx_info.frequency = 868_100_000
    frame.tx_info.modulation.lora.bandwidth = 125_000
    frame.tx_info.modulation.lora.spreading_factor = 7
    frame.rx_info.gateway_id = GW_ID
    frame.rx_info.rssi = -60
    return frame.SerializeToString()


def _phy(payload: bytes) -> bytes:
    return gw.UplinkFrame.FromString(payload).phy_payload


def agent_config(
    path: Path,
    server: str,
    *,
    spool: Path,
    scenario: Path | None = None,
    spool_extra: str = "",
    stats_interval_s: float = 600.0,
    exit_when_done: bool = False,
) -> Path:
    """Write a daemon config: fixed gateway id, simulated radio, spool and status in tmp."""
    sim = ""
    if scenario is not None:
        sim += f'scenario = "{scenario}"\n'
    if exit_when_done:
        sim += "exit_when_done = true\n"
    path.write_text(
        f'[gateway]\nid = "{GW_ID}"\nstats_interval_s = {stats_interval_s}\n'
        '[concentrator]\nurl = "sim://"\nregion = "EU868"\n'
        f"[concentrator.sim]\n{sim}"
        f'[mqtt]\nserver = "{server}"\nreconnect_min_s = 0.1\nreconnect_max_s = 0.5\n'
        f'[spool]\npath = "{spool}"\n{spool_extra}\n'
        f'[status]\nsocket = "{path.parent / "status.sock"}"\n'
    )
    return path


@dataclass(frozen=True)
class Arrival:
    """One uplink as the subscriber saw it."""

    seq: int
    frame: gw.UplinkFrame
    at: float  # time.time() at arrival


class Collector:
    """A paho subscriber (QoS 1) on ``event/up`` that decodes and records every uplink.

    ``persistent`` keeps a broker session (clean_session False): with ``keep_session_broker``
    the broker restores that session after a SIGKILL, so uplinks the agent publishes before
    this client reconnects are queued for it instead of lost to the test.
    """

    def __init__(self, port: int, *, persistent: bool = False, topic: str = UP_TOPIC) -> None:
        self._raw: list[tuple[bytes, float]] = []
        self.other: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"outage-collector-{port}",
            clean_session=not persistent,
        )
        self.client.reconnect_delay_set(min_delay=0.05, max_delay=0.2)
        self.client.on_connect = lambda c, _u, _f, _rc, _p: c.subscribe(
            [(topic, 1), (STATS_TOPIC, 1)]
        )
        self.client.on_subscribe = lambda *_a: self._subscribed.set()
        self.client.on_disconnect = lambda *_a: self._subscribed.clear()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port, keepalive=30)
        self.client.loop_start()
        assert self._subscribed.wait(10), "collector did not subscribe"

    def _on_message(self, _c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
        if not msg.topic.endswith("/event/up"):
            self.other.put(msg)
            return
        with self._lock:  # decoded later: keep this thread (and its GIL share) short
            self._raw.append((msg.payload, time.time()))

    def wait_subscribed(self, timeout: float = 10.0) -> None:
        """Block until the client is (re)connected and subscribed."""
        assert self._subscribed.wait(timeout), "collector did not resubscribe"

    def seqs(self) -> list[int]:
        """Sequence numbers in arrival order (duplicates included)."""
        with self._lock:
            raw = list(self._raw)
        return [int.from_bytes(_phy(payload)[9:13], "big") for payload, _at in raw]

    def arrivals(self) -> list[Arrival]:
        """Every uplink so far, decoded, in arrival order."""
        with self._lock:
            raw = list(self._raw)
        out = []
        for payload, at in raw:
            frame = gw.UplinkFrame.FromString(payload)
            out.append(Arrival(seq_of(frame), frame, at))
        return out

    def wait_for(self, predicate: Callable[[list[int]], bool], timeout: float) -> list[int]:
        """Wait until ``predicate(seqs)`` holds; returns the seqs (AssertionError on timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            seqs = self.seqs()
            if predicate(seqs):
                return seqs
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out: {len(seqs)} uplinks, {len(set(seqs))} distinct")
            time.sleep(0.05)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def ascending_runs(seqs: list[int]) -> list[list[int]]:
    """Split ``seqs`` into maximal strictly ascending runs (one per connection when in order)."""
    runs: list[list[int]] = []
    for seq in seqs:
        if runs and seq > runs[-1][-1]:
            runs[-1].append(seq)
        else:
            runs.append([seq])
    return runs


class SubCollector:
    """``mosquitto_sub`` in its own process (QoS 1, persistent session), one line per uplink.

    For the broker-kill test: a C subscriber outside the agent's process keeps up with the
    stream, so the broker holds nothing for it at a kill (what the broker already confirmed
    to the agent but not yet handed on would be the broker's loss, not the agent's).
    """

    CLIENT_ID = "outage-sub"

    def __init__(self, port: int, out: Path) -> None:
        if shutil.which("mosquitto_sub") is None:
            pytest.fail("mosquitto_sub is not installed (apt-get install mosquitto-clients)")
        self.out = out
        self._file = out.open("wb")
        self.proc = subprocess.Popen(
            ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-t", UP_TOPIC, "-q", "1",
             "-c", "-i", self.CLIENT_ID, "-F", "%U %x"],
            stdout=self._file,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def arrivals(self) -> list[Arrival]:
        """Every complete line so far, decoded, in arrival order."""
        out = []
        for line in self.out.read_bytes().split(b"\n")[:-1]:
            stamp, payload = line.split(b" ", 1)
            frame = gw.UplinkFrame.FromString(bytes.fromhex(payload.decode()))
            out.append(Arrival(seq_of(frame), frame, float(stamp)))
        return out

    def seqs(self) -> list[int]:
        """Sequence numbers in arrival order (duplicates included)."""
        return [a.seq for a in self.arrivals()]

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(5)
        self._file.close()


def connections_of(broker, client_id: str) -> int:  # type: ignore[no-untyped-def]
    """How many times ``client_id`` connected to ``broker`` (from its log)."""
    text = broker.log_path.read_text(errors="replace") if broker.log_path.exists() else ""
    return text.count(f" as {client_id} ")


def session_keeping_broker(broker_factory, tmp: Path):  # type: ignore[no-untyped-def]
    """A broker whose saved state holds a ``SubCollector`` session and subscription, nothing else.

    The broker saves its state only at a clean exit (``autosave_interval 0``): the collector
    subscribes, the broker is restarted once with SIGTERM (saving that session), and every later
    SIGKILL restart comes back to it, so uplinks the agent publishes before the collector has
    reconnected are queued for it, not lost to the test.
    """
    broker = broker_factory()
    enable_persistence(
        broker, "autosave_interval 0\nmax_queued_messages 0\nmax_inflight_messages 0\n"
    )
    broker.start()
    collector = SubCollector(broker.port, tmp / "sub.txt")
    wait_until(lambda: "SUBSCRIBE" in broker.log_path.read_text(), 10, "the subscription")
    broker.stop()
    broker.start()
    wait_until(lambda: connections_of(broker, SubCollector.CLIENT_ID) >= 2, 10, "resubscribe")
    return broker, collector


def drain_setup(broker_factory, collectors, tmp: Path, spool: Path, **config: object):  # type: ignore[no-untyped-def]
    """A started broker, a collector on it, and a daemon config (``agent.toml``) that replays
    nothing and drains ``spool``; ``config`` goes to ``agent_config``."""
    broker = broker_factory()
    broker.start()
    collector = Collector(broker.port)
    collectors.append(collector)
    scenario = write_scenario(tmp / "empty.jsonl", [])
    cfg = agent_config(tmp / "agent.toml", broker.url, spool=spool, scenario=scenario, **config)  # type: ignore[arg-type]
    return collector, cfg
