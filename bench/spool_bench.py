"""Spool benchmark: disk bytes written per uplink (online / offline) and backlog drain rate.

    cd <repo> && PATH="$PATH:/usr/sbin" PYTHONPATH=$PWD .venv/bin/python bench/spool_bench.py \
        [--backlog 100000] [--online-s 4] [--json]

(a) Bytes written per uplink, from /proc/self/io ``write_bytes`` (what reached the block layer,
    charged when pages are dirtied) around the run, excluding opening the file:
    - online: a radio thread appends at a steady rate, a sender acks each uplink ~20 ms later
      (a healthy link), the real committer thread runs with the default 1000 ms interval;
    - offline: nothing is acked; one group commit per interval with G uplinks per interval;
    - acked_deletes: a committed backlog of 3,000 is taken and acked, one group commit per G
      acks (G = 1 is ``commit_interval_ms = 0``): bytes written per acked row.
(b) Drain rate of a backlog of N restored uplinks through a real mosquitto at QoS 1 (PUBACK ->
    ack), against a ceiling measured in the same run: raw SQLite reads of the same rows plus raw
    paho QoS 1 publishes of the same payloads (time of both added: the work the drain must do).
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import paho.mqtt.client as mqtt
from chirpstack_api import gw

from edge_agent.store.spool import Spool, SpoolConfig
from tests.broker import Broker

#: paho's in-flight window, the same for the ceiling and the spool drain
INFLIGHT = 100
#: records the bench sender keeps taken-but-unacked (a real sender's window)
WINDOW = 1000


def uplink_payload(index: int) -> bytes:
    """A realistic encoded gw.UplinkFrame: 23-byte LoRaWAN data uplink, EU868 SF7."""
    frame = gw.UplinkFrame()
    phy = bytes([0x40, 0x04, 0x03, 0x02, 0x01, 0x80]) + (index & 0xFFFF).to_bytes(2, "little")
    frame.phy_payload = (
        phy + bytes([1]) + bytes(10) + (index * 2654435761 & 0xFFFFFFFF).to_bytes(4, "little")
    )
    frame.tx_info.frequency = 868_100_000 + 200_000 * (index % 3)
    frame.tx_info.modulation.lora.bandwidth = 125_000
    frame.tx_info.modulation.lora.spreading_factor = 7
    frame.tx_info.modulation.lora.code_rate = 1  # CR_4_5
    rx = frame.rx_info
    rx.gateway_id = "0016c001ff10a235"
    rx.uplink_id = (index * 7919) & 0xFFFFFFFF
    rx.rssi = -60 - index % 40
    rx.snr = 7.25
    rx.channel = index % 3
    rx.context = index.to_bytes(8, "big")
    rx.crc_status = 1  # CRC_OK
    return frame.SerializeToString()


def write_bytes() -> int:
    """This process's write_bytes from /proc/self/io."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    return 0


def bench_online(workdir: Path, seconds: float, rate_per_s: float) -> dict[str, float]:
    """Append at ``rate_per_s``, ack each ~20 ms later; default committer runs for real."""
    spool = Spool(SpoolConfig(path=str(workdir / "online.db")))
    store = spool.store("cs")
    os.sync()
    before, start = write_bytes(), time.monotonic()
    count, stop = 0, threading.Event()

    def sender() -> None:
        while not stop.is_set() or store.pending():
            if store.wait(0.05):
                for record in store.take(100):
                    delay = record.received_at + 0.02 - time.time()
                    if delay > 0:
                        time.sleep(delay)
                    store.ack(record.seq)

    thread = threading.Thread(target=sender)
    thread.start()
    while time.monotonic() - start < seconds:
        store.append(uplink_payload(count), received_at=time.time(), buffered=False)
        count += 1
        time.sleep(max(0.0, start + count / rate_per_s - time.monotonic()))
    stop.set()
    thread.join()
    time.sleep(1.1)  # let the committer run its ticks after the last ack
    stats = spool.stats()
    written = write_bytes() - before
    spool.close()
    return {
        "uplinks": count,
        "write_bytes": written,
        "bytes_per_uplink": written / count,
        "committed_writes": stats["committed_writes"],
        "close_write_bytes": write_bytes() - before - written,
    }


def bench_offline(workdir: Path, group: int, total: int) -> dict[str, float]:
    """Nothing acked: one group commit per interval holding ``group`` uplinks."""
    spool = Spool(SpoolConfig(path=str(workdir / f"offline{group}.db")), autocommit=False)
    store = spool.store("cs")
    os.sync()
    before = write_bytes()
    for index in range(total):
        store.append(uplink_payload(index), received_at=time.time(), buffered=True)
        if index % group == group - 1:
            spool.commit_once(force=True)
    spool.flush()
    written = write_bytes() - before
    stats = spool.stats()
    spool.close()
    return {
        "uplinks_per_group": group,
        "uplinks": total,
        "write_bytes": written,
        "bytes_per_uplink": written / total,
        "spool_counted_bytes_per_uplink": stats["disk_bytes_written"] / total,
        "commits": stats["committed_writes"],
    }


def bench_acked_deletes(workdir: Path, group: int, total: int) -> dict[str, float]:
    """Drain a committed backlog: take and ack each record, one group commit per ``group``
    acks (``1`` is ``commit_interval_ms = 0``: every ack commits its delete; otherwise the
    committer's tick batches the acks of half an interval). Bytes written per acked row."""
    spool = Spool(SpoolConfig(path=str(workdir / f"deletes{group}.db")), autocommit=False)
    store = spool.store("cs")
    for index in range(total):
        store.append(uplink_payload(index), received_at=time.time(), buffered=True)
    spool.flush()
    os.sync()
    before = write_bytes()
    commits_before = spool.stats()["committed_writes"]
    acked = 0
    while batch := store.take(100):
        for record in batch:
            store.ack(record.seq)
            acked += 1
            if acked % group == 0:
                spool.commit_once(force=True)
    spool.flush()
    written = write_bytes() - before
    stats = spool.stats()
    spool.close()
    return {
        "acks_per_group": group,
        "acked": acked,
        "write_bytes": written,
        "bytes_per_acked_row": written / acked,
        "commits": stats["committed_writes"] - commits_before,
    }


class Publisher:
    """A paho client whose on_publish only signals (puts the mid on a queue)."""

    def __init__(self, broker: Broker, name: str) -> None:
        self.acks: queue.SimpleQueue[int] = queue.SimpleQueue()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=name)
        self.client.max_inflight_messages_set(INFLIGHT)
        self.client.on_publish = lambda _c, _u, mid, _rc, _p: self.acks.put(mid)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def ceiling(workdir: Path, broker: Broker, payloads: list[bytes]) -> dict[str, float]:
    """Raw SQLite reads of the rows + raw paho QoS 1 publishes of the payloads."""
    path = workdir / "raw.db"
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(str(path))
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (seq INTEGER PRIMARY KEY, payload BLOB)")
    conn.executemany("INSERT INTO t VALUES (?, ?)", enumerate(payloads, 1))
    conn.commit()
    start = time.perf_counter()
    rows = [bytes(p) for (p,) in conn.execute("SELECT payload FROM t ORDER BY seq")]
    read_s = time.perf_counter() - start
    conn.close()
    publisher = Publisher(broker, "bench-raw")
    start = time.perf_counter()
    outstanding, sent = 0, 0
    while sent < len(rows) or outstanding:  # the same window and ack batching as drain()
        while sent < len(rows) and outstanding < WINDOW:
            publisher.client.publish("bench/raw", rows[sent], qos=1)
            sent, outstanding = sent + 1, outstanding + 1
        try:
            publisher.acks.get(timeout=0.001 if outstanding < WINDOW else 5)
        except queue.Empty:
            continue
        outstanding -= 1
        while True:
            try:
                publisher.acks.get_nowait()
            except queue.Empty:
                break
            outstanding -= 1
    publish_s = time.perf_counter() - start
    publisher.close()
    return {
        "read_s": read_s,
        "publish_s": publish_s,
        "rate_per_s": len(payloads) / (read_s + publish_s),
    }


def drain(workdir: Path, broker: Broker, payloads: list[bytes]) -> dict[str, float]:
    """Spool the backlog offline, reopen (a restart), then drain it: take, publish, PUBACK, ack."""
    config = SpoolConfig(path=str(workdir / "drain.db"))
    spool = Spool(config, autocommit=False)
    store = spool.store("cs")
    for index, payload in enumerate(payloads):
        store.append(payload, received_at=time.time(), buffered=True)
        if index % 1000 == 999:
            spool.commit_once(force=True)
    spool.close()
    spool = Spool(config)  # restored backlog, real committer thread
    store = spool.store("cs")
    publisher = Publisher(broker, "bench-spool")
    by_mid: dict[int, int] = {}
    start = time.perf_counter()
    while store.pending():
        if len(by_mid) < WINDOW:
            for record in store.take(WINDOW - len(by_mid)):
                by_mid[publisher.client.publish("bench/spool", record.payload, qos=1).mid] = (
                    record.seq
                )
        try:
            mid = publisher.acks.get(timeout=0.001 if len(by_mid) < WINDOW else 5)
        except queue.Empty:
            continue
        store.ack(by_mid.pop(mid))
        while True:
            try:
                store.ack(by_mid.pop(publisher.acks.get_nowait()))
            except queue.Empty:
                break
    elapsed = time.perf_counter() - start
    publisher.close()
    spool.flush()
    left = spool.stats()["pending"]
    spool.close()
    return {"seconds": elapsed, "rate_per_s": len(payloads) / elapsed, "left": left}


def machine() -> dict[str, str]:
    """uname -a, nproc, the first lines of lscpu."""
    import subprocess

    def run(*cmd: str) -> str:
        return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout.strip()

    return {
        "uname": run("uname", "-a"),
        "nproc": run("nproc"),
        "lscpu": "\n".join(run("lscpu").splitlines()[:10]),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def main() -> int:
    """Run every measurement and print the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backlog", type=int, default=100_000)
    parser.add_argument("--online-s", type=float, default=4.0)
    parser.add_argument("--online-rate", type=float, default=200.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results: dict[str, object] = {"machine": machine()}
    payloads = [uplink_payload(i) for i in range(args.backlog)]
    results["payload_bytes"] = sum(map(len, payloads)) / len(payloads)
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR", "/var/tmp")) as tmp:
        workdir = Path(tmp)
        results["online"] = bench_online(workdir, args.online_s, args.online_rate)
        results["offline"] = [bench_offline(workdir, g, 2000) for g in (1, 10, 100)]
        results["acked_deletes"] = [
            bench_acked_deletes(workdir, g, 3000) for g in (1, 10, 100, 500)
        ]
        broker = Broker(workdir / "broker").start()
        try:
            # the ceiling runs before and after the drain; the faster run counts
            first = ceiling(workdir, broker, payloads)
            results["drain"] = drain(workdir, broker, payloads)
            second = ceiling(workdir, broker, payloads)
            results["ceiling"] = max(first, second, key=lambda run: run["rate_per_s"])
            results["ceiling_runs_per_s"] = [first["rate_per_s"], second["rate_per_s"]]
        finally:
            broker.stop()
    drain_result, ceiling_result = results["drain"], results["ceiling"]
    results["drain_ratio"] = drain_result["rate_per_s"] / ceiling_result["rate_per_s"]  # type: ignore[index]
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for key, value in results.items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
