"""Downlink flood: uplink lateness, order, RSS and CPU of the daemon under a command/down flood.

    PYTHONPATH=. python bench/downlink_flood.py [--rate 10000] [--seconds 10] [--runs 1]

Runs ``tests/flood/harness.run_flood``: mosquitto on a free loopback port, the daemon on
``sim://`` playing 20 numbered uplinks a second, and a publisher process sending ``--rate``
valid ``command/down`` frames a second (QoS 0) for ``--seconds``. Prints, per run, the uplinks
received / sent, whether they arrived in order, the lateness p50/p99/max (against the run's
fastest uplink, see the harness), acks seen, the daemon's RSS before / peak / after and its CPU
during the flood, and the daemon's flood counters from ``status --json``. Last line: JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.flood.harness import run_flood


def main() -> int:
    """Run the flood ``--runs`` times and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=10_000, help="command/down frames per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="flood duration")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--lead", type=float, default=2.0, help="uplink-only seconds before")
    parser.add_argument("--tail", type=float, default=4.0, help="seconds after, at least")
    args = parser.parse_args()
    rows = []
    for _ in range(args.runs):
        r = run_flood(
            rate_per_s=args.rate, flood_s=args.seconds, lead_s=args.lead, tail_s=args.tail
        )
        backend = next(iter((r.status.get("backends") or {"": {}}).values()))
        row = {
            "uplinks_sent": r.sent_uplinks,
            "uplinks_received": len(r.received_seq),
            "in_order": r.received_seq == sorted(r.received_seq),
            "duplicates": len(r.received_seq) - len(set(r.received_seq)),
            "lateness_p50_ms": round(r.pct(50) * 1000, 1),
            "lateness_p99_ms": round(r.pct(99) * 1000, 1),
            "lateness_max_ms": round(max(r.lateness_s, default=0) * 1000, 1),
            "flood_sent": r.flood_sent,
            "flood_rate_per_s": round(r.flood_sent / max(r.flood_s, 1e-9)),
            "acks_seen": r.acks,
            "rss_before_mb": round(r.rss_before_kb / 1024, 1),
            "rss_peak_mb": round(r.rss_peak_kb / 1024, 1),
            "rss_after_mb": round(r.rss_after_kb / 1024, 1),
            "cpu_cores_during_flood": round(r.cpu_flood_s / max(r.flood_s, 1e-9), 2),
            "downlinks": r.status.get("downlinks", {}),
            "backend": {k: v for k, v in backend.items() if "ack" in k or "inbox" in k},
        }
        rows.append(row)
        print(json.dumps(row))
    print(json.dumps({"runs": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
