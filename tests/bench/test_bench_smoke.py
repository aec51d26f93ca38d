"""``make bench``'s entry point at toy sizes, so that the benchmarks cannot rot (no timing here:
speed is measured by ``make bench`` itself, never asserted in tests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from edge_agent.testing_broker import mosquitto_binary

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(mosquitto_binary() is None, reason="mosquitto is not installed")
def test_run_all_smoke_runs_every_benchmark_and_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "benchmarks.md"
    env = dict(os.environ, PYTHONPATH=str(ROOT), PATH=os.environ.get("PATH", "") + ":/usr/sbin")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run_all.py"), "--smoke", "--out", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = out.read_text()
    assert "Smoke run" in report
    for figure in ("idle CPU", "CPU at 50 uplinks/s", "latency p99 at 50/s", "RSS growth",
                   "one-million-uplink soak",
                   "start to READY", "edge-agent --version", "daemon alone / raw paho",
                   "bytes written per uplink", "downlink handling p99", "FIFO parse per record",
                   "USB round trips", "Duty-cycle check", "Status socket under load",
                   "Downlink flood", "Wake-up cost", "empty poll after a 6ms sleep"):  # fmt: skip
        assert figure in report
    results = json.loads(out.with_suffix(".json").read_text())
    assert set(results) == {
        "startup",
        "idle",
        "rate50",
        "soak",
        "million",
        "throughput_fake",
        "throughput_sim",
        "spool",
        "downlink",
        "radio_path",
        "wake_cost",
        "status_clients",
        "usb_round_trips",
        "dutycycle",
        "downlink_flood",
    }
    rate = results["rate50"][0]
    assert rate["received"] == rate["sent"] > 0
    assert rate["latency_ms"]["p50"] > 0
    million = results["million"][0]
    assert million["acked"] == million["uplinks"] == 3000
    assert million["rss_after_warmup_mib"] > 0
