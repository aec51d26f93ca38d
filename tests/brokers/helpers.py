"""Small MQTT probes for the central-broker tests: retained messages as a newcomer sees them,
``state/conn`` decoding, and clearing what a test leaves on a broker shared by the session."""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Callable

import paho.mqtt.client as mqtt
from chirpstack_api import gw

from tests.agent.mqtt_helpers import GW_ID, Received, Subscriber

PREFIX = f"eu868/gateway/{GW_ID}"
STATE_TOPIC = f"{PREFIX}/state/conn"


def _client(
    port: int,
    *,
    client_id: str | None = None,
    clean: bool = True,
    user: tuple[str, str] | None = None,
) -> mqtt.Client:
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id or f"probe-{uuid.uuid4().hex[:12]}",
        clean_session=clean,
        protocol=mqtt.MQTTv311,
    )
    if user:
        client.username_pw_set(*user)
    client.connect("127.0.0.1", port, keepalive=10)
    return client


def publish_retained(port: int, topic: str, payload: bytes) -> None:
    """Publish ``payload`` retained on ``topic`` with QoS 1 and wait for the PUBACK."""
    client = _client(port)
    client.loop_start()
    try:
        client.publish(topic, payload, qos=1, retain=True).wait_for_publish(10)
    finally:
        client.disconnect()
        client.loop_stop()


def clear_retained(port: int, topic: str = STATE_TOPIC) -> None:
    """Delete the retained message on ``topic`` (an empty retained publish, MQTT 3.1.1 §3.3.1.3)."""
    publish_retained(port, topic, b"")


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


def immediate_downlink(downlink_id: int, gateway_id: str = GW_ID) -> bytes:
    """A Class C style (immediately) LoRa downlink on 869.525 MHz, as ChirpStack encodes it."""
    item = gw.DownlinkFrameItem(phy_payload=bytes.fromhex("6001020304000100"))
    info = item.tx_info
    info.frequency, info.power = 869_525_000, 14
    lora = info.modulation.lora
    lora.bandwidth, lora.spreading_factor, lora.code_rate = 125_000, 9, gw.CodeRate.CR_4_5
    lora.polarization_inversion = True
    info.timing.immediately.SetInParent()
    down = gw.DownlinkFrame(downlink_id=downlink_id, gateway_id=gateway_id)
    down.items.append(item)
    return down.SerializeToString()


def publish_outcome(port: int, user: tuple[str, str], topic: str) -> str:
    """``acked`` when the broker PUBACKs a QoS 1 publish by ``user``, ``closed`` when it drops
    the connection instead."""
    client = _client(port, user=user)
    closed = threading.Event()
    client.on_disconnect = lambda *_a: closed.set()
    client.loop_start()
    try:
        info = client.publish(topic, b"probe", qos=1)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if info.is_published():
                return "acked"
            if closed.is_set():
                return "closed"
            time.sleep(0.02)
        raise AssertionError(f"neither PUBACK nor disconnect for {topic}")
    finally:
        client.disconnect()
        client.loop_stop()


def subscribe_outcome(port: int, user: tuple[str, str], topic_filter: str) -> str:
    """``granted`` or ``refused`` (SUBACK 0x80) for a QoS 1 subscription by ``user``, or
    ``closed`` when the broker drops the connection instead."""
    client = _client(port, user=user)
    closed = threading.Event()
    answers: queue.Queue[list[int]] = queue.Queue()
    client.on_disconnect = lambda *_a: closed.set()
    client.on_subscribe = lambda _c, _u, _mid, codes, _p: answers.put([c.value for c in codes])
    client.loop_start()
    try:
        client.subscribe(topic_filter, qos=1)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                codes = answers.get(timeout=0.02)
            except queue.Empty:
                if closed.is_set():
                    return "closed"
                continue
            return "refused" if codes[0] >= 0x80 else "granted"
        raise AssertionError(f"neither SUBACK nor disconnect for {topic_filter}")
    finally:
        client.disconnect()
        client.loop_stop()
