"""Small MQTT probes for the central-broker tests: retained messages as a newcomer sees them,
``state/conn`` decoding, and clearing what a test leaves on a broker shared by the session."""

from __future__ import annotations

import queue
import time
import uuid
from collections.abc import Callable

import paho.mqtt.client as mqtt
from chirpstack_api import gw

from tests.agent.mqtt_helpers import GW_ID, Received, Subscriber

PREFIX = f"eu868/gateway/{GW_ID}"
STATE_TOPIC = f"{PREFIX}/state/conn"


def _client(port: int, *, client_id: str | None = None, clean: bool = True) -> mqtt.Client:
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id or f"probe-{uuid.uuid4().hex[:12]}",
        clean_session=clean,
        protocol=mqtt.MQTTv311,
    )
    client.connect("127.0.0.1", port, keepalive=10)
    return client


def clear_retained(port: int, topic: str = STATE_TOPIC) -> None:
    """Delete the retained message on ``topic`` (an empty retained publish, MQTT 3.1.1 §3.3.1.3)."""
    client = _client(port)
    client.loop_start()
    try:
        client.publish(topic, b"", qos=1, retain=True).wait_for_publish(10)
    finally:
        client.disconnect()
        client.loop_stop()


def newcomer_sees(port: int, topic_filter: str, wait_s: float = 1.0) -> list[Received]:
    """What a client subscribing to ``topic_filter`` now receives within ``wait_s``."""
    got: queue.Queue[Received] = queue.Queue()
    subscribed = queue.Queue[int]()
    client = _client(port)
    client.on_message = lambda _c, _u, m: got.put(Received(m.topic, m.payload, bool(m.retain)))
    client.on_subscribe = lambda _c, _u, mid, _rc, _p: subscribed.put(mid)
    client.loop_start()
    try:
        client.subscribe(topic_filter, qos=1)
        subscribed.get(timeout=10)
        time.sleep(wait_s)
    finally:
        client.disconnect()
        client.loop_stop()
    return [got.get_nowait() for _ in range(got.qsize())]


def conn_state(payload: bytes) -> str:
    """``ONLINE`` or ``OFFLINE`` from a protobuf ``gw.ConnState`` (for our gateway id)."""
    state = gw.ConnState.FromString(payload)
    assert state.gateway_id == GW_ID
    return gw.ConnState.State.Name(state.state)


def end_session(port: int, client_id: str) -> None:
    """Discard the broker's persistent session of ``client_id`` (connect clean, disconnect)."""
    client = _client(port, client_id=client_id, clean=True)
    client.loop_start()
    time.sleep(0.2)
    client.disconnect()
    client.loop_stop()


def gather(
    sub: Subscriber, done: Callable[[list[Received]], bool], timeout: float = 15.0
) -> list[Received]:
    """Every message ``sub`` received, in arrival order, once ``done`` holds for them."""
    out: list[Received] = []
    deadline = time.monotonic() + timeout
    while not done(out):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"timed out after {len(out)} messages: {[m.topic for m in out]}")
        try:
            out.append(sub.messages.get(timeout=min(left, 0.1)))
        except queue.Empty:
            continue
    return out
