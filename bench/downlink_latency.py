"""Downlink latency: command/down arriving -> scheduled and acked -> TX programmed into the chip.

    PYTHONPATH=. python bench/downlink_latency.py [--downlinks 200] [--uplinks-per-s 50]

Runs one mosquitto on a free loopback port and the whole daemon in-process (AgentService) on
``sim://`` in REAL time, with a simulated device population sending ``--uplinks-per-s`` uplinks
per second. A fake network server subscribes to ``event/up`` and answers every k-th uplink with a
Class A downlink (RX1, ``Delay`` 1 s, on that uplink's context) until ``--downlinks`` were sent.

Timestamps come from hooks in ``edge_agent/downlinks.py`` (``time.perf_counter``), not from
the client: ``arrived`` when paho's ``on_message`` hands the payload over, ``acked`` when the
``DownlinkTxAck`` is handed to the sender, ``programmed`` when the last trigger write of the
TX reached the chip. A Class A TX cannot be programmed before its JIT window opens (start -
40 ms, ~0.96 s after arrival), so three figures are printed:

- handling: arrived -> acked (decode, checks, JIT enqueue, ack): the agent's own latency;
- dispatch: JIT window open -> programmed (radio-thread polling + SPI writes), where the
  window-open instant is the arrival time plus (start - 40 ms - counter at handling);
- end to end: arrived -> programmed (includes the ~960 ms wait the downlink asks for).
The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from chirpstack_api import gw

from edge_agent.config import parse_config
from edge_agent.service import AgentService
from edge_agent.testing_broker import Broker
from packet_forwarder.jit import TX_JIT_DELAY_US, wrap_diff
from packet_forwarder.model import parse_context

GW_ID = "0016c001ff10a235"
PREFIX = f"eu868/gateway/{GW_ID}"


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def main() -> int:
    """Run the benchmark; print the figures and a JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--downlinks", type=int, default=200)
    parser.add_argument("--uplinks-per-s", type=float, default=50.0)
    parser.add_argument("--answer-every", type=int, default=10, help="answer every k-th uplink")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="dl-bench-"))
    broker = Broker(tmp / "broker").start()
    devices = 200
    text = (
        f'[gateway]\nid = "{GW_ID}"\nstats_interval_s = 600\n'
        '[concentrator]\nurl = "sim://"\nregion = "EU868"\n'
        f"[concentrator.sim]\ndevices = {devices}\nseed = 1\n"
        f"uplink_interval_s = {devices / args.uplinks_per_s}\n"
        f'[mqtt]\nserver = "{broker.url}"\n'
        f'[spool]\npath = "{tmp / "spool.db"}"\n[status]\nsocket = "{tmp / "status.sock"}"\n'
    )
    svc = AgentService(parse_config(text))
    handled: dict[int, tuple[float, int, int]] = {}  # id -> (perf at handling, now_us, start)
    programmed: dict[int, float] = {}
    done = threading.Event()

    def on_programmed(tx, at: float) -> None:  # type: ignore[no-untyped-def]
        programmed[tx.request.downlink_id] = at

    svc.downlinks.on_programmed = on_programmed
    uplinks = {"n": 0, "sent": 0}
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-ns")

    def on_message(c, _u, msg) -> None:  # type: ignore[no-untyped-def]
        if not msg.topic.endswith("/event/up"):
            return
        uplinks["n"] += 1
        if uplinks["n"] % args.answer_every or uplinks["sent"] >= args.downlinks:
            return
        up = gw.UplinkFrame.FromString(msg.payload)
        uplinks["sent"] += 1
        down = gw.DownlinkFrame(downlink_id=uplinks["sent"], gateway_id=GW_ID)
        item = down.items.add(phy_payload=bytes(12))
        info = item.tx_info
        info.frequency, info.power, info.context = up.tx_info.frequency, 14, up.rx_info.context
        lora = info.modulation.lora
        lora.bandwidth, lora.spreading_factor = 125_000, 7
        lora.code_rate, lora.polarization_inversion = gw.CodeRate.CR_4_5, True
        info.timing.delay.delay.FromMicroseconds(1_000_000)
        c.publish(f"{PREFIX}/command/down", down.SerializeToString(), qos=0)
        if uplinks["sent"] >= args.downlinks:
            done.set()

    client.on_message = on_message
    client.on_connect = lambda c, *_a: c.subscribe(f"{PREFIX}/event/up", qos=0)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    # record (perf, counter, start) when a frame is scheduled, to locate its JIT window
    original = svc.downlinks._schedule

    def timed_schedule(backend, command, conc):  # type: ignore[no-untyped-def]
        statuses = original(backend, command, conc)
        ctx_us, _ = parse_context(command.items[0].context)
        handled[command.downlink_id] = (time.perf_counter(), conc.counter_us(), ctx_us + 1_000_000)
        return statuses

    svc.downlinks._schedule = timed_schedule  # type: ignore[method-assign]
    started = time.monotonic()
    svc.start()
    done.wait(args.downlinks / (args.uplinks_per_s / args.answer_every) * 3 + 30)
    time.sleep(2.0)  # the last downlinks go on air ~1 s after their uplink
    elapsed = time.monotonic() - started
    svc.stop()
    client.loop_stop()
    broker.stop()
    samples = list(svc.downlinks.latencies)
    handling = [(s.acked - s.arrived) * 1e3 for s in samples]
    end_to_end = [(s.programmed - s.arrived) * 1e3 for s in samples if s.programmed]
    dispatch = []
    for s in samples:
        if s.programmed is None or s.downlink_id not in handled:
            continue
        at, now_us, start_us = handled[s.downlink_id]
        window_open = at + (wrap_diff(start_us, now_us) - TX_JIT_DELAY_US) / 1e6
        dispatch.append((s.programmed - window_open) * 1e3)
    rx = svc.counters.received
    result = {
        "uplinks_per_s": round(rx / elapsed, 1),
        "downlinks_sent": uplinks["sent"],
        "acked": len(samples),
        "programmed": len(end_to_end),
        "statuses": svc.downlinks.scheduler.take_stats().per_status,
        "handling_ms": {"p50": pct(handling, 0.5), "p99": pct(handling, 0.99)},
        "dispatch_ms": {"p50": pct(dispatch, 0.5), "p99": pct(dispatch, 0.99)},
        "end_to_end_ms": {"p50": pct(end_to_end, 0.5), "p99": pct(end_to_end, 0.99)},
        "machine": f"{platform.node()} {platform.machine()} nproc={os.cpu_count()}",
        "python": sys.version.split()[0],
    }
    for name in ("handling_ms", "dispatch_ms", "end_to_end_ms"):
        values = {"handling_ms": handling, "dispatch_ms": dispatch, "end_to_end_ms": end_to_end}
        v = values[name]
        print(f"{name:14s} n={len(v):4d} p50={pct(v, 0.5):8.3f} p99={pct(v, 0.99):8.3f} "
              f"max={max(v):8.3f} mean={statistics.fmean(v):8.3f}")  # fmt: skip
    print(f"uplinks received: {rx} in {elapsed:.1f}s ({result['uplinks_per_s']}/s)")
    print(f"downlink statuses: {result['statuses']}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
