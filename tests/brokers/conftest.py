"""One broker of each kind for the tests of this package (a RabbitMQ node takes seconds to boot),
handed to each test as ``central`` with its retained ``state/conn`` cleared; stopped after the
package's last test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agent.mqtt_helpers import running  # noqa: F401  (a fixture for the tests here)
from tests.brokers.helpers import clear_retained
from tests.brokers.servers import KINDS, absent_reason, make_broker
from tests.outage.helpers import Collector


@pytest.fixture(scope="package")
def central_brokers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """Brokers made so far for this package's tests, by kind; stopped after its last test (an
    idle RabbitMQ node would otherwise sit through the rest of the suite)."""
    made: dict[str, object] = {}
    yield made
    for broker in made.values():
        broker.stop()  # type: ignore[attr-defined]


def shared_broker(
    kind: str, made: dict[str, object], tmp_path_factory: pytest.TempPathFactory
) -> object:
    """The package's running broker of ``kind`` (made and started when needed)."""
    reason = absent_reason(kind)
    if reason:
        pytest.skip(reason)
    broker = made.get(kind)
    if broker is None:
        broker = make_broker(kind, Path(tmp_path_factory.mktemp(kind)))
        made[kind] = broker
    broker.start()  # type: ignore[attr-defined]  (a no-op when it runs)
    clear_retained(broker.port)  # type: ignore[attr-defined]
    return broker


@pytest.fixture(params=KINDS)
def central(request: pytest.FixtureRequest, central_brokers: dict[str, object],
            tmp_path_factory: pytest.TempPathFactory) -> object:  # fmt: skip
    """A running broker of each kind (the test runs once per kind), no retained state/conn."""
    return shared_broker(request.param, central_brokers, tmp_path_factory)


@pytest.fixture
def rabbit(central_brokers: dict[str, object], tmp_path_factory: pytest.TempPathFactory) -> object:
    """The package's RabbitMQ node (skipped where rabbitmq-server is not installed)."""
    return shared_broker("rabbitmq", central_brokers, tmp_path_factory)


@pytest.fixture
def collectors() -> Iterator[list[Collector]]:
    """Collectors a test opened; closed at the end."""
    made: list[Collector] = []
    yield made
    for collector in made:
        collector.close()
