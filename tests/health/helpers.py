"""Radio-fault tests: a scenario of numbered packets with one fault line, run through
``edge-agent run`` against the test broker, watched on MQTT and on the status socket."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge_agent.errors import StatusError
from edge_agent.status import StatusClient
from tests.agent.mqtt_helpers import run_agent
from tests.outage.helpers import Collector, agent_config, packet

#: one packet every PERIOD_MS from 0 to the scenario's end
PERIOD_MS = 250


@dataclass
class FaultRun:
    """What one run showed: the agent's exit, its journal, uplinks, stats and status states."""

    returncode: int
    journal: str
    seqs: list[int]
    stats_at: list[float]
    states: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    #: radio state -> exit code of ``edge-agent status`` asked once in that state
    status_exits: dict[str, int] = field(default_factory=dict)

    def radio_states(self) -> list[str]:
        """Distinct radio states seen on the status socket, in order."""
        out: list[str] = []
        for _at, radio in self.states:
            if not out or out[-1] != radio["state"]:
                out.append(radio["state"])
        return out


def at_ms_of(seq: int) -> int:
    """When packet ``seq`` is on the air (scenario ms)."""
    return seq * PERIOD_MS


def fault_scenario(path: Path, fault: dict[str, Any], end_ms: int) -> Path:
    """Packets every ``PERIOD_MS`` up to ``end_ms`` plus the ``fault`` line."""
    lines = [packet(i, at_ms_of(i)) for i in range(end_ms // PERIOD_MS + 1)]
    lines.append(fault)
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def run_with_fault(
    tmp_path: Path,
    broker: Any,
    fault: dict[str, Any],
    *,
    end_ms: int,
    stats_interval_s: float,
    ask_status: bool = False,
) -> FaultRun:
    """Run the agent on the fault scenario until it exits (exit_when_done); watch everything."""
    scenario = fault_scenario(tmp_path / "scenario.jsonl", fault, end_ms)
    config = agent_config(
        tmp_path / "agent.toml",
        broker.url,
        spool=tmp_path / "spool.db",
        scenario=scenario,
        stats_interval_s=stats_interval_s,
        exit_when_done=True,
    )
    collector = Collector(broker.port)
    stats_at: list[float] = []
    states: list[tuple[float, dict[str, Any]]] = []
    exits: dict[str, int] = {}
    asked: list[str] = []
    askers: list[threading.Thread] = []
    client = StatusClient(tmp_path / "status.sock")
    proc = run_agent(config)
    try:
        deadline = time.monotonic() + 90
        while proc.poll() is None and time.monotonic() < deadline:
            while not collector.other.empty():
                msg = collector.other.get()
                if msg.topic.endswith("/event/stats"):
                    stats_at.append(msg.timestamp)  # paho: time.monotonic() at receipt
            try:
                states.append((time.monotonic(), client.query("/radio", timeout=1.0)))
            except StatusError:
                pass
            else:
                state = states[-1][1]["state"]
                if ask_status and state in ("running", "down") and state not in asked:
                    asked.append(state)  # asked from a thread: this loop keeps watching
                    ask = threading.Thread(
                        target=lambda s=state: exits.__setitem__(
                            s, status_exit_code(tmp_path / "status.sock")
                        ),
                        name=f"ask-{state}",
                    )
                    ask.start()
                    askers.append(ask)
            time.sleep(0.05)
        if proc.poll() is None:
            proc.kill()
        _out, err = proc.communicate(timeout=10)
        for ask in askers:
            ask.join(30)
        time.sleep(0.2)  # the last confirmed publishes reach the collector
        return FaultRun(proc.returncode, err, collector.seqs(), stats_at, states, exits)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        collector.close()


def check_recovered(run: FaultRun, *, fault_at_ms: int, fault_end_ms: int, end_ms: int) -> None:
    """Uplinks before the fault all arrived; reception again within 5 s of the fault's end."""
    assert run.returncode == 0, run.journal[-3000:]
    got = set(run.seqs)
    before = [s for s in range(end_ms // PERIOD_MS + 1) if at_ms_of(s) < fault_at_ms - PERIOD_MS]
    assert before and set(before) <= got, sorted(set(before) - got)
    after = [s for s in range(end_ms // PERIOD_MS + 1) if at_ms_of(s) >= fault_end_ms + 5000]
    assert after and set(after) <= got, sorted(set(after) - got)
    assert "radio running -> down" in run.journal, run.journal[-3000:]
    assert "-> running: receiving again" in run.journal, run.journal[-3000:]


def status_exit_code(socket: Path) -> int:
    """``edge-agent status --socket PATH`` exit code."""
    done = subprocess.run(
        [sys.executable, "-m", "edge_agent.cli", "status", "--socket", str(socket)],
        capture_output=True,
        timeout=30,
    )
    return done.returncode
