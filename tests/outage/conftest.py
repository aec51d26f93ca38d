"""Fixtures of the outage tests: services stopped and collectors closed at teardown."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from edge_agent.service import AgentService
from tests.outage.helpers import Collector
from tests.spool.helpers import tiny_tmpfs  # noqa: F401  (a fixture for the tests here)


@pytest.fixture
def running() -> Iterator[list[AgentService]]:
    """Services a test started; stopped at the end even when the test fails."""
    made: list[AgentService] = []
    yield made
    for svc in made:
        svc.stop()


@pytest.fixture
def collectors() -> Iterator[list[Collector]]:
    """Collectors a test opened; closed at the end."""
    made: list[Collector] = []
    yield made
    for collector in made:
        collector.close()
