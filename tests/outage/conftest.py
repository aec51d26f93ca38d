"""Fixtures of the outage tests: services stopped and collectors closed at teardown."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.agent.mqtt_helpers import running  # noqa: F401  (a fixture for the tests here)
from tests.outage.helpers import Collector
from tests.spool.helpers import tiny_tmpfs  # noqa: F401  (a fixture for the tests here)


@pytest.fixture
def collectors() -> Iterator[list[Collector]]:
    """Collectors a test opened; closed at the end."""
    made: list[Collector] = []
    yield made
    for collector in made:
        collector.close()
