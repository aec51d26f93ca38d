"""Run every benchmark of bench/ (``make bench``) and write docs/benchmarks.md from the results.

    PATH="$PATH:/usr/sbin" PYTHONPATH=. .venv/bin/python bench/run_all.py [--smoke] [--out PATH]

Each benchmark script runs in its own process, ``RUNS`` times (once with ``--smoke``); each prints
its results as JSON on its last line (``spool_bench.py --json``: the whole output). The figures
are reported as min / median of the runs against the issue-15 limits (the ceilings): ratio =
median / ceiling, so a ratio <= 1 meets the limit (throughput: >= 0.8 of raw paho meets it).
The whole run is sized to stay under 10 minutes on the development VM (2 cores, shared).

``--smoke`` runs every script once at toy sizes (seconds; a test in ``make test`` does this so
that the benchmarks cannot rot) and writes to ``--out`` (the smoke test passes a temporary file);
its numbers mean nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RUNS = 3

#: name -> (script, full-size arguments, smoke arguments (None: skipped), runs when full)
BENCHMARKS: dict[str, tuple[str, list[str], list[str] | None, int]] = {
    "startup": ("startup.py", ["--runs", "5"], ["--runs", "1"], 1),
    "idle": ("agent_load.py", ["idle", "--seconds", "60"], ["idle", "--seconds", "1"], RUNS),
    "rate5": ("agent_load.py", ["rate", "--rate", "5", "--seconds", "8"], None, RUNS),
    "rate50": ("agent_load.py", ["rate", "--rate", "50", "--seconds", "8"],
               ["rate", "--rate", "50", "--seconds", "1"], RUNS),
    "rate400": ("agent_load.py", ["rate", "--rate", "400", "--seconds", "8"], None, RUNS),
    "soak": ("agent_load.py", ["soak", "--rate", "2000", "--seconds", "45", "--warmup", "10"],
             ["soak", "--rate", "200", "--seconds", "3", "--warmup", "1"], 1),
    "million": ("agent_load.py", ["million", "--uplinks", "1000000", "--warmup-uplinks",
                                  "100000", "--seconds", "300"],
                ["million", "--uplinks", "3000", "--warmup-uplinks", "1000", "--seconds", "60"],
                1),
    "throughput_fake": ("uplink_throughput.py", ["--source", "fake", "--count", "5000"],
                        ["--source", "fake", "--count", "200"], RUNS),
    "throughput_sim": ("uplink_throughput.py",
                       ["--source", "sim", "--count", "5000", "--rate", "2500"],
                       ["--source", "sim", "--count", "200", "--rate", "2500"], RUNS),
    "spool": ("spool_bench.py", ["--backlog", "20000", "--online-s", "2", "--json"],
              ["--backlog", "500", "--online-s", "0.5", "--json"], RUNS),
    "downlink": ("downlink_latency.py", ["--downlinks", "60"], ["--downlinks", "3"], RUNS),
    "radio_path": ("radio_path.py", [], ["--uplinks", "200"], RUNS),
    "wake_cost": ("wake_cost.py", [], ["--cycles", "10"], RUNS),
    "usb_round_trips": ("usb_round_trips.py", [], ["--downlinks", "3"], 1),
    "dutycycle": ("dutycycle_check.py", [], ["--sizes", "1000"], RUNS),
    "downlink_flood": ("downlink_flood.py", [],
                       ["--seconds", "1", "--rate", "1000", "--lead", "0.5", "--tail", "1"], RUNS),
    "status_clients": ("status_clients.py", ["--held", "0,1,4,8,16"],
                       ["--held", "0,8", "--queries", "5"], RUNS),
}  # fmt: skip


def run_script(script: str, argv: list[str]) -> dict[str, Any]:
    """Run one benchmark process; its JSON result (raises on failure)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, str(BENCH_DIR / script), *argv], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=900, check=False)  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(f"{script} {' '.join(argv)} failed:\n{proc.stderr[-3000:]}")
    lines = proc.stdout.strip().splitlines()
    try:
        result = json.loads(lines[-1])
        return result if isinstance(result, dict) else {"rows": result}
    except (json.JSONDecodeError, IndexError):
        pass
    try:
        return json.loads(proc.stdout)  # spool_bench --json: one indented document
    except json.JSONDecodeError:
        return {"text": proc.stdout.strip()}  # a script that prints only text (USB round trips)


def collect(smoke: bool, only: set[str] | None) -> tuple[dict[str, list[dict[str, Any]]], float]:
    """Every benchmark's runs, and the seconds it all took."""
    t0 = time.monotonic()
    results: dict[str, list[dict[str, Any]]] = {}
    for name, (script, full, small, runs) in BENCHMARKS.items():
        if only and name not in only:
            continue
        if smoke and small is None:
            continue
        argv, count = (small or [], 1) if smoke else (full, runs)
        results[name] = []
        for n in range(count):
            print(f"== {name} run {n + 1}/{count}: {script} {' '.join(argv)}", flush=True)
            results[name].append(run_script(script, argv))
    return results, time.monotonic() - t0


# -- the report --------------------------------------------------------------------------------


def _machine() -> dict[str, str]:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    commit = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                            capture_output=True, text=True, check=False).stdout.strip()  # fmt: skip
    mosquitto = subprocess.run(["mosquitto_sub", "--help"], capture_output=True, text=True,
                               check=False).stdout.splitlines()[1:2]  # fmt: skip
    import paho.mqtt

    return {
        "machine": f"{platform.system()} {platform.release()} {platform.machine()}, "
        f"{os.cpu_count()} CPUs ({model})",
        "python": platform.python_version(),
        "paho": paho.mqtt.__version__,
        "mosquitto": mosquitto[0].split(" running")[0] if mosquitto else "?",
        "commit": commit or "?",
    }


def _minmed(values: list[float], fmt: str = "{:.2f}") -> str:
    if not values:
        return "—"
    if len(values) == 1:
        return fmt.format(values[0])
    return f"{fmt.format(min(values))} / {fmt.format(statistics.median(values))}"


class Limits:
    """The summary table: one row per figure with its ceiling and ratio."""

    def __init__(self) -> None:
        self.rows: list[str] = []

    def add(self, figure: str, values: list[float], ceiling: float | None, unit: str,
            *, at_least: bool = False, fmt: str = "{:.2f}", note: str = "") -> None:  # fmt: skip
        """One figure: min / median of ``values`` against ``ceiling`` (None: no limit set)."""
        if not values:
            return
        median = statistics.median(values)
        if ceiling is None:
            ratio, verdict, ceil = "—", "no limit", "—"
        else:
            ratio = f"{median / ceiling:.2f}"
            met = median >= ceiling if at_least else median <= ceiling
            verdict = "met" if met else "**not met**"
            ceil = f"{'≥' if at_least else '≤'} {fmt.format(ceiling)} {unit}"
        self.rows.append(f"| {figure} | {_minmed(values, fmt)} {unit} | {len(values)} | {ceil} "
                         f"| {ratio} | {verdict}{note} |")  # fmt: skip

    def table(self) -> str:
        """The markdown table."""
        head = _header("figure", "min / median", "runs", "ceiling (issue 15)", "ratio", "")
        return "\n".join([head, *self.rows])


def _get(runs: list[dict[str, Any]], *path: str) -> list[float]:
    out = []
    for run in runs:
        value: Any = run
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, (int, float)):
            out.append(float(value))
    return out


def render(results: dict[str, list[dict[str, Any]]], seconds: float, smoke: bool) -> str:
    """docs/benchmarks.md from the results."""
    m = _machine()
    load = os.getloadavg()
    r: Callable[[str], list[dict[str, Any]]] = lambda name: results.get(name, [])  # noqa: E731
    idle = _get(r("idle"), "cpu_pct")
    idle_med = statistics.median(idle) if idle else 0.0
    lim = Limits()
    lim.add("idle CPU (60 s, no traffic)", idle, 1.0, "% of a core")
    for rate, name in ((5, "rate5"), (50, "rate50"), (400, "rate400")):
        cpu = _get(r(name), "cpu_pct")
        ceiling = {5: None, 50: 2.0, 400: 10.0}[rate]
        lim.add(f"CPU at {rate} uplinks/s", cpu, ceiling, "% of a core")
        above = [max(0.0, (c - idle_med)) * 10_000 / rate for c in cpu]
        lim.add(f"CPU per uplink above idle, {rate}/s", above, None, "µs", fmt="{:.0f}")
        if rate == 400:
            per = _get(r(name), "cpu_us_per_uplink")
            lim.add("CPU per uplink at 400/s, all in (simulator included)", per, 250.0, "µs",
                    fmt="{:.0f}")  # fmt: skip
        p99 = [run["latency_ms"]["p99"] for run in r(name) if run.get("latency_ms")]
        p50 = [run["latency_ms"]["p50"] for run in r(name) if run.get("latency_ms")]
        lim.add(f"latency p50 at {rate}/s (due in FIFO → subscriber)", p50, None, "ms")
        lim.add(f"latency p99 at {rate}/s", p99, None if rate == 5 else 10.2, "ms")
    rss = [v for name in ("idle", "rate5", "rate50", "rate400") for v in _get(r(name), "rss_mib")]
    lim.add("RSS steady (every idle/rate run, at its end)", rss, 45.0, "MiB", fmt="{:.1f}")
    lim.add("RSS growth over the one-million-uplink soak (daemon at full speed)",
            _get(r("million"), "rss_growth_mib"), 1.0, "MiB")  # fmt: skip
    lim.add("RSS growth over the soak on the simulated radio",
            _get(r("soak"), "rss_growth_mib"), 1.0, "MiB")  # fmt: skip
    startup = r("startup")
    ready = [v for run in startup for v in run.get("ready_s", [])]
    version = [v for run in startup for v in run.get("version_s", [])]
    lim.add("start to READY=1 (edge-agent run, sim://)", ready, 1.5, "s", fmt="{:.3f}")
    lim.add("edge-agent --version", version, 0.2, "s", fmt="{:.3f}")
    lim.add("throughput, daemon alone / raw paho QoS 1", _get(r("throughput_fake"), "ratio"),
            0.8, "", at_least=True)  # fmt: skip
    lim.add("throughput, simulated radio path / raw paho", _get(r("throughput_sim"), "ratio"),
            None, "")  # fmt: skip
    lim.add("spool bytes written per uplink, online",
            [run["online"]["bytes_per_uplink"] for run in r("spool") if "online" in run],
            10.0, "B")  # fmt: skip
    lim.add("spool drain / ceiling", _get(r("spool"), "drain_ratio"), 0.5, "", at_least=True)
    radio = r("radio_path")
    lim.add("FIFO parse per record (split, struct unpack, checks, CRC)",
            _get(radio, "us_per_uplink", "parse"), 20.0, "µs", fmt="{:.1f}")  # fmt: skip
    lim.add("radio path per uplink, no threads: simulator", _get(radio, "us_per_uplink", "sim"),
            None, "µs", fmt="{:.1f}")  # fmt: skip
    lim.add("radio path per uplink, no threads: host in all", [
        run["us_per_uplink"]["total"] - run["us_per_uplink"]["sim"] for run in radio
    ], None, "µs", fmt="{:.1f}")  # fmt: skip
    wake = r("wake_cost")
    for period in ("6ms", "50ms"):
        lim.add(f"empty poll after a {period} sleep (as the radio thread runs it)",
                _get(wake, period, "poll_cold"), None, "µs", fmt="{:.0f}")  # fmt: skip
        lim.add(f"the same poll hot / woken, {period}: cold ÷ hot",
                _get(wake, period, "cold_over_hot"), None, "")  # fmt: skip
    for layer, what in (
        ("register_read", "one register read through the driver"),
        ("simulator_answer", "the simulator alone answering it"),
    ):
        lim.add(f"{what}: first thing after a 6ms sleep",
                _get(wake, "layers", layer, "cold"), None, "µs", fmt="{:.0f}")  # fmt: skip
        lim.add(f"{what}: hot (200 in a row)",
                _get(wake, "layers", layer, "hot"), None, "µs", fmt="{:.1f}")  # fmt: skip
    lim.add("downlink handling p99", _get(r("downlink"), "handling_ms", "p99"), 5.0, "ms")
    lim.add("downlink dispatch p99", _get(r("downlink"), "dispatch_ms", "p99"), 5.0, "ms")
    return TEMPLATE.format(
        smoke=SMOKE_BANNER if smoke else "",
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        seconds=seconds,
        load=", ".join(f"{v:.2f}" for v in load),
        limits=lim.table(),
        details=_details(results),
        **m,
    )


def _header(*columns: str) -> str:
    """A markdown table header."""
    return f"| {' | '.join(columns)} |\n|{'---|' * len(columns)}"


def _details(results: dict[str, list[dict[str, Any]]]) -> str:
    out = []
    rows = []
    for name in ("idle", "rate5", "rate50", "rate400"):
        for n, run in enumerate(results.get(name, []), 1):
            lat = run.get("latency_ms") or {}
            align = run.get("clock_alignment_us") or {}
            threads = ", ".join(f"{k} {v * 1000:.0f}" for k, v in
                                sorted(run.get("thread_cpu_s", {}).items(), key=lambda kv: -kv[1])
                                if v > 0)  # fmt: skip
            rows.append(
                f"| {name} #{n} | {run.get('received', '—')}/{run.get('sent', '—')} "
                f"| {run.get('overruns', '—')} | {run['cpu_pct']:.2f} "
                f"| {lat.get('p50', '—')} / {lat.get('p99', '—')} / {lat.get('max', '—')} "
                f"| {align.get('origin_read_gap', '—')} / {align.get('interpolation', '—')} "
                f"| {threads} |"
            )
    if rows:
        out.append("### Load runs\n\n" + _header(
            "run", "received/sent", "FIFO overruns", "CPU % of a core",
            "latency p50 / p99 / max ms", "alignment bound µs (origin read / interpolation)",
            "CPU ms per thread over the window"))  # fmt: skip
        out.extend(rows)
    for run in results.get("soak", []):
        out.append(
            f"\n### Soak on the simulated radio\n\n{run['forwarded']:,} uplinks forwarded in "
            f"{run['seconds']} s "
            f"({run['forwarded_per_s']:,.0f}/s, population nominal {run['nominal_rate']:,.0f}/s, "
            f"{run['overruns']} RX FIFO overruns), {run['cpu_pct']} % of a core. RSS after "
            f"{run['warmup_s']} s of warm-up ({run['uplinks_at_warmup']:,} uplinks): "
            f"{run['rss_after_warmup_mib']} MiB; at the end (median of the last 10 s): "
            f"{run['rss_end_mib']} MiB; growth {run['rss_growth_mib']} MiB; peak "
            f"{run['rss_max_mib']} MiB."
        )
    for run in results.get("million", []):
        out.append(
            f"\n### One-million-uplink soak\n\n{run['acked']:,} uplinks forwarded and acknowledged "
            f"in {run['seconds']} s ({run['acked_per_s']:,.0f}/s, the daemon at full speed), "
            f"{run['cpu_pct']} % of a core. RSS after {run['warmup_uplinks']:,} uplinks: "
            f"{run['rss_after_warmup_mib']} MiB; at the end (median of the last 5 samples, "
            f"0.5 s apart): {run['rss_end_mib']} MiB; growth {run['rss_growth_mib']} MiB; peak "
            f"{run['rss_max_mib']} MiB."
        )
    tp = [(name, run) for name in ("throughput_fake", "throughput_sim")
          for run in results.get(name, [])]  # fmt: skip
    if tp:
        out.append("\n### Uplink throughput\n\n" + _header(
            "source", "offered /s", "overruns", "agent uplinks/s", "raw paho msgs/s", "ratio",
            "peak RSS MiB"))  # fmt: skip
        for _name, run in tp:
            out.append(f"| {run['source']} | {run.get('offered_per_s') or '—'} | {run['overruns']} "
                       f"| {run['agent_uplinks_per_s']:,.0f} | {run['raw_paho_msgs_per_s']:,.0f} "
                       f"| {run['ratio']:.2f} | {run['peak_rss_mib']} |")  # fmt: skip
    spool = results.get("spool", [])
    if spool:
        out.append("\n### Spool\n\n" + _header(
            "run", "online B/uplink", "offline B/uplink (1 / 10 / 100 per group)",
            "drain uplinks/s", "ceiling /s", "drain ratio"))  # fmt: skip
        for n, run in enumerate(spool, 1):
            off = " / ".join(f"{g['bytes_per_uplink']:,.0f}" for g in run.get("offline", []))
            out.append(f"| {n} | {run['online']['bytes_per_uplink']:.1f} | {off} "
                       f"| {run['drain']['rate_per_s']:,.0f} | {run['ceiling']['rate_per_s']:,.0f} "
                       f"| {run['drain_ratio']:.2f} |")  # fmt: skip
    dl = results.get("downlink", [])
    if dl:
        out.append("\n### Downlink latency\n\n" + _header(
            "run", "uplinks/s", "acked/sent", "handling p50 / p99 ms", "dispatch p50 / p99 ms",
            "end to end p50 / p99 ms"))  # fmt: skip
        for n, run in enumerate(dl, 1):
            h, d, e = run["handling_ms"], run["dispatch_ms"], run["end_to_end_ms"]
            out.append(f"| {n} | {run['uplinks_per_s']} | {run['acked']}/{run['downlinks_sent']} "
                       f"| {h['p50']:.2f} / {h['p99']:.2f} | {d['p50']:.2f} / {d['p99']:.2f} "
                       f"| {e['p50']:.1f} / {e['p99']:.1f} |")  # fmt: skip
    wake = results.get("wake_cost", [])
    if wake:
        out.append("\n### Wake-up cost (`bench/wake_cost.py`, thread CPU µs, medians per run)\n\n"
                   + _header("run", "period", "sleep", "no-op after it", "empty poll after it",
                             "a second one at once", "empty poll hot (200 in a row)",
                             "cold ÷ hot"))  # fmt: skip
        for n, run in enumerate(wake, 1):
            for period in ("6ms", "50ms"):
                w = run.get(period, {})
                out.append(f"| {n} | {period} | {w.get('sleep')} | {w.get('noop_cold')} "
                           f"| {w.get('poll_cold')} | {w.get('poll_second')} | {w.get('poll_hot')} "
                           f"| {w.get('cold_over_hot')} |")  # fmt: skip
        out.append("\nThe 6 ms poll's layers (cold = first thing after a 6 ms sleep; hot = mean "
                   "of 200 in a row):\n\n" + _header("run", "layer", "cold", "hot"))  # fmt: skip
        for n, run in enumerate(wake, 1):
            for layer, w in run.get("layers", {}).items():
                out.append(f"| {n} | {layer} | {w.get('cold')} | {w.get('hot')} |")
    usb = results.get("usb_round_trips", [])
    if usb:
        out.append("\n### USB round trips (`bench/usb_round_trips.py`, virtual time)\n\n```")
        out.append(usb[0].get("text", json.dumps(usb[0])))
        out.append("```")
    duty = results.get("dutycycle", [])
    if duty:
        sizes = sorted({size for run in duty for size in run.get("us_per_downlink", {})}, key=int)
        cells = [_minmed([run["us_per_downlink"][s] for run in duty if s in run.get(
            "us_per_downlink", {})]) for s in sizes]  # fmt: skip
        out.append(
            "\n### Duty-cycle check (`bench/dutycycle_check.py`)\n\n"
            + _header("transmissions recorded", "µs per check + record (min / median)")
        )
        out.extend(f"| {size} | {cell} |" for size, cell in zip(sizes, cells, strict=True))
    status = results.get("status_clients", [])
    if status:
        out.append("\n### Status socket under load (`bench/status_clients.py`)\n\n" + _header(
            "connections held silent", "query median ms (min / median of runs)", "worst ms",
            "answered busy"))  # fmt: skip
        by_held: dict[int, list[dict[str, Any]]] = {}
        for run in status:
            for row in run.get("rows", []):
                by_held.setdefault(row["held"], []).append(row)
        for held, rows in sorted(by_held.items()):
            out.append(f"| {held} | {_minmed([r['median_ms'] for r in rows], '{:.3f}')} "
                       f"| {max(r['max_ms'] for r in rows):.3f} "
                       f"| {', '.join(str(r['busy']) for r in rows)} |")  # fmt: skip
        out.append(
            "\nBefore the concurrent status server (main at 82ab7a8, one client at a time with a "
            "2 s timeout, issue 14.5): 0.003 s with none held, 1.7 s with one, 7.7 s with four."
        )
    flood = [row for run in results.get("downlink_flood", []) for row in run.get("runs", [])]
    if flood:  # issue 14.1; the figures are discussed in docs/downlinks.md ("Floods")
        out.append("\n### Downlink flood (`bench/downlink_flood.py`)\n\n" + _header(
            "run", "uplinks received/sent, in order", "lateness p50 / p99 / max ms",
            "flood frames sent", "RSS before / peak / after MiB", "daemon CPU (cores)",
            "inbox dropped", "acks seen / dropped"))  # fmt: skip
        for n, row in enumerate(flood, 1):
            out.append(f"| {n} | {row['uplinks_received']}/{row['uplinks_sent']}, "
                       f"{'yes' if row['in_order'] else 'NO'} | {row['lateness_p50_ms']} / "
                       f"{row['lateness_p99_ms']} / {row['lateness_max_ms']} "
                       f"| {row['flood_sent']:,} | {row['rss_before_mb']} / {row['rss_peak_mb']}"
                       f" / {row['rss_after_mb']} | {row['cpu_cores_during_flood']} "
                       f"| {row['downlinks'].get('inbox_dropped', '—')} | {row['acks_seen']} "
                       f"/ {row['backend'].get('acks_dropped', '—')} |")  # fmt: skip
    return "\n".join(out)


SMOKE_BANNER = (
    "> **Smoke run** (`--smoke`): toy sizes, one run each; these numbers mean nothing.\n\n"
)

TEMPLATE = """# Benchmarks

{smoke}Generated by `make bench` (`bench/run_all.py`); do not edit by hand. How the time is spent
and what it means on a Raspberry Pi: [performance.md](performance.md).

- Date: {date}; the whole run took {seconds:.0f} s. Commit `{commit}`.
- Machine: {machine}. Load average at the end: {load} (1, 5, 15 min).
- Python {python}, paho-mqtt {paho}, {mosquitto}.

**Noise.** The development machine is a VM whose host is shared with other tenants, and its
own load varies (the load average above is this run's). The same code has measured two to
three times slower on a busy day than on a quiet one, so absolute figures move between runs;
each figure is given as min / median of its runs, and ratios within one run are what to
compare. CPU is the kernel's account: the process's user + system time, and per thread the
time on CPU from `schedstat` (ns).

## Against the limits of issue 15

Ratio = median / ceiling (for the two "≥" rows, median / floor). The reference measured with
Semtech's C forwarder on these machines (issue 15): idle 0.78 % of a core, 1.2 % at 50/s,
1.6 % at 400/s, latency p50 / p99 5.1 / 10.2 ms at 400/s, RSS 2.7 MB, start 5 ms.

{limits}

## How each figure is measured

- **CPU and latency at 5, 50, 400 uplinks/s; idle** (`bench/agent_load.py rate|idle`): the
  daemon's own main loop (`AgentService.run()`: supervisor, status socket, radio, downlink,
  stats and sender threads; the sender is also paho's network loop) on `sim://` in real time,
  against one mosquitto on loopback, default configuration (QoS 1, spool on). The simulator runs
  in the daemon's process and is counted in its CPU (on a gateway the chip does that work, so
  these figures are an upper bound). CPU = the process's user + system time over the traffic
  window (8 s; idle: 60 s after a 2 s settle), minus the measuring thread's own `thread_time`.
  "Above idle" subtracts the median idle figure of the same run and divides by the rate.
- **Latency**: from the moment a packet is due in the simulated RX FIFO (its end on air plus
  the chip's latch delay, the instant the simulator makes its record readable) to the moment a
  separate `mosquitto_sub` process holds the `event/up` message (`-F %U`, CLOCK_REALTIME).
  *Clock alignment*: the simulator's counter runs on the daemon process's CLOCK_MONOTONIC; its
  origin is read as `monotonic_ns() - elapsed_us·1000` (error: under 1 µs of truncation plus the
  gap between the two reads, shown per run). REALTIME does not run at MONOTONIC's rate on this
  VM (they drift apart by about 5 ms per second), so REALTIME − MONOTONIC is sampled every
  0.1 s during the run and each stamp is converted by linear interpolation between samples;
  the interpolation bound shown per run is the largest distance of a sample from the line
  through its neighbours. The alignment error is at most the sum of the two bound columns
  (tens to a few hundred µs), against the milliseconds measured. (MONOTONIC itself may be
  slewed by NTP: at most 0.05 %, a few µs of a 10 ms latency.)
- **RSS steady**: VmRSS at the end of every idle and rate run (includes the ~1 MiB of the
  measuring thread and scenario). **One-million-uplink soak** (`agent_load.py million`): the
  daemon's main loop (radio thread, router, protobuf, spool, sender, paho, mosquitto) fed by a
  stand-in concentrator that hands out prepared uplinks (a pool of 256 frames, reused) as fast
  as the daemon takes them, at most 2,000 unacknowledged, until one million are acknowledged;
  RSS sampled every 0.5 s, growth from the 100,000th uplink to the end. The simulated radio
  path would take over 8 minutes for a million (about 2,300 uplinks/s), so it has its own
  shorter **soak** (`agent_load.py soak`): the simulator's built-in population (50 devices) at
  2,000 uplinks/s nominal for 45 s, RSS sampled every second, growth from 10 s to the end; a
  longer one: `bench/agent_load.py soak --rate 2000 --seconds 500`.
- **Start-up** (`bench/startup.py`): fresh processes of the installed `edge-agent` script;
  `--version` to exit; `run` on `sim://` to the `READY=1` datagram on a `NOTIFY_SOCKET` bound by
  the bench, as systemd sees it.
- **Throughput** (`bench/uplink_throughput.py`), **spool** (`bench/spool_bench.py`: bytes
  written per uplink from `/proc/self/io`, backlog drain against raw SQLite read + raw paho),
  **radio path** (`bench/radio_path.py`: driver and concentrator on a virtual-clock simulator,
  one thread, the simulator's and the parser's CPU split out),
  **wake-up cost** (`bench/wake_cost.py`: the same empty poll right after a sleep and back to
  back, the gap being what waking costs on this machine),
  **downlink latency** (`bench/downlink_latency.py`), **USB round trips**
  (`bench/usb_round_trips.py`) and the **duty-cycle check** (`bench/dutycycle_check.py`): as
  described in each script's docstring; sizes reduced to fit the budget (5,000 uplinks; a
  20,000-uplink backlog; 60 downlinks). **Status socket under load**
  (`bench/status_clients.py`): query latency while 0–16 connections are held open silently.

## Details

{details}
"""


def main() -> int:
    """Run the benchmarks, write the report; non-zero if any benchmark failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="toy sizes, one run each")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--only", action="append", choices=sorted(BENCHMARKS),
                        help="run only these (repeatable)")  # fmt: skip
    args = parser.parse_args()
    try:
        results, seconds = collect(args.smoke, set(args.only) if args.only else None)
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    args.out.write_text(render(results, seconds, args.smoke))
    (args.out.with_suffix(".json")).write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {args.out} ({seconds:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
