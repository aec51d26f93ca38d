"""What one radio-thread wake-up costs: the empty FIFO poll hot, and right after a sleep.

    PYTHONPATH=. .venv/bin/python bench/wake_cost.py [--cycles 200]

The daemon's radio thread sleeps between polls (6 ms while packets arrive, 50 ms when the air
is quiet), so every poll runs on a thread that has just woken. This measures, on the real
driver and ``Concentrator`` over ``sim://`` (an empty scenario), the thread CPU
(``time.thread_time_ns``) of:

- ``sleep``: one ``time.sleep(period)`` call (the wake-up itself);
- ``noop_cold``: a call of an empty function right after that sleep (the floor of any wake);
- ``poll_cold``: an empty ``poll_once()`` right after the sleep, as the daemon runs it;
- ``poll_second``: another one at once (partly warm);
- ``poll_hot``: the mean of 200 back-to-back empty polls (caches warm).

and, at the 6 ms period, the same cold/hot pair for two layers of that poll (``layers``):
``register_read``, one 2-byte read of the RX byte count through the driver's transport (the
poll makes two, plus its own logic), and ``simulator_answer``, the simulated chip alone
answering that SPI frame (what the chip itself does on a gateway, where it costs no host CPU).

``cold_over_hot`` (``poll_cold / poll_hot``) says how much of a poll's cost is the wake-up, not
the work: the same instructions, run after a sleep, on a machine where other jobs (or the
hypervisor) have evicted the caches meanwhile. Medians of ``--cycles`` cycles per period. The
last line printed is JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from drivers.sx1302.chip import RX_BYTE_COUNT_ADDR
from drivers.transport import Target
from edge_agent.config import parse_config
from edge_agent.service import open_concentrator

PERIODS_S = (0.006, 0.050)


def _noop() -> None:
    return None


def measure(poll: Any, period_s: float, cycles: int) -> dict[str, float]:
    """Median thread CPU (µs) of each step over ``cycles`` sleep-poll cycles."""
    tt = time.thread_time_ns
    steps: dict[str, list[int]] = {"sleep": [], "noop_cold": [], "poll_cold": [], "poll_second": []}
    for n in range(cycles):
        t0 = tt()
        time.sleep(period_s)
        t1 = tt()
        if n % 2:  # alternate: a poll (or the no-op) is always the first thing after the sleep
            _noop()
            t2 = tt()
            steps["noop_cold"].append(t2 - t1)
        else:
            poll()
            t2 = tt()
            steps["poll_cold"].append(t2 - t1)
            poll()
            steps["poll_second"].append(tt() - t2)
        steps["sleep"].append(t1 - t0)
    result = {k: round(statistics.median(v) / 1000, 1) for k, v in steps.items()}
    t0 = tt()
    for _ in range(200):
        poll()
    result["poll_hot"] = round((tt() - t0) / 200 / 1000, 1)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        scenario = Path(tmp) / "empty.jsonl"
        scenario.write_text("")
        cfg = parse_config(
            '[gateway]\nid = "0016c001ff10a235"\n[concentrator]\nurl = "sim://"\n'
            f'[concentrator.sim]\nscenario = "{scenario}"\n[mqtt]\nserver = "mqtt://127.0.0.1:1"\n'
        )
        conc = open_concentrator(cfg)
        conc.start()
        try:
            for _ in range(50):
                conc.poll_once()
            result: dict[str, Any] = {"bench": "wake_cost", "cycles": args.cycles}
            for period in PERIODS_S:
                row = measure(conc.poll_once, period, args.cycles)
                row["cold_over_hot"] = round(row["poll_cold"] / max(row["poll_hot"], 0.1), 2)
                result[f"{round(period * 1000)}ms"] = row
            transport = conc._require_chip().transport
            address = RX_BYTE_COUNT_ADDR
            frame = bytes([Target.SX1302, address >> 8, address & 0xFF, 0, 0, 0])
            layers = {
                "register_read": lambda: transport.read(Target.SX1302, RX_BYTE_COUNT_ADDR, 2),
                "simulator_answer": lambda: transport.sim.xfer(frame),
            }
            result["layers"] = {}
            for name, step in layers.items():
                row = measure(step, PERIODS_S[0], args.cycles)
                result["layers"][name] = {"cold": row["poll_cold"], "hot": row["poll_hot"]}
        finally:
            conc.close()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
