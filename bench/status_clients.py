"""Status socket under load: how long a query waits while other clients hold connections.

    PYTHONPATH=. python bench/status_clients.py [--held 0,1,4,8,16] [--queries 50]

Starts a ``StatusServer`` on a temporary socket, opens ``held`` connections that never send
their request (slow or hostile clients), then times ``--queries`` ordinary ``StatusClient``
queries. Past ``MAX_CLIENTS`` held connections a query is answered "busy" at once (counted
separately). Before the concurrent server (one client at a time, 2 s each) one held connection
delayed a query by up to 2 s and four by up to 8 s. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import tempfile
import time
from pathlib import Path

from edge_agent.errors import StatusBusy
from edge_agent.status import StatusClient, StatusServer


def run(held: int, queries: int) -> dict[str, float | int]:
    """Median and worst query latency (ms) with ``held`` silent connections open."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "status.sock"
        with StatusServer(path, lambda: {"radio": {"state": "running"}}):
            holders = []
            for _ in range(held):
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.connect(str(path))
                holders.append(sock)
            time.sleep(0.3)  # every held connection accepted
            latencies_ms, busy = [], 0
            for _ in range(queries):
                started = time.perf_counter()
                try:
                    StatusClient(path).query("/", timeout=10.0)
                except StatusBusy:
                    busy += 1
                latencies_ms.append((time.perf_counter() - started) * 1000)
            for sock in holders:
                sock.close()
    return {
        "held": held,
        "median_ms": round(statistics.median(latencies_ms), 3),
        "max_ms": round(max(latencies_ms), 3),
        "busy": busy,
    }


def main() -> None:
    """Print one line per ``--held`` value, then all of them as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--held", default="0,1,4,8,16")
    parser.add_argument("--queries", type=int, default=50)
    args = parser.parse_args()
    results = [run(int(n), args.queries) for n in args.held.split(",")]
    for r in results:
        print(
            f"{r['held']:3d} held: median {r['median_ms']:.3f} ms, max {r['max_ms']:.3f} ms, "
            f"{r['busy']} answered busy"
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
