"""Issue 13 point 5: reconnect like the MQTT Forwarder: every ``reconnect_min_s`` (1 s) for the
first minute of an outage, then back off up to ``reconnect_max_s``."""

from __future__ import annotations

import time

import pytest
from chirpstack_api import gw

from edge_agent.backends.chirpstack.backend import FAST_RETRY_WINDOW_S
from tests.agent.fakes import FakeConcentrator, make_uplink
from tests.agent.mqtt_helpers import GW_ID, Subscriber, config_text
from tests.chirpstack.helpers import start_service
from tests.waiting import wait_until

pytestmark = pytest.mark.broker


def forwarder_timing(server: str) -> str:
    """The test config with the default reconnect timing (1 s, 30 s)."""
    text = config_text(server)
    return text.replace("reconnect_min_s = 0.1\nreconnect_max_s = 0.5\n", "")


def test_back_within_1_5_s_of_a_broker_restart(broker, running) -> None:
    conc = FakeConcentrator(hold=True)
    svc = start_service(running, forwarder_timing(broker.url), conc)
    backend = svc.backend
    assert (backend.mqtt.reconnect_min_s, backend.mqtt.reconnect_max_s) == (1.0, 30.0)
    wait_until(backend.connected.is_set)
    broker.stop()
    wait_until(lambda: not backend.connected.is_set())
    time.sleep(4.2)  # several failed attempts: an exponential backoff would be at 8 s by now
    broker.start()
    back_at = time.monotonic()
    wait_until(backend.connected.is_set, timeout=10)
    assert time.monotonic() - back_at < 1.5
    assert backend.counters.connect_failures >= 3
    sub = Subscriber(broker.port, "+/gateway/+/event/up")
    conc.feed([make_uplink(7)])
    frame = gw.UplinkFrame.FromString(sub.collect("/event/up", 1)[0].payload)
    assert (frame.rx_info.gateway_id, frame.phy_payload) == (GW_ID, make_uplink(7).phy_payload)
    sub.close()


def test_steady_for_a_minute_then_backing_off_to_the_maximum(broker, running) -> None:
    svc = start_service(running, forwarder_timing(broker.url), FakeConcentrator(hold=True))
    backend = svc.backend
    wait_until(backend.connected.is_set)
    svc.backend.stop()  # the sender thread no longer runs: drive the schedule by hand
    backend._outage_since = None
    delays = []
    for _ in range(3):
        before = time.monotonic()
        backend._schedule_retry("test")
        delays.append(backend._next_attempt - before)
    assert all(0.99 <= d <= 1.01 for d in delays)
    backend._outage_since = time.monotonic() - FAST_RETRY_WINDOW_S - 1  # a minute later
    for _ in range(10):
        before = time.monotonic()
        backend._schedule_retry("test")
        delays.append(backend._next_attempt - before)
    late = delays[3:]
    assert late[0] <= 1.01 and late[-1] >= 15.0  # doubling with 50-100 % jitter, capped
    assert max(late) <= 30.0 + 0.01
