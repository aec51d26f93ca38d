"""Run every benchmark of bench/ in turn (``make bench``); each prints its own results.

    PATH="$PATH:/usr/sbin" PYTHONPATH=. .venv/bin/python bench/run_all.py [--quick]

``--quick`` passes smaller sizes so the whole run takes about a minute (a smoke test of the
scripts, not numbers for docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent

#: script -> (full-size arguments, quick arguments)
BENCHMARKS: dict[str, tuple[list[str], list[str]]] = {
    "uplink_throughput.py": (["--count", "5000"], ["--count", "500"]),
    "spool_bench.py": ([], ["--backlog", "5000", "--online-s", "1"]),
    "downlink_latency.py": ([], ["--quick"]),
    "usb_round_trips.py": ([], ["--downlinks", "3"]),
    "dutycycle_check.py": ([], ["--sizes", "1000", "4000"]),
}


def main() -> int:
    """Run each benchmark script present; return non-zero if any failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    env = dict(os.environ, PYTHONPATH=str(BENCH_DIR.parent))
    failed = []
    for script, (full, quick) in BENCHMARKS.items():
        path = BENCH_DIR / script
        if not path.exists():
            continue
        print(f"== {script}", flush=True)
        argv = [sys.executable, str(path), *(quick if args.quick else full)]
        if subprocess.run(argv, env=env, check=False).returncode != 0:
            failed.append(script)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
