"""The whole daemon on the simulator: CPU, uplink latency, RSS; one measurement per process.

    PATH="$PATH:/usr/sbin" PYTHONPATH=. .venv/bin/python bench/agent_load.py rate --rate 400
    ... agent_load.py idle --seconds 60
    ... agent_load.py soak --seconds 150 [--rate 2000]
    ... agent_load.py million [--uplinks 1000000] [--warmup-uplinks 100000] [--seconds 300]

Each run starts one mosquitto on a free loopback port and runs ``AgentService.run()`` (the
daemon's own main loop: supervisor, status socket, radio, downlink, stats and sender threads,
paho) in this process's main thread on ``sim://`` in real time. A second thread of this process
measures and then ends the run with SIGTERM, as systemd would; its own CPU time
(``time.thread_time``) is subtracted from the process's (``os.times``), so the figures are the
daemon's alone, simulator included (it does what the chip does on a gateway).

- ``rate``: a scenario of ``--rate`` SF7 uplinks/s on average (Poisson arrivals, seeded) on the
  eight EU868 channels for ``--seconds``;
  ``mosquitto_sub`` (a separate process, QoS 0) stamps every ``event/up`` it receives with
  CLOCK_REALTIME (``-F %U``). Latency = that stamp minus the moment the packet was due in the
  simulated RX FIFO (see ``due_ns``). CPU is measured over the scenario's span.
- ``idle``: no traffic (the simulator's built-in population is replaced by an empty scenario).
- ``soak``: the built-in population at ``--rate`` uplinks/s nominal (50 devices), RSS sampled
  every second: steady RSS after the warm-up and its growth to the end.
- ``million``: no simulator; a stand-in concentrator (``CyclingSource``) hands the daemon
  prepared uplinks as fast as it takes them (at most 2,000 unacknowledged) until ``--uplinks``
  are acknowledged by the broker; RSS sampled every 0.5 s, growth from ``--warmup-uplinks`` to
  the end. ``--seconds`` is the time limit (the run fails if it is reached first).

Clock alignment (``rate``): the simulator's counter runs on this process's CLOCK_MONOTONIC
(``SimClock``); its origin is read as ``monotonic_ns() - elapsed_us * 1000`` (error < 1 µs
plus the gap between the two calls, reported). mosquitto_sub stamps CLOCK_REALTIME, which does
not run at MONOTONIC's rate everywhere (5 ms/s apart on the development VM): the measuring
thread samples REALTIME - MONOTONIC every 0.1 s and each stamp is converted by linear
interpolation between samples; the reported bound is the largest distance of a sample from
the line through its neighbours. The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from chirpstack_api import gw

from drivers.sim.reception import latch_delay_us
from drivers.sim.scenario import load_scenario
from edge_agent.config import parse_config
from edge_agent.service import AgentService, open_concentrator
from edge_agent.testing_broker import Broker

GW_ID = "0016c001ff10a235"
CHANNELS_HZ = (868_100_000, 868_300_000, 868_500_000, 867_100_000,
               867_300_000, 867_500_000, 867_700_000, 867_900_000)  # fmt: skip
#: the scenario's first packet, after the first FIFO poll (lets the start-up settle)
LEAD_MS = 1500


def write_scenario(path: Path, rate: float, seconds: float) -> int:
    """``rate * seconds`` SF7 uplinks at random times (``rate``/s on average), the sequence
    number in the DevAddr (several may be due in the same millisecond: the FIFO queues them)."""
    count = int(rate * seconds)
    rng = random.Random(int(rate))  # LoRa devices transmit at random (ALOHA): Poisson arrivals
    at_s = 0.0
    with open(path, "w") as f:
        for seq in range(count):
            phy = bytes([0x40]) + seq.to_bytes(4, "little") + bytes([0x80, seq & 0xFF, 0, 1])
            line = {"at_ms": LEAD_MS + int(at_s * 1000), "freq_hz": CHANNELS_HZ[seq % 8],
                    "sf": 7, "bw_hz": 125_000, "cr": "4/5", "rssi_dbm": -60.0, "snr_db": 8.5,
                    "crc": "ok", "phy": (phy + bytes(14)).hex()}  # fmt: skip
            f.write(json.dumps(line) + "\n")
            at_s = min(at_s + rng.expovariate(rate), seconds)
    return count


def config(tmp: str, broker_url: str, sim: str) -> Any:
    """The daemon's configuration: defaults, sim://, the test broker, a spool in ``tmp``."""
    return parse_config(
        f'[gateway]\nid = "{GW_ID}"\n'
        f'[concentrator]\nurl = "sim://"\n[concentrator.sim]\n{sim}'
        f'[mqtt]\nserver = "{broker_url}"\nqos = 1\n'
        f'[spool]\npath = "{tmp}/spool.db"\n[status]\nsocket = "{tmp}/status.sock"\n'
    )


def rss_kib() -> int:
    """This process's resident set (VmRSS), KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def cpu_s() -> float:
    """User + system CPU of the whole process (every thread)."""
    t = os.times()
    return t.user + t.system


class Run:
    """The daemon in the main thread, a measuring thread beside it."""

    def __init__(self, cfg: Any) -> None:
        self.opened: list[Any] = []
        self.svc = AgentService(cfg, concentrator_factory=self._open)
        self.result: dict[str, Any] = {}
        self.error: BaseException | None = None

    def _open(self, cfg: Any) -> Any:
        self.opened.append(open_concentrator(cfg))
        return self.opened[-1]

    @property
    def sim(self) -> Any:
        return self.opened[0]._transport.sim

    def go(self, measure: Any) -> dict[str, Any]:
        """Run the daemon until ``measure(self)`` returns (then SIGTERM); its result."""

        def measuring() -> None:
            t0 = time.thread_time()
            try:
                self.result = measure(self)
            except BaseException as exc:  # reported by go()
                self.error = exc
            finally:
                self.result["bench_thread_cpu_s"] = time.thread_time() - t0
                os.kill(os.getpid(), signal.SIGTERM)

        thread = threading.Thread(target=measuring, name="bench", daemon=True)
        thread.start()
        self.svc.run()
        thread.join(30)
        if self.error is not None:
            raise self.error
        return self.result

    def wait_sim_started(self, timeout_s: float = 30.0) -> None:
        """Until the simulator's scenario clock runs (the daemon's first FIFO poll)."""
        deadline = time.monotonic() + timeout_s
        while not (self.opened and self.sim.started_at_us is not None):
            if time.monotonic() > deadline:
                raise TimeoutError("the daemon never polled the simulated FIFO")
            time.sleep(0.01)

    def sim_origin_ns(self) -> tuple[int, int]:
        """The simulator clock's origin on CLOCK_MONOTONIC, and the read gap (ns)."""
        a = time.monotonic_ns()
        elapsed_us = self.sim.clock.elapsed_us()
        b = time.monotonic_ns()
        return b - elapsed_us * 1000, b - a


#: (CLOCK_MONOTONIC ns, CLOCK_REALTIME - CLOCK_MONOTONIC ns) sampled by the measuring thread
OFFSETS: list[tuple[int, int]] = []


def sample_offset() -> None:
    """Record REALTIME - MONOTONIC now (they drift apart: 5 ms/s on the development VM)."""
    a = time.monotonic_ns()
    r = time.time_ns()
    b = time.monotonic_ns()
    OFFSETS.append(((a + b) // 2, r - (a + b) // 2))


def sleep_until(mono_s: float) -> None:
    """Sleep until ``time.monotonic()`` reaches ``mono_s``, sampling the clock offset."""
    while (left := mono_s - time.monotonic()) > 0:
        sample_offset()
        time.sleep(min(left, 0.1))
    sample_offset()


def to_monotonic_ns(realtime_ns: int) -> int:
    """A CLOCK_REALTIME stamp on CLOCK_MONOTONIC, interpolated between the offset samples."""
    realtimes = [m + o for m, o in OFFSETS]
    i = max(0, min(len(OFFSETS) - 2, bisect.bisect_right(realtimes, realtime_ns) - 1))
    (m0, _), (m1, _) = OFFSETS[i], OFFSETS[i + 1]
    r0, r1 = realtimes[i], realtimes[i + 1]
    return m0 + (realtime_ns - r0) * (m1 - m0) // max(1, r1 - r0)


def interpolation_bound_ns() -> int:
    """How far a sample lies from the line through its neighbours: the interpolation error."""
    worst = 0
    for (m0, o0), (m1, o1), (m2, o2) in zip(OFFSETS, OFFSETS[1:], OFFSETS[2:], strict=False):
        line = o0 + (o2 - o0) * (m1 - m0) // max(1, m2 - m0)
        worst = max(worst, abs(o1 - line))
    return worst


def thread_cpu_s() -> dict[str, float]:
    """CPU seconds of each live thread, by Python thread name.

    From the kernel's ``schedstat`` (time on CPU in ns: a thread that runs 50 µs at a time
    between clock ticks is measured, not sampled), else ``stat`` (user + system, in ticks).
    """
    tick = os.sysconf("SC_CLK_TCK")
    names = {t.native_id: t.name for t in threading.enumerate()}
    out: dict[str, float] = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            try:
                seconds = int((task / "schedstat").read_text().split()[0]) / 1e9
            except FileNotFoundError:  # a kernel without CONFIG_SCHED_INFO
                fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
                seconds = (int(fields[11]) + int(fields[12])) / tick
        except OSError:  # the thread ended meanwhile
            continue
        name = names.get(int(task.name), "other")
        name = "paho" if name.startswith("paho") else name.rstrip("0123456789-_ ")
        out[name] = out.get(name, 0.0) + seconds
    return out


#: per-thread CPU of the last measure_cpu window (seconds), for docs/performance.md
THREAD_CPU: dict[str, float] = {}


def measure_cpu(span_s: float) -> tuple[float, float]:
    """(daemon CPU seconds, wall seconds) over the next ``span_s``, bench thread excluded."""
    t0 = thread_cpu_s()
    c0, w0, b0 = cpu_s(), time.monotonic(), time.thread_time()
    sleep_until(w0 + span_s)
    c1, w1, b1 = cpu_s(), time.monotonic(), time.thread_time()
    t1 = thread_cpu_s()
    THREAD_CPU.clear()
    THREAD_CPU.update({k: round(v - t0.get(k, 0.0), 4) for k, v in t1.items() if k != "bench"})
    return (c1 - c0) - (b1 - b0), w1 - w0


def _drift_us_per_s() -> float:
    """How fast REALTIME moved against MONOTONIC over the run (µs per s)."""
    (m0, o0), (m1, o1) = OFFSETS[0], OFFSETS[-1]
    return round((o1 - o0) / max(1, m1 - m0) * 1e6, 1)


def percentile(values: list[float], q: float) -> float:
    """The ``q``-quantile (0..1) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def run_rate(args: argparse.Namespace, tmp: str, broker: Broker) -> dict[str, Any]:
    """CPU and latency at ``args.rate`` uplinks/s."""
    scenario = Path(tmp) / "scenario.jsonl"
    count = write_scenario(scenario, args.rate, args.seconds)
    packets = load_scenario(scenario).items
    cfg = config(tmp, broker.url, f'scenario = "{scenario}"\n')
    out_path = Path(tmp) / "sub.txt"
    OFFSETS.clear()
    sample_offset()
    with open(out_path, "w") as out:
        sub = subprocess.Popen(
            ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port), "-q", "0",
             "-t", f"+/gateway/{GW_ID}/event/up", "-F", "%U %x", "-C", str(count),
             "-W", str(int(args.seconds + 60))],
            stdout=out,
        )  # fmt: skip
        time.sleep(0.3)  # subscribed before the first uplink (1.5 s after the first poll)
        run = Run(cfg)

        def measure(run: Run) -> dict[str, Any]:
            run.wait_sim_started()
            origin_ns, gap_ns = run.sim_origin_ns()
            start_mono = (origin_ns + run.sim.started_at_us * 1000) / 1e9
            first = start_mono + LEAD_MS / 1000
            sleep_until(first)
            cpu, wall = measure_cpu(args.seconds)
            deadline = time.monotonic() + args.seconds + 60
            while sub.poll() is None and time.monotonic() < deadline:
                sleep_until(time.monotonic() + 0.1)
            if sub.poll() is None:
                sub.kill()
            return {"origin_ns": origin_ns, "origin_gap_ns": gap_ns, "cpu_s": cpu, "wall_s": wall,
                    "rss_kib": rss_kib(), "started_at_us": run.sim.started_at_us}  # fmt: skip

        res = run.go(measure)
        overruns = run.sim.stats["overruns"]
    sample_offset()
    latencies_ms = []
    for line in out_path.read_text().splitlines():
        stamp, _, hexdata = line.partition(" ")
        frame = gw.UplinkFrame()
        frame.ParseFromString(bytes.fromhex(hexdata))
        seq = int.from_bytes(frame.phy_payload[1:5], "little")
        packet = packets[seq]
        due_us = res["started_at_us"] + packet.at_ms * 1000 + latch_delay_us(packet)
        due_ns = res["origin_ns"] + due_us * 1000
        recv_ns = to_monotonic_ns(int(stamp.replace(".", "")))
        latencies_ms.append((recv_ns - due_ns) / 1e6)
    received = len(latencies_ms)
    return {
        "bench": "agent_load", "mode": "rate", "rate": args.rate, "seconds": args.seconds,
        "sent": count, "received": received, "overruns": overruns,
        "cpu_pct": round(100 * res["cpu_s"] / res["wall_s"], 3),
        "cpu_us_per_uplink": round(res["cpu_s"] / max(1, count) * 1e6, 1),
        "latency_ms": {
            "p50": round(percentile(latencies_ms, 0.50), 3),
            "p99": round(percentile(latencies_ms, 0.99), 3),
            "max": round(max(latencies_ms), 3),
            "min": round(min(latencies_ms), 3),
        } if latencies_ms else None,
        "clock_alignment_us": {"origin_read_gap": res["origin_gap_ns"] / 1000,
                               "interpolation": interpolation_bound_ns() / 1000,
                               "realtime_drift_per_s": _drift_us_per_s()},
        "rss_mib": round(res["rss_kib"] / 1024, 1),
        "thread_cpu_s": dict(THREAD_CPU),
    }  # fmt: skip


def run_idle(args: argparse.Namespace, tmp: str, broker: Broker) -> dict[str, Any]:
    """CPU over ``args.seconds`` without traffic (after a 2 s settle)."""
    scenario = Path(tmp) / "empty.jsonl"
    scenario.write_text("")
    run = Run(config(tmp, broker.url, f'scenario = "{scenario}"\n'))

    def measure(run: Run) -> dict[str, Any]:
        run.wait_sim_started()
        time.sleep(2.0)
        cpu, wall = measure_cpu(args.seconds)
        return {"cpu_s": cpu, "wall_s": wall, "rss_kib": rss_kib()}

    res = run.go(measure)
    return {"bench": "agent_load", "mode": "idle", "seconds": round(res["wall_s"], 1),
            "cpu_pct": round(100 * res["cpu_s"] / res["wall_s"], 3),
            "rss_mib": round(res["rss_kib"] / 1024, 1),
            "thread_cpu_s": dict(THREAD_CPU)}  # fmt: skip


def run_soak(args: argparse.Namespace, tmp: str, broker: Broker) -> dict[str, Any]:
    """RSS while the population sends at ``args.rate``/s for ``args.seconds``."""
    devices = 50
    sim = f"devices = {devices}\nuplink_interval_s = {devices / args.rate}\nseed = 1\n"
    run = Run(config(tmp, broker.url, sim))

    def measure(run: Run) -> dict[str, Any]:
        run.wait_sim_started()
        t0 = time.monotonic()
        c0 = cpu_s()
        samples: list[tuple[float, int, int]] = []
        while (now := time.monotonic()) < t0 + args.seconds:
            samples.append((now - t0, rss_kib(), run.svc.counters.forwarded))
            time.sleep(1.0)
        samples.append((time.monotonic() - t0, rss_kib(), run.svc.counters.forwarded))
        return {"samples": samples, "cpu_s": cpu_s() - c0}

    res = run.go(measure)
    samples = res["samples"]
    warm = next(s for s in samples if s[0] >= args.warmup)
    tail = [s[1] for s in samples if s[0] >= samples[-1][0] - 10]
    forwarded = samples[-1][2]
    return {
        "bench": "agent_load", "mode": "soak", "seconds": round(samples[-1][0], 1),
        "nominal_rate": args.rate, "forwarded": forwarded,
        "forwarded_per_s": round(forwarded / samples[-1][0], 1),
        "overruns": run.sim.stats["overruns"],
        "warmup_s": args.warmup, "uplinks_at_warmup": warm[2],
        "rss_after_warmup_mib": round(warm[1] / 1024, 2),
        "rss_end_mib": round(statistics.median(tail) / 1024, 2),
        "rss_max_mib": round(max(s[1] for s in samples) / 1024, 2),
        "rss_growth_mib": round((statistics.median(tail) - warm[1]) / 1024, 2),
        "cpu_pct": round(100 * res["cpu_s"] / samples[-1][0], 1),
    }  # fmt: skip


class CyclingSource:
    """A concentrator stand-in for the million-uplink soak: prepared uplinks, reused in turn.

    ``poll_once`` hands out up to ``per_poll`` at a time while fewer than ``window`` are
    unacknowledged (so the daemon runs at full speed without piling a backlog up in memory),
    and nothing once ``total`` were handed out. A pool of 256 distinct frames keeps the source's
    own memory constant, whatever ``total``.
    """

    session_id = 1
    eui = int(GW_ID, 16)
    exhausted = False

    def __init__(self, total: int, acked: Any, window: int = 2000, per_poll: int = 64) -> None:
        from bench.uplink_throughput import make_uplinks

        self.pool = make_uplinks(256)
        self.total, self.acked, self.window, self.per_poll = total, acked, window, per_poll
        self.handed = 0

    def start(self) -> None:
        return None

    def poll_once(self) -> list[Any]:
        room = min(
            self.per_poll, self.total - self.handed, self.window - self.handed + self.acked()
        )
        if room <= 0:
            return []
        pool, start = self.pool, self.handed
        out = [pool[(start + i) % len(pool)] for i in range(room)]
        self.handed += room
        return out

    def stop(self) -> None:
        return None

    def close(self) -> None:
        return None

    def stats(self) -> dict[str, int]:
        return {}


def run_million(args: argparse.Namespace, tmp: str, broker: Broker) -> dict[str, Any]:
    """RSS while the daemon forwards ``args.uplinks`` at full speed (no simulator)."""
    cfg = config(tmp, broker.url, "")
    holder: dict[str, Any] = {}

    def acked() -> int:
        return sum(getattr(b.counters, "uplinks_acked", 0) for b in holder["svc"].backends)

    def factory(_cfg: Any) -> CyclingSource:
        holder["source"] = CyclingSource(args.uplinks, acked)
        return holder["source"]

    svc = AgentService(cfg, concentrator_factory=factory)
    holder["svc"] = svc
    result: dict[str, Any] = {}
    errors: list[BaseException] = []

    def measuring() -> None:
        try:
            while "source" not in holder:
                time.sleep(0.01)
            t0, c0 = time.monotonic(), cpu_s()
            samples: list[tuple[float, int, int]] = []
            deadline = t0 + args.seconds
            while True:
                now, done = time.monotonic(), acked()
                samples.append((now - t0, rss_kib(), done))
                if done >= args.uplinks or now > deadline:
                    break
                time.sleep(0.5)
            elapsed, cpu = samples[-1][0], cpu_s() - c0
            warm = next((s for s in samples if s[2] >= args.warmup_uplinks), samples[-1])
            tail = [s[1] for s in samples[-5:]]
            acked_n = samples[-1][2]
            result.update({
                "bench": "agent_load", "mode": "million", "uplinks": args.uplinks,
                "acked": acked_n, "seconds": round(elapsed, 1),
                "acked_per_s": round(acked_n / max(elapsed, 1e-9), 1),
                "warmup_uplinks": warm[2], "rss_after_warmup_mib": round(warm[1] / 1024, 2),
                "rss_end_mib": round(statistics.median(tail) / 1024, 2),
                "rss_max_mib": round(max(s[1] for s in samples) / 1024, 2),
                "rss_growth_mib": round((statistics.median(tail) - warm[1]) / 1024, 2),
                "cpu_pct": round(100 * cpu / max(elapsed, 1e-9), 1),
            })  # fmt: skip
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            os.kill(os.getpid(), signal.SIGTERM)

    thread = threading.Thread(target=measuring, name="bench", daemon=True)
    thread.start()
    svc.run()
    thread.join(30)
    if errors:
        raise errors[0]
    if result.get("acked", 0) < args.uplinks:
        raise RuntimeError(f"only {result.get('acked')} of {args.uplinks} uplinks acked in time")
    return result


def main() -> int:
    """Run one measurement and print its JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("rate", "idle", "soak", "million"))
    parser.add_argument("--rate", type=float, default=50.0, help="uplinks/s (rate, soak)")
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="rate, idle, soak: the window; million: give up after")  # fmt: skip
    parser.add_argument("--warmup", type=float, default=15.0, help="soak: seconds before RSS")
    parser.add_argument("--uplinks", type=int, default=1_000_000, help="million: how many")
    parser.add_argument("--warmup-uplinks", type=int, default=100_000,
                        help="million: acked uplinks before the RSS reference")  # fmt: skip
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        broker = Broker(Path(tmp), extra_config="user root" if os.geteuid() == 0 else "")
        broker.start()
        try:
            runners = {"rate": run_rate, "idle": run_idle, "soak": run_soak, "million": run_million}
            runner = runners[args.mode]
            result = runner(args, tmp, broker)
        finally:
            broker.stop()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
