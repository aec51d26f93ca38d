"""Shared fixtures: a real mosquitto per test on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.broker import Broker, mosquitto_binary


@pytest.fixture
def broker_factory(tmp_path: Path) -> Iterator[object]:
    """Make brokers (not started); every one is stopped at the end of the test."""
    if mosquitto_binary() is None:
        pytest.fail("mosquitto is not installed (apt-get install mosquitto)")
    made: list[Broker] = []

    def make(**kwargs: object) -> Broker:
        broker = Broker(tmp_path / f"broker{len(made)}", **kwargs)  # type: ignore[arg-type]
        made.append(broker)
        return broker

    yield make
    for broker in made:
        broker.stop(kill=True)


@pytest.fixture
def broker(broker_factory: object) -> Broker:
    """A running mosquitto on a free loopback port, anonymous access."""
    return broker_factory().start()  # type: ignore[operator]
