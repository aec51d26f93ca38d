"""Fixtures for spool tests: a spool on a temporary file with a hand-driven clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from edge_agent.store.spool import Spool, SpoolConfig
from tests.spool.helpers import tiny_tmpfs  # noqa: F401  (a fixture for the tests here)


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    """A clock for commit_once() timing decisions."""
    return FakeClock()


@pytest.fixture
def make_spool(tmp_path: Path, clock: FakeClock) -> Iterator[Callable[..., Spool]]:
    """Open spools (no committer thread: tests call commit_once); all closed at the end."""
    opened: list[Spool] = []

    def make(**overrides: object) -> Spool:
        settings: dict[str, object] = {"path": str(tmp_path / "spool.db")}
        settings.update(overrides)
        spool = Spool(SpoolConfig(**settings), autocommit=False, clock=clock)  # type: ignore[arg-type]
        opened.append(spool)
        return spool

    yield make
    for spool in opened:
        spool.close()
