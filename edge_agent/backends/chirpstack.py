"""The ChirpStack v4 MQTT backend: ``event/up``, ``event/stats``, retained ``state/conn``.

One sender thread owns the connection. It creates a fresh paho client for every connection
attempt (``reconnect_on_failure=False``, clean session), so the only queue of unconfirmed
uplinks is our ``UplinkStore``: after a reconnect it rewinds the store and republishes in
order (at-least-once), and paho never replays a stale copy of its own. paho callbacks only
put events on a queue; the sender thread acks the store when a PUBACK arrives.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt

from edge_agent import tls
from edge_agent.backends import chirpstack_codec as codec
from edge_agent.config import MqttConfig
from edge_agent.uplink_queue import UplinkStore

LOGGER = logging.getLogger(__name__)

#: unconfirmed QoS 1/2 publishes in flight at once
MAX_INFLIGHT = 100


@dataclass(slots=True)
class BackendCounters:
    """What the backend did since it started."""

    connects: int = 0
    connect_failures: int = 0
    disconnects: int = 0
    uplinks_published: int = 0
    uplinks_acked: int = 0
    #: published but unconfirmed when a connection was dropped: sent again, maybe duplicated
    uplinks_unconfirmed: int = 0
    stats_published: int = 0
    commands_received: int = 0


class ChirpStackBackend:
    """Publishes one gateway's uplinks and stats to a ChirpStack v4 MQTT broker."""

    name = "chirpstack"

    def __init__(self, cfg: MqttConfig, store: UplinkStore) -> None:
        self.cfg = cfg
        self.store = store
        self.gateway_id: str | None = None
        self.counters = BackendCounters()
        self.connected = threading.Event()
        self._events: queue.Queue[tuple[Any, ...]] = queue.Queue()
        self._client: mqtt.Client | None = None
        self._generation = 0
        self._inflight: dict[int, int] = {}  # mid -> store seq
        self._next_attempt = 0.0
        self._backoff_s = cfg.reconnect_min_s
        self._connecting = False
        self._stopping = False
        self._thread: threading.Thread | None = None
        #: receives each raw ``command/down`` payload, from paho's thread (must only signal)
        self.downlink_sink: Callable[[bytes], None] | None = None

    # -- life cycle ------------------------------------------------------------------------

    def start(self, gateway_id: str) -> None:
        """Start the sender thread for ``gateway_id`` (connects in the background)."""
        if self._thread is not None:
            return
        self.gateway_id = gateway_id
        self._thread = threading.Thread(target=self._run, name="chirpstack-sender", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Publish OFFLINE (retained), disconnect cleanly and join the sender. Idempotent."""
        if self._thread is None:
            return
        self._events.put(("stop",))
        self._thread.join(timeout)
        if self._thread.is_alive():
            LOGGER.warning("chirpstack sender did not stop within %.1fs", timeout)
        self._thread = None

    @property
    def running(self) -> bool:
        """True while the sender thread is alive (between ``start()`` and ``stop()``)."""
        return self._thread is not None and self._thread.is_alive()

    def submit(self, frame_bytes: bytes, received_at: float) -> int:
        """Queue one encoded ``gw.UplinkFrame``; buffered when the broker is not connected now."""
        seq = self.store.append(
            frame_bytes, received_at=received_at, buffered=not self.connected.is_set()
        )
        self._events.put(("wake",))
        return seq

    def publish_ack(self, ack_bytes: bytes) -> None:
        """Publish one ``gw.DownlinkTxAck`` (already marshalled) on ``event/ack``."""
        self._events.put(("ack", ack_bytes))

    def publish_stats(self, stats_bytes: bytes) -> None:
        """Publish one ``gw.GatewayStats`` (already marshalled) when connected; else dropped."""
        self._events.put(("stats", stats_bytes))

    # -- the sender loop -------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping:
            try:
                self.poll_once(timeout=1.0)
            except Exception:  # the sender must outlive a bad record or a paho surprise
                LOGGER.exception("chirpstack sender step failed")
                time.sleep(0.5)
        self._shutdown()

    def poll_once(self, timeout: float = 1.0) -> None:
        """One step: connect when due, handle queued events, publish what the window allows."""
        now = time.monotonic()
        if self._client is None and not self._stopping and now >= self._next_attempt:
            self._connect()
        self._publish_pending()
        wait = timeout
        if self._client is None:
            wait = max(0.0, min(timeout, self._next_attempt - time.monotonic()))
        try:
            event = self._events.get(timeout=wait)
        except queue.Empty:
            return
        self._handle(event)
        while True:  # drain whatever else arrived, without blocking
            try:
                self._handle(self._events.get_nowait())
            except queue.Empty:
                break
        self._publish_pending()

    def _handle(self, event: tuple[Any, ...]) -> None:
        kind = event[0]
        if kind == "stop":
            self._stopping = True
        elif kind == "wake":
            pass
        elif kind == "stats":
            self._publish_stats(event[1])
        elif kind == "ack":
            self._publish_event("event/ack", event[1])
        elif event[1] != self._generation:
            return  # from a client we already dropped
        elif kind == "puback":
            seq = self._inflight.pop(event[2], None)
            if seq is not None:
                self.store.ack(seq)
                self.counters.uplinks_acked += 1
        elif kind == "connack":
            self._on_connected(event[2])
        elif kind == "disconnect":
            self._on_lost(f"connection lost ({event[2]})")
        elif kind == "command":
            self.counters.commands_received += 1
            LOGGER.debug("command on %s ignored: not implemented", event[2])

    def _connect(self) -> None:
        assert self.gateway_id is not None
        self._generation += 1
        gen = self._generation
        client_id = self.cfg.client_id or self.gateway_id
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=True,
            protocol=mqtt.MQTTv311,
            reconnect_on_failure=False,
        )
        client.max_inflight_messages_set(MAX_INFLIGHT)
        # paho callbacks only signal: the sender thread does the work
        client.on_connect = lambda _c, _u, _f, rc, _p: self._events.put(("connack", gen, rc))
        client.on_disconnect = lambda _c, _u, _f, rc, _p: self._events.put(("disconnect", gen, rc))
        client.on_publish = lambda _c, _u, mid, _rc, _p: self._events.put(("puback", gen, mid))
        client.on_message = lambda _c, _u, msg: self._on_message(gen, msg)
        if self.cfg.username is not None:
            client.username_pw_set(self.cfg.username, self.cfg.password)
        client.will_set(self._topic("state/conn"), self._conn_state(False), self.cfg.qos, True)
        try:
            if self.cfg.tls:  # never a passphrase prompt; a key problem backs off like a refusal
                client.tls_set_context(tls.client_context(self.cfg))
            client.connect(self.cfg.host, self.cfg.port, keepalive=self.cfg.keepalive_s)
        except (OSError, ValueError) as exc:
            self.counters.connect_failures += 1
            self._schedule_retry(f"cannot connect to {self.cfg.server}: {exc}")
            return
        self._client = client
        self._connecting = True
        client.loop_start()

    def _on_connected(self, reason: Any) -> None:
        if reason.is_failure:
            self.counters.connect_failures += 1
            self._on_lost(f"broker refused the connection: {reason}")
            return
        client = self._client
        assert client is not None and self.gateway_id is not None
        self._connecting = False
        client.subscribe(self._topic("command/+"), qos=self.cfg.qos)
        client.publish(self._topic("state/conn"), self._conn_state(True), self.cfg.qos, True)
        self._inflight.clear()
        self.store.rewind()
        self.counters.connects += 1
        self._backoff_s = self.cfg.reconnect_min_s
        self.connected.set()
        LOGGER.info(
            "connected to %s as gateway %s (%d uplinks pending)",
            self.cfg.server,
            self.gateway_id,
            self.store.pending(),
        )

    def _on_lost(self, why: str) -> None:
        was_connected = self.connected.is_set()
        self.connected.clear()
        self._drop_client()
        if was_connected:
            self.counters.disconnects += 1
        self._schedule_retry(why)

    def _schedule_retry(self, why: str) -> None:
        delay = self._backoff_s * random.uniform(0.5, 1.0)
        self._backoff_s = min(self.cfg.reconnect_max_s, self._backoff_s * 2)
        self._next_attempt = time.monotonic() + delay
        LOGGER.warning("%s; retrying in %.1fs", why, delay)

    def _drop_client(self) -> None:
        client, self._client = self._client, None
        self._generation += 1  # late events from that client are ignored
        self.counters.uplinks_unconfirmed += len(self._inflight)
        self._inflight.clear()
        self._connecting = False
        if client is not None:
            client.disconnect()
            client.loop_stop()

    def _publish_pending(self) -> None:
        client = self._client
        if client is None or not self.connected.is_set():
            return
        room = MAX_INFLIGHT - len(self._inflight)
        if room <= 0:
            return
        topic = self._topic("event/up")
        for record in self.store.take(room):
            payload = codec.uplink_payload(
                record.payload, self.cfg.marshaler, buffered=record.buffered
            )
            info = client.publish(topic, payload, qos=self.cfg.qos)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                LOGGER.debug("publish of uplink %d failed (%s); will retry", record.seq, info.rc)
                return  # the disconnect event follows; the store rewinds on reconnect
            self.counters.uplinks_published += 1
            if self.cfg.qos == 0:
                self.store.ack(record.seq)
                self.counters.uplinks_acked += 1
            else:
                self._inflight[info.mid] = record.seq

    def _publish_stats(self, payload: bytes) -> None:
        client = self._client
        if client is None or not self.connected.is_set():
            LOGGER.debug("not connected: stats of this interval not published")
            return
        client.publish(self._topic("event/stats"), payload, qos=self.cfg.qos)
        self.counters.stats_published += 1

    def _shutdown(self) -> None:
        client = self._client
        if client is not None and self.connected.is_set() and self.gateway_id is not None:
            topic = self._topic("state/conn")
            info = client.publish(topic, self._conn_state(False), self.cfg.qos, retain=True)
            try:
                info.wait_for_publish(timeout=2.0)
            except (RuntimeError, ValueError) as exc:
                LOGGER.warning("OFFLINE state not confirmed: %s", exc)
        self.connected.clear()
        self._drop_client()
        LOGGER.info("disconnected from %s", self.cfg.server)

    def _on_message(self, gen: int, msg: Any) -> None:
        """paho thread: hand ``command/down`` to the downlink sink, the rest to the sender."""
        sink = self.downlink_sink
        if sink is not None and msg.topic.endswith("/command/down"):
            self.counters.commands_received += 1
            sink(bytes(msg.payload))
        else:
            self._events.put(("command", gen, msg.topic))

    def _publish_event(self, suffix: str, payload: bytes) -> None:
        client = self._client
        if client is None or not self.connected.is_set():
            LOGGER.warning("not connected: %s not published", suffix)
            return
        client.publish(self._topic(suffix), payload, qos=self.cfg.qos)

    def _conn_state(self, online: bool) -> bytes:
        assert self.gateway_id is not None
        state = codec.conn_state(self.gateway_id, online)
        return codec.encode(state, self.cfg.marshaler, all_fields=True)

    def _topic(self, suffix: str) -> str:
        assert self.gateway_id is not None
        return self.cfg.topic(self.gateway_id, suffix)

    def stats(self) -> dict[str, int]:
        """Counters for logs and the stats metadata."""
        return {
            "connects": self.counters.connects,
            "disconnects": self.counters.disconnects,
            "uplinks_published": self.counters.uplinks_published,
            "uplinks_acked": self.counters.uplinks_acked,
            "uplinks_unconfirmed": self.counters.uplinks_unconfirmed,
        }
