"""Each simulated radio fault through ``edge-agent run`` and a real broker: detected, the radio
restarted by itself, reception again within 5 s of the fault's end, nothing received before the
fault lost; while the radio is down no ``event/stats`` leaves (ChirpStack then reads offline)."""

from __future__ import annotations

from pathlib import Path

from tests.health.helpers import check_recovered, run_with_fault


def test_spi_error_is_detected_and_the_radio_restarts(tmp_path: Path, broker) -> None:  # type: ignore[no-untyped-def]
    fault = {"at_ms": 3000, "fault": "spi_error", "duration_ms": 3000}
    run = run_with_fault(tmp_path, broker, fault, end_ms=13_000, stats_interval_s=600)
    check_recovered(run, fault_at_ms=3000, fault_end_ms=6000, end_ms=13_000)
    assert "failed polls in" in run.journal
    assert {"down", "running"} <= set(run.radio_states())


def test_chip_reset_is_detected_at_once_and_the_radio_restarts(tmp_path: Path, broker) -> None:  # type: ignore[no-untyped-def]
    fault = {"at_ms": 3000, "fault": "chip_reset"}
    run = run_with_fault(tmp_path, broker, fault, end_ms=10_000, stats_interval_s=600)
    check_recovered(run, fault_at_ms=3000, fault_end_ms=3000, end_ms=10_000)
    assert "chip reset detected" in run.journal
    # detected by the configuration check (once a second), not by failed polls
    assert "failed polls in" not in run.journal


def test_unplugged_device_is_reopened_when_it_comes_back(tmp_path: Path, broker) -> None:  # type: ignore[no-untyped-def]
    fault = {"at_ms": 3000, "fault": "unplug", "duration_ms": 3000}
    run = run_with_fault(tmp_path, broker, fault, end_ms=13_000, stats_interval_s=600)
    check_recovered(run, fault_at_ms=3000, fault_end_ms=6000, end_ms=13_000)
    assert "cannot open the simulated device: unplugged" in run.journal
    # restarts while the device was gone: at least one start attempt failed to open it
    last = run.states[-1][1]
    assert last["restarts"] == 1 and last["starts"] == 2, last


def test_chirpstack_reads_the_gateway_offline_while_the_radio_is_down(
    tmp_path: Path, broker
) -> None:  # type: ignore[no-untyped-def]
    """ChirpStack's rule: online while a stats message arrived within 2 x the interval."""
    interval_s = 1.0
    fault = {"at_ms": 3000, "fault": "unplug", "duration_ms": 6000}
    run = run_with_fault(
        tmp_path, broker, fault, end_ms=14_000, stats_interval_s=interval_s, ask_status=True
    )
    check_recovered(run, fault_at_ms=3000, fault_end_ms=9000, end_ms=14_000)
    # `edge-agent status` exits 1 while the radio is down, 0 while it runs
    assert run.status_exits == {"running": 0, "down": 1}, run.status_exits
    down = [at for at, radio in run.states if radio["state"] in ("down", "restarting")]
    assert down, run.radio_states()
    first_down, last_down = min(down), max(down)

    def online(at: float) -> bool:
        return any(at - 2 * interval_s <= s <= at for s in run.stats_at)

    assert any(online(at) for at in run.stats_at if at < first_down), (run.stats_at, first_down)
    # offline while down: some instant during the outage has no stats in the 2 x interval before
    probes = [first_down + 0.1 * i for i in range(int((last_down - first_down) * 10) + 1)]
    assert any(not online(at) for at in probes), (run.stats_at, first_down, last_down)
    # and no stats at all from 2 x interval after the radio went down until it was back
    assert not [s for s in run.stats_at if first_down + 2 * interval_s < s < last_down]
    assert [s for s in run.stats_at if s > last_down]  # online again after recovery
