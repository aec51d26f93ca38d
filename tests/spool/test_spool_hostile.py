"""Rows that cannot be uplinks (a damaged or tampered file): set aside at open and at take,
counted, never read whole, never handed to a backend, never stuck; ``diag spool`` says so."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from edge_agent.store import rows as spool_rows
from edge_agent.store.spool import Spool, SpoolConfig
from tests.spool.helpers import NOW, payload

#: a payload no uplink has: bytes(value) of it would allocate 200 MB
HUGE_INT = 200_000_000


def committed_spool(path: Path, count: int = 5) -> None:
    """A spool file holding ``count`` committed records of backend "cs" (seqs 1..count)."""
    spool = Spool(SpoolConfig(path=str(path)), autocommit=False)
    store = spool.store("cs")
    for index in range(count):
        store.append(payload(index), received_at=NOW, buffered=True)
    spool.close()


def tamper(path: Path, sql: str, params: tuple = ()) -> None:
    conn = sqlite3.connect(str(path))
    try:
        conn.execute(sql, params)
        conn.commit()
    finally:
        conn.close()


def quarantine_rows(path: Path) -> list[tuple]:
    conn = sqlite3.connect(str(path))
    try:
        return conn.execute(
            "SELECT seq, backend, payload, payload_type, payload_bytes, reason FROM quarantine"
        ).fetchall()
    finally:
        conn.close()


def drain(spool: Spool, backend: str = "cs") -> list[int]:
    """Take and ack everything of ``backend``; the seqs handed out, in order."""
    seen: list[int] = []
    while batch := spool.take(backend, 100):
        for record in batch:
            assert isinstance(record.payload, bytes)
            seen.append(record.seq)
            spool.ack(backend, record.seq)
    return seen


def test_an_integer_payload_is_set_aside_at_open_without_allocating_it(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    committed_spool(path)
    tamper(path, "UPDATE uplinks SET payload = ? WHERE seq = 2", (HUGE_INT,))
    assert path.stat().st_size <= 64 * 1024  # a small file
    tracemalloc.start()
    try:
        spool = Spool(SpoolConfig(path=str(path)), autocommit=False)
        try:
            assert spool.stats()["quarantined"] == 1
            assert spool.pending("cs") == 4
            assert drain(spool) == [1, 3, 4, 5]  # FIFO of the sound rows, the bad one never out
            assert spool.pending("cs") == 0  # nothing stuck
        finally:
            spool.close()
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024, f"peak {peak} bytes: the bad value was materialised"
    [(seq, backend, value, kind, size, reason)] = quarantine_rows(path)
    assert (seq, backend, value, kind, size) == (2, "cs", HUGE_INT, "integer", None)
    assert reason == "payload is integer"


@pytest.mark.parametrize(
    ("value", "kind"), [("a text", "text"), (1.5, "real"), (None, "null")], ids=str
)
def test_other_non_blob_payloads_are_set_aside(tmp_path: Path, value: object, kind: str) -> None:
    path = tmp_path / "spool.db"
    # a file whose payload column allows NULL (the columns match, the constraint does not)
    conn = sqlite3.connect(str(path))
    conn.executescript(
        "CREATE TABLE uplinks (seq INTEGER PRIMARY KEY, backend TEXT NOT NULL, "
        "received_at REAL NOT NULL, buffered INTEGER NOT NULL, payload BLOB);"
    )
    conn.executemany(
        "INSERT INTO uplinks VALUES (?, 'cs', ?, 1, ?)",
        [(1, NOW, payload(1)), (2, NOW, value), (3, NOW, payload(3))],
    )
    conn.commit()
    conn.close()
    spool = Spool(SpoolConfig(path=str(path)), autocommit=False)
    try:
        assert spool.stats()["quarantined"] == 1
        assert drain(spool) == [1, 3]
    finally:
        spool.close()  # a NULL payload does not break the stop
    [(seq, _backend, _value, stored_kind, _size, reason)] = quarantine_rows(path)
    assert (seq, stored_kind, reason) == (2, kind, f"payload is {kind}")


def test_a_row_changed_to_a_bad_type_while_running_is_set_aside_at_take(
    make_spool, tmp_path: Path
) -> None:
    spool = make_spool()
    store = spool.store("cs")
    for index in range(4):
        store.append(payload(index), received_at=NOW, buffered=False)
    spool.commit_once(force=True)
    tamper(tmp_path / "spool.db", "UPDATE uplinks SET payload = ? WHERE seq = 2", (HUGE_INT,))
    assert [record.seq for record in store.take(10)] == [1, 3, 4]
    assert spool.stats()["quarantined"] == 1
    assert spool.pending("cs") == 3
    spool.commit_once()
    assert [row[0] for row in quarantine_rows(tmp_path / "spool.db")] == [2]
    store.rewind()
    assert [record.seq for record in store.take(10)] == [1, 3, 4]
    assert spool.pending("cs") == 3


# The child opens a spool holding a 50 MB row and drains it; it prints the peak RSS growth.
CHILD = """
import resource, sys
from edge_agent.store.spool import Spool, SpoolConfig
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
spool = Spool(SpoolConfig(path=sys.argv[1], max_bytes=64 * 1024 * 1024), autocommit=False)
out = []
while batch := spool.take("cs", 100):
    for record in batch:
        out.append(record.seq)
        spool.ack("cs", record.seq)
quarantined = spool.stats()["quarantined"]
spool.close()
grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(out, quarantined, grown_kib)
"""


def test_a_row_over_the_row_limit_is_set_aside_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    committed_spool(path, count=3)
    big = 50 * 1000 * 1000  # under max_bytes (64 MiB), far over any uplink
    tamper(path, "UPDATE uplinks SET payload = zeroblob(?) WHERE seq = 2", (big,))
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    seqs, quarantined, grown_kib = result.stdout.split("] ")[0] + "]", *result.stdout.split()[-2:]
    assert seqs == "[1, 3]"
    assert int(quarantined) == 1
    assert int(grown_kib) < 25 * 1024, f"RSS grew by {grown_kib} KiB: the 50 MB row was read"
    [(seq, _backend, value, kind, size, reason)] = quarantine_rows(path)
    assert (seq, value, kind, size) == (2, None, "blob", big)
    limit = spool_rows.MAX_RECORD_BYTES
    assert reason == f"payload of {big} bytes, over the {limit}-byte row limit"


def test_the_row_limit_follows_a_small_max_bytes() -> None:
    assert spool_rows.row_limit(64 * 1024 * 1024, 32) == spool_rows.MAX_RECORD_BYTES
    assert spool_rows.row_limit(4096, 32) == 4064


def test_diag_spool_warns_with_the_count_instead_of_passing(tmp_path: Path) -> None:
    from edge_agent.diag.core import WARN
    from edge_agent.diag.spool import _spool_facts

    path = tmp_path / "spool.db"
    committed_spool(path)
    tamper(path, "UPDATE uplinks SET payload = ? WHERE seq IN (2, 4)", (HUGE_INT,))
    before = _spool_facts(path)  # no daemon opened it yet: the rows are still in uplinks
    assert before.status == WARN, before
    assert "2 rows that cannot be uplinks" in before.detail
    Spool(SpoolConfig(path=str(path)), autocommit=False).close()  # the daemon sets them aside
    after = _spool_facts(path)
    assert after.status == WARN, after
    assert "2 rows set aside" in after.detail
    assert "purge" in after.hint
    assert "3 pending" in after.detail


def test_the_cli_readers_skip_bad_rows_without_reading_them(tmp_path: Path) -> None:
    from edge_agent.store import db as spool_db

    path = tmp_path / "spool.db"
    committed_spool(path, count=3)
    tamper(path, "UPDATE uplinks SET payload = ? WHERE seq = 2", (HUGE_INT,))
    assert [record["seq"] for record in spool_db.export_records(path)] == [1, 3]
    stats = spool_db.file_stats(path)
    assert (stats["pending"], stats["bad_rows"], stats["quarantined"]) == (2, 1, 0)
    assert spool_db.purge(path) == 3


def test_a_seq_set_aside_is_never_reused(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    committed_spool(path, count=3)
    tamper(path, "UPDATE uplinks SET payload = 7 WHERE seq = 3")
    spool = Spool(SpoolConfig(path=str(path)), autocommit=False)
    try:
        assert spool.store("cs").append(payload(9), received_at=NOW, buffered=False) == 4
    finally:
        spool.close()
