"""Duty-cycle check cost against the number of transmissions already recorded.

    PYTHONPATH=. python bench/dutycycle_check.py [--sizes 1000 4000 16000]

For each size N, records N downlinks in EU868 band P (30 ms each, 0.5 s apart: all inside one
hour, within the 10 % budget) through ``DutyCycleTracker.would_exceed`` + ``record``, as the
scheduler does for every downlink, and prints the mean cost per downlink. The check keeps a
running total per band (packet_forwarder/dutycycle.py), so the figure must not grow with N;
tests/jit/test_dutycycle.py proves the bound by counting. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import time

from packet_forwarder.dutycycle import DutyCycleTracker

BAND_P_HZ = 869_525_000


def cost_us(n: int) -> float:
    """Mean µs per would_exceed + record with ``n`` transmissions recorded by the end."""
    tracker = DutyCycleTracker(enforce=True)
    started = time.perf_counter()
    for i in range(n):
        start_s = i * 0.5
        if tracker.would_exceed(BAND_P_HZ, 27, 30_000, start_s):
            raise SystemExit(f"unexpected overflow at {i}")
        tracker.record(BAND_P_HZ, 27, 30_000, start_s)
    return (time.perf_counter() - started) / n * 1e6


def main() -> None:
    """Print the cost per downlink for each size, then one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 4000, 16000])
    args = parser.parse_args()
    results = {}
    for n in args.sizes:
        results[n] = round(cost_us(n), 2)
        print(f"{n:>7} recorded: {results[n]:.2f} µs per check + record")
    print(json.dumps({"bench": "dutycycle_check", "us_per_downlink": results}))


if __name__ == "__main__":
    main()
