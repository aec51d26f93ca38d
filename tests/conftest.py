"""Shared fixtures: a real mosquitto per test on a free loopback port; no test may leave a
thread running."""

from __future__ import annotations

import threading
import time
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


#: how long a test's threads may take to end after its teardown
THREAD_GRACE_S = 3.0


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Fail a test that leaves a thread running after its teardown (what python-can's
    ``check_unclosed_virtual_channel`` does for bus channels): a closed service, client or
    reader must stop its threads. Threads of wider-scoped fixtures started before the test."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + THREAD_GRACE_S
    while True:
        leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    if leaked:
        names = ", ".join(sorted(t.name for t in leaked))
        pytest.fail(f"the test left {len(leaked)} thread(s) running: {names}", pytrace=False)
