"""``edge-agent spool stats | export | purge``, run as a separate process next to a live spool."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from chirpstack_api import gw

from tests.spool.helpers import NOW, payload


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``edge-agent spool ...`` as the technician would, in another process."""
    return subprocess.run(
        [sys.executable, "-m", "edge_agent.cli", "spool", *args],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=60,
        check=False,
    )


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[spool]\npath = "{tmp_path / "spool.db"}"\nmax_bytes = "1MiB"\n')
    return path


def uplink_frame(index: int) -> bytes:
    frame = gw.UplinkFrame(phy_payload=payload(index, size=20))
    frame.rx_info.gateway_id = "0016c001ff10a235"
    frame.rx_info.rssi = -57
    frame.tx_info.frequency = 868_100_000
    return frame.SerializeToString()


def test_stats_json_shows_the_committed_view_of_a_running_spool(make_spool, config_file) -> None:
    spool = make_spool(max_bytes=2**20)
    store = spool.store("chirpstack")
    for i in range(3):
        store.append(payload(i), received_at=NOW - 10, buffered=True)
    spool.flush()
    store.append(payload(9), received_at=NOW, buffered=False)  # memory tail: not in the file
    result = run_cli("stats", "-c", str(config_file), "--json")
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)
    assert (stats["pending"], stats["bytes"], stats["dropped"]) == (3, 3 * (70 + 32), 0)
    assert stats["oldest_age_s"] >= 10
    assert stats["backends"]["chirpstack"]["pending"] == 3


def test_stats_text_names_pending_and_dropped(make_spool, config_file) -> None:
    make_spool().flush()
    result = run_cli("stats", "-c", str(config_file))
    assert result.returncode == 0, result.stderr
    assert "pending          0 uplinks" in result.stdout
    assert "dropped" in result.stdout


def test_export_writes_one_json_line_per_record_with_decoded_uplink(
    make_spool, config_file, tmp_path: Path
) -> None:
    spool = make_spool()
    store = spool.store("chirpstack")
    for i in range(2):
        store.append(uplink_frame(i), received_at=NOW + i, buffered=True)
    spool.flush()
    out = tmp_path / "backlog.jsonl"
    result = run_cli("export", "-c", str(config_file), "-o", str(out))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["payload_hex"] for line in lines] == [uplink_frame(i).hex() for i in range(2)]
    assert [line["received_at"] for line in lines] == [NOW, NOW + 1]
    assert lines[0]["backend"] == "chirpstack" and lines[0]["buffered"] is True
    assert lines[0]["uplink"]["rx_info"]["rssi"] == -57


def test_purge_without_yes_refuses_with_exit_2(make_spool, config_file) -> None:
    spool = make_spool()
    spool.store("cs").append(payload(1), received_at=NOW, buffered=False)
    spool.flush()
    result = run_cli("purge", "-c", str(config_file))
    assert result.returncode == 2
    assert "--yes" in result.stderr
    assert spool.stats()["pending"] == 1


def test_purge_while_running_empties_the_spool_and_the_daemon_recounts(
    make_spool, config_file
) -> None:
    spool = make_spool()
    store = spool.store("cs")
    for i in range(5):
        store.append(payload(i), received_at=NOW, buffered=True)
    spool.flush()
    store.take(2)
    result = run_cli("purge", "-c", str(config_file), "--yes")
    assert result.returncode == 0, result.stderr
    assert "purged 5 uplinks" in result.stdout
    live = store.append(payload(7), received_at=NOW, buffered=False)
    spool.flush()
    assert store.pending() == 1
    assert [r.seq for r in store.take(10)] == [live]


def test_missing_spool_file_is_an_error_not_a_new_file(tmp_path: Path, config_file) -> None:
    result = run_cli("stats", "-c", str(config_file))
    assert result.returncode == 1
    assert "no spool file" in result.stderr
    assert not (tmp_path / "spool.db").exists()


def test_bad_config_value_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[spool]\ncommit_interval_ms = -5\n")
    result = run_cli("stats", "-c", str(path))
    assert result.returncode == 2
    assert "spool.commit_interval_ms" in result.stderr


def test_stats_json_gives_each_backend_its_pending_bytes_age_and_drops(
    make_spool, tmp_path: Path
) -> None:
    spool = make_spool(max_bytes=4096)
    metro, town = spool.store("metro"), spool.store("town")
    for i in range(40):  # 40 * 102 counted bytes > 4096: the oldest (metro's) go first
        metro.append(payload(i), received_at=NOW - 100 + i, buffered=True)
    for i in range(3):
        town.append(payload(100 + i), received_at=NOW - 5, buffered=True)
    spool.flush()
    config = tmp_path / "two.toml"
    config.write_text(f'[spool]\npath = "{tmp_path / "spool.db"}"\nmax_bytes = 4096\n')
    result = run_cli("stats", "-c", str(config), "--json")
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)
    backends = stats["backends"]
    assert set(backends) == {"metro", "town"}
    town_stats = backends["town"]
    assert (town_stats["pending"], town_stats["bytes"], town_stats["dropped"]) == (3, 306, 0)
    assert backends["town"]["oldest_age_s"] >= 5
    assert backends["metro"]["dropped"] == 40 + 3 - backends["metro"]["pending"] - 3
    assert backends["metro"]["dropped"] > 0
    for key in ("pending", "bytes", "dropped"):  # the top level sums over the backends
        assert stats[key] == sum(b[key] for b in backends.values())
    assert stats["oldest_age_s"] == max(b["oldest_age_s"] for b in backends.values())


def test_export_decodes_each_backend_s_rows_its_own_way(make_spool, tmp_path: Path) -> None:
    spool = make_spool()
    spool.store("metro").append(uplink_frame(1), received_at=NOW, buffered=True)
    spool.store("community").append(b'{"tmst":5,"freq":868.1}', received_at=NOW, buffered=True)
    spool.store("gone").append(payload(3), received_at=NOW, buffered=True)  # not configured
    spool.flush()
    config = tmp_path / "two.toml"
    config.write_text(
        f'[spool]\npath = "{tmp_path / "spool.db"}"\n'
        '[[backend]]\nname = "metro"\ntype = "chirpstack"\nserver = "tcp://h:1883"\n'
        '[[backend]]\nname = "community"\ntype = "semtech_udp"\nserver = "udp://h:1700"\n'
    )
    result = run_cli("export", "-c", str(config))
    assert result.returncode == 0, result.stderr
    lines = {r["backend"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert lines["metro"]["uplink"]["rx_info"]["rssi"] == -57
    assert lines["community"]["uplink"] == {"tmst": 5, "freq": 868.1}
    assert "uplink" not in lines["gone"] and lines["gone"]["payload_hex"] == payload(3).hex()
