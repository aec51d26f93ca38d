"""The spool's files: never opened through a symlink, created owner-only."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest

from edge_agent.errors import SpoolError
from edge_agent.spool_config import SpoolConfig
from edge_agent.store import db as spool_db
from edge_agent.store.daemon import DaemonStores
from edge_agent.store.memory import MemoryUplinkStore
from edge_agent.store.spool import Spool
from tests.spool.helpers import NOW, payload


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm"])
def test_a_dangling_symlink_is_refused_naming_the_path(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / "spool.db"
    target = tmp_path / "elsewhere" / "victim"
    link = Path(f"{path}{suffix}")
    link.symlink_to(target)
    with pytest.raises(SpoolError, match="symbolic link") as caught:
        Spool(SpoolConfig(path=str(path)), autocommit=False)
    assert str(link) in str(caught.value)
    assert not target.exists() and not target.parent.exists()  # nothing created through it


def test_a_symlink_to_an_existing_spool_is_refused_and_the_file_untouched(
    tmp_path: Path,
) -> None:
    real = tmp_path / "real.db"
    Spool(SpoolConfig(path=str(real)), autocommit=False).close()
    before = real.read_bytes()
    link = tmp_path / "spool.db"
    link.symlink_to(real)
    with pytest.raises(SpoolError, match=f"{link} is a symbolic link"):
        Spool(SpoolConfig(path=str(link)), autocommit=False)
    with pytest.raises(SpoolError, match="symbolic link"):  # the CLI's reader refuses it too
        spool_db.file_stats(link)
    assert real.read_bytes() == before


def test_the_daemon_falls_back_to_memory_with_an_error(tmp_path: Path, caplog) -> None:
    path = tmp_path / "spool.db"
    path.symlink_to(tmp_path / "nowhere")
    with caplog.at_level(logging.ERROR):
        stores = DaemonStores(SpoolConfig(path=str(path)))
    try:
        assert not stores.durable
        store = stores.store("cs")
        assert isinstance(store, MemoryUplinkStore)
        store.append(payload(1), received_at=NOW, buffered=False)
        assert store.pending() == 1
    finally:
        stores.close()
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any(str(path) in line and "symbolic link" in line for line in errors), errors


def test_a_new_spool_is_owner_only(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        path = tmp_path / "made" / "by-us" / "spool.db"
        spool = Spool(SpoolConfig(path=str(path)), autocommit=False)
        try:
            spool.store("cs").append(payload(1), received_at=NOW, buffered=False)
            spool.commit_once(force=True)
            assert mode(path) == 0o600
            assert mode(Path(f"{path}-wal")) == 0o600
            assert mode(Path(f"{path}-shm")) == 0o600
            assert mode(path.parent) == 0o700
        finally:
            spool.close()
    finally:
        os.umask(old_umask)


def test_an_existing_world_readable_spool_is_narrowed(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    Spool(SpoolConfig(path=str(path)), autocommit=False).close()
    path.chmod(0o644)
    Spool(SpoolConfig(path=str(path)), autocommit=False).close()
    assert mode(path) == 0o600


def test_diag_spool_fails_on_a_symlink_instead_of_passing(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from edge_agent.diag.core import FAIL, DiagContext
    from edge_agent.diag.spool import check_spool

    path = tmp_path / "spool.db"
    path.symlink_to(tmp_path / "nowhere")  # dangling: "not created yet" would be a PASS
    ctx = DiagContext(config_path="test.toml")
    ctx._config_loaded = True
    ctx._config = SimpleNamespace(spool=SimpleNamespace(path=str(path)))
    result = check_spool(ctx)
    assert result.status == FAIL, result
    assert f"{path} is a symbolic link" in result.detail
