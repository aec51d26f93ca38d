"""Faults: a full disk (simulated and real), a corrupt file, and write errors are survived."""

from __future__ import annotations

import logging
import sqlite3
import subprocess
from pathlib import Path

from edge_agent.store.spool import Spool, SpoolConfig
from tests.spool.helpers import NOW, payload, rows_on_disk


class FullDisk:
    """Wraps the spool's writer connection: every write fails as SQLite does on ENOSPC."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.full = True

    def executemany(self, sql: str, rows: object) -> object:
        if self.full and sql.lstrip().upper().startswith(("INSERT", "DELETE")):
            raise sqlite3.OperationalError("database or disk is full")
        return self.conn.executemany(sql, rows)  # type: ignore[arg-type]

    def __getattr__(self, name: str) -> object:
        return getattr(self.conn, name)


def test_full_disk_is_counted_logged_and_records_stay_in_memory(
    make_spool, tmp_path: Path, caplog
) -> None:
    spool = make_spool()
    disk = FullDisk(spool._writer)
    spool._writer = disk
    store = spool.store("cs")
    seqs = [store.append(payload(i), received_at=NOW, buffered=False) for i in range(3)]
    with caplog.at_level(logging.ERROR, logger="edge_agent.store"):
        assert spool.flush() == 0
    assert spool.stats()["enospc_errors"] == 1
    assert any("disk full" in r.getMessage() for r in caplog.records)
    assert store.pending() == 3
    assert rows_on_disk(tmp_path / "spool.db") == []
    disk.full = False
    assert spool.flush() == 3
    assert rows_on_disk(tmp_path / "spool.db") == seqs


def test_full_disk_memory_stays_bounded_by_max_bytes(make_spool) -> None:
    spool = make_spool(max_bytes=20 * 102)
    spool._writer = FullDisk(spool._writer)
    store = spool.store("cs")
    for i in range(100):
        store.append(payload(i), received_at=NOW, buffered=False)
        spool.commit_once(force=True)
    assert store.pending() == 20
    assert spool.stats()["dropped"] == 80
    assert spool.stats()["enospc_errors"] == 100


def test_real_enospc_on_tmpfs_is_survived_and_retried_after_space_returns(tiny_tmpfs) -> None:
    config = SpoolConfig(path=str(tiny_tmpfs / "spool.db"), max_bytes=64 * 1024 * 1024)
    spool = Spool(config, autocommit=False)
    try:
        store = spool.store("cs")
        for i in range(1500):  # ~300 KiB of records: more than the filesystem holds
            store.append(payload(i, size=200), received_at=NOW, buffered=True)
            if i % 100 == 99:
                spool.flush()
        spool.flush()
        stats = spool.stats()
        assert stats["enospc_errors"] + stats["write_errors"] >= 1
        assert stats["enospc_errors"] >= 1
        assert store.pending() == 1500
        subprocess.run(["mount", "-o", "remount,size=8m", str(tiny_tmpfs)], check=True)
        spool.flush()
        assert spool.stats()["memory"] == 0
        assert len(rows_on_disk(tiny_tmpfs / "spool.db")) == 1500
    finally:
        spool.close()


def test_corrupt_file_is_moved_aside_and_a_fresh_spool_starts(tmp_path: Path, caplog) -> None:
    path = tmp_path / "spool.db"
    path.write_bytes(b"this is not a database" * 500)
    with caplog.at_level(logging.ERROR):
        spool = Spool(SpoolConfig(path=str(path)), autocommit=False)
    try:
        spool.store("cs").append(payload(1), received_at=NOW, buffered=False)
        spool.flush()
        assert len(rows_on_disk(path)) == 1
    finally:
        spool.close()
    aside = list(tmp_path.glob("spool.db.corrupt-*"))
    assert [p.read_bytes()[:22] for p in aside] == [b"this is not a database"]
    assert any("corrupt" in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)


def test_file_with_a_foreign_schema_is_set_aside(tmp_path: Path, caplog) -> None:
    path = tmp_path / "spool.db"
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE uplinks (id INTEGER, note TEXT)")
    other.execute("INSERT INTO uplinks VALUES (1, 'not ours')")
    other.commit()
    other.close()
    with caplog.at_level(logging.ERROR):
        spool = Spool(SpoolConfig(path=str(path)), autocommit=False)
    try:
        spool.store("cs").append(payload(1), received_at=NOW, buffered=False)
        spool.flush()
        assert len(rows_on_disk(path)) == 1
    finally:
        spool.close()
    (aside,) = tmp_path.glob("spool.db.corrupt-*")
    kept = sqlite3.connect(aside)
    assert kept.execute("SELECT note FROM uplinks").fetchall() == [("not ours",)]
    kept.close()
    assert any("foreign schema" in r.getMessage() for r in caplog.records)


def test_damaged_pages_are_detected_by_the_integrity_check(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    spool = Spool(SpoolConfig(path=str(path)), autocommit=False)
    store = spool.store("cs")
    for i in range(400):
        store.append(payload(i), received_at=NOW, buffered=False)
    spool.close()
    data = bytearray(path.read_bytes())
    page = 4096
    data[2 * page : 4 * page] = b"\xa5" * (2 * page)  # scribble over b-tree pages
    path.write_bytes(bytes(data))
    spool = Spool(SpoolConfig(path=str(path)), autocommit=False)
    try:
        assert spool.stats()["pending"] == 0
    finally:
        spool.close()
    assert len(list(tmp_path.glob("spool.db.corrupt-*"))) == 1


def test_directory_is_created_when_missing(tmp_path: Path) -> None:
    path = tmp_path / "var" / "lib" / "edge-agent" / "spool.db"
    Spool(SpoolConfig(path=str(path)), autocommit=False).close()
    assert path.is_file()


class BrokenReads:
    """Wraps the spool's reader connection: reads fail until ``broken`` is cleared."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.broken = True

    def execute(self, sql: str, *args: object) -> object:
        if self.broken:
            raise sqlite3.OperationalError("disk I/O error")
        return self.conn.execute(sql, *args)  # type: ignore[arg-type]

    def __getattr__(self, name: str) -> object:
        return getattr(self.conn, name)


def test_read_error_is_counted_and_the_records_are_taken_later(make_spool) -> None:
    spool = make_spool()
    store = spool.store("cs")
    seqs = [store.append(payload(i), received_at=NOW, buffered=False) for i in range(3)]
    spool.flush()
    reads = BrokenReads(spool._reader)
    spool._reader = reads
    assert store.take(10) == []
    assert spool.stats()["read_errors"] >= 1
    reads.broken = False
    assert [r.seq for r in store.take(10)] == seqs
