"""The ChirpStack v4 MQTT backend: ``event/up``, ``event/stats``, ``event/ack``, retained
``state/conn``, ``command/down`` in (``commands``: ``command/config`` and ``command/exec``).

One sender thread owns the connection. It creates a fresh paho client for every connection
attempt (``reconnect_on_failure=False``; a clean session unless ``clean_session = false``; TCP
or websockets), so the only queue of unconfirmed uplinks is our ``UplinkStore``: after a
reconnect it rewinds the store and republishes in order (at-least-once), and paho never replays
a stale copy of its own.

The sender thread is also paho's network loop (paho's external-loop API: ``socket()``,
``loop_read()``, ``loop_write()``, ``loop_misc()``; no ``loop_start()`` thread). One
``select()`` waits on the MQTT socket and on the ``Mailbox`` other threads put events in, so an
uplink costs one wake-up to publish it (written to the socket at once, from this thread) and one
when its PUBACK arrives; paho's callbacks run on this thread and only record events, handled
right after the read (issue 15: the paho thread and its hand-offs cost about half of each
uplink's CPU).

Uplinks never wait behind downlink traffic (issue 14): every step publishes uplinks first (their
window of ``MAX_INFLIGHT``), then acks within their budget: at most ``ACK_QUEUE_MAX`` waiting
(more are dropped and counted ``acks_dropped``), ``ACK_WINDOW`` unconfirmed at once and
``ACK_RATE_PER_S`` a second. paho's own window holds both, so paho never queues a message; its
queue is capped at ``PAHO_QUEUE_MAX`` and every ``publish()`` result is checked: an uplink
that paho refuses is kept, with the rest of its batch, and published first at the next step.
"""

from __future__ import annotations

import logging
import random
import select
import socket
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt

import edge_agent.backends.chirpstack.codec as codec
from edge_agent import tls
from edge_agent.backends.base import (
    Backend,
    DownlinkCommand,
    DownlinkDecodeError,
    LogThrottle,
    StatsReport,
)
from edge_agent.backends.chirpstack.commands import CommandHandler
from edge_agent.backends.chirpstack.plan_command import plan_metadata
from edge_agent.backends.mailbox import Mailbox
from edge_agent.store.protocol import QueuedUplink, UplinkStore
from packet_forwarder.model import TxAck, Uplink

LOGGER = logging.getLogger(__name__)

#: unconfirmed QoS 1/2 uplink publishes in flight at once
MAX_INFLIGHT = 100
#: acks waiting for the sender; past it an ack is dropped and counted (ChirpStack tolerates a
#: missing ack, it times out; late uplinks are worse)
ACK_QUEUE_MAX = 200
#: unconfirmed QoS 1/2 ack publishes in flight at once
ACK_WINDOW = 10
#: acks published per second at most (a token bucket of one second's worth)
ACK_RATE_PER_S = 500.0
#: paho's in-flight window: uplinks, acks, and room for stats, state and command replies
PAHO_INFLIGHT = MAX_INFLIGHT + ACK_WINDOW + 40
#: paho refuses a publish past this many queued messages (MQTT_ERR_QUEUE_SIZE) instead of growing
PAHO_QUEUE_MAX = 1000
#: for this long after a connection is lost (or the first attempt fails) the backend retries every
#: ``reconnect_min_s`` (1 s by default, like the ChirpStack MQTT Forwarder), then backs off
FAST_RETRY_WINDOW_S = 60.0
#: Linux holds corked data until uncorked: a batch of publishes leaves as one segment
TCP_CORK: int | None = getattr(socket, "TCP_CORK", None)
#: at most one log line per this many seconds for garbage downlinks (every one is counted)
GARBAGE_LOG_INTERVAL_S = 10.0


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
    #: command/down payloads answered with no ack: not a DownlinkFrame, empty, no downlink id
    downlinks_garbage: int = 0
    #: retained command/* messages (the broker replays them at every subscription): ignored
    commands_retained: int = 0
    acks_published: int = 0
    #: publish() calls paho refused (queue full, no connection): uplinks are kept and retried
    publish_failures: int = 0


class ChirpStackBackend(Backend):
    """Publishes one gateway's uplinks and stats to a ChirpStack v4 MQTT broker."""

    type_name = "chirpstack"

    def __init__(self, cfg: Any, store: UplinkStore) -> None:
        self.mqtt = cfg.mqtt
        super().__init__(cfg, store)
        self.counters = BackendCounters()
        #: events from other threads (new uplinks, stats, command replies, stop)
        self._events = Mailbox()
        #: events paho's callbacks recorded on this thread, handled after the network step
        self._local: deque[tuple[Any, ...]] = deque()
        self._mail_ready = False
        self._client: mqtt.Client | None = None
        self._generation = 0
        self._inflight: dict[int, tuple[int, float]] = {}  # mid -> (store seq, sent monotonic)
        self._next_attempt = 0.0
        self._backoff_s = self.mqtt.reconnect_min_s
        self._connecting = False
        #: monotonic time the current outage began (None while connected)
        self._outage_since: float | None = None
        self._garbage_log = LogThrottle(GARBAGE_LOG_INTERVAL_S)
        self._retained_logged: set[str] = set()
        self.commands = CommandHandler(self)
        self._acks: deque[bytes] = deque()
        self._ack_mids: set[int] = set()
        self._ack_tokens = ACK_RATE_PER_S
        self._ack_refill_at = time.monotonic()
        #: taken uplinks whose publish paho refused: published first, in order, at the next step
        self._retry: deque[QueuedUplink] = deque()
        self._failure_log = LogThrottle(GARBAGE_LOG_INTERVAL_S)

    @property
    def server(self) -> str:
        """The broker URL."""
        return str(self.mqtt.server)

    @property
    def stats_interval_s(self) -> float | None:
        """ChirpStack's stats interval when this backend manages the plan, else the gateway's."""
        control = self.control
        return None if control is None else control.stats_interval_s(self.name)

    # -- the seam's hooks ------------------------------------------------------------------

    def _secrets(self) -> tuple[str, ...]:
        return (self.mqtt.password,) if self.mqtt.password else ()

    @classmethod
    def memory_queue_records(cls, cfg: Any) -> int:
        """``queue_max_uplinks`` of its ``[mqtt]`` keys."""
        return int(cfg.mqtt.queue_max_uplinks)

    def _encode_uplink(self, uplink: Uplink) -> bytes:
        assert self.gateway_id is not None
        frame: bytes = codec.uplink_frame(uplink, self.gateway_id).SerializeToString()
        return frame

    def _wake(self) -> None:
        self._events.put(("wake",))

    def _send_stats(self, report: StatsReport) -> bytes:
        assert self.gateway_id is not None
        stats = report.stats
        msg = codec.gateway_stats(stats, self.gateway_id, report.time_s, report.location)
        msg.metadata.update(report.metadata)
        msg.metadata.update(plan_metadata(self.control, self.name))
        if report.duty_cycle is not None:
            codec.fill_duty_cycle(msg, report.duty_cycle)
        payload = codec.encode(msg, self.mqtt.marshaler)
        self._events.put(("stats", payload))
        return payload

    def ack_room(self) -> bool:
        """Whether the ack queue has room (a full one drops the next ack)."""
        return len(self._acks) < ACK_QUEUE_MAX

    def _send_ack(self, ack: TxAck) -> bool:
        if not self.ack_room():
            return False
        was_empty = not self._acks
        self._acks.append(codec.tx_ack(ack, self.gateway_id or "", self.mqtt.marshaler))
        if was_empty:
            self._wake()  # one wake-up per batch of acks, not one per ack
        return True

    def _decode_downlink(self, payload: bytes) -> DownlinkCommand:
        try:
            frame = codec.decode_frame(payload, self.mqtt.marshaler)
        except codec.DECODE_ERRORS as exc:
            raise DownlinkDecodeError(f"malformed command/down payload: {exc}") from exc
        ours = self.gateway_id or ""
        if frame.gateway_id.lower() != ours.lower():
            refused = f"for gateway {frame.gateway_id!r}, we are {ours!r}"
            return DownlinkCommand(frame.downlink_id, ("",) * max(1, len(frame.items)), refused)
        if not frame.items:
            return DownlinkCommand(frame.downlink_id, ("",), "no items")
        items: list[Any] = []
        for item in frame.items:
            try:
                items.append(codec.item_to_request(frame.downlink_id, item))
            except codec.FrameError as exc:
                items.append(str(exc))
        return DownlinkCommand(frame.downlink_id, tuple(items))

    @classmethod
    def decode_record(cls, payload: bytes) -> dict[str, Any] | None:
        """A stored ``gw.UplinkFrame`` (protobuf) as a JSON-ready dict."""
        return codec.record_to_json(payload)

    # -- the sender loop -------------------------------------------------------------------

    def _run_once(self, timeout: float) -> None:
        self.poll_once(timeout)

    def poll_once(self, timeout: float = 1.0) -> None:
        """One step: connect when due, handle events, publish what the window allows, then wait
        up to ``timeout`` for the socket or the mailbox and do the network's work."""
        now = time.monotonic()
        if self._client is None and not self._stopping and now >= self._next_attempt:
            self._connect()
        self._handle_events()
        self._publish_pending()
        wait = min(timeout, self._publish_acks())
        if self._client is None:
            wait = max(0.0, min(timeout, self._next_attempt - time.monotonic()))
        self._network_step(wait)
        self._handle_events()
        self._publish_pending()
        self._publish_acks()

    def _handle_events(self) -> None:
        """What paho's callbacks recorded, then what other threads sent, in arrival order."""
        local = self._local
        while local:
            self._handle(local.popleft())
        if self._mail_ready or len(self._events):  # a readable pipe is read even when empty
            self._mail_ready = False
            for event in self._events.drain():
                self._handle(event)
                while local:  # a handler may read the socket (shutdown) and record more
                    self._handle(local.popleft())

    def _network_step(self, timeout: float) -> None:
        """Wait up to ``timeout`` for the MQTT socket or the mailbox, then read, write and keep
        the connection alive (paho's callbacks fire here, on this thread)."""
        client = self._client
        sock = client.socket() if client is not None else None
        if client is None or sock is None:
            if timeout > 0 and not len(self._events):
                self._mail_ready = bool(select.select([self._events], [], [], timeout)[0])
            return
        pending = sock.pending() if hasattr(sock, "pending") else 0  # TLS: decrypted, unread
        if pending or len(self._events) or self._local:
            timeout = 0.0
        readers: list[Any] = [sock, self._events]
        writers: list[Any] = [sock] if client.want_write() else []
        try:
            readable, writable, _ = select.select(readers, writers, [], timeout)
        except (OSError, ValueError, TypeError):  # closed under us: the read reports the loss
            readable, writable = [sock], []
        self._mail_ready = self._events in readable
        if pending or sock in readable:
            client.loop_read()
        if client.socket() is not None and (writable or client.want_write()):
            client.loop_write()
        if client.socket() is not None:
            client.loop_misc()  # keep-alive: PINGREQ when due, a silent broker is dropped

    def _handle(self, event: tuple[Any, ...]) -> None:
        kind = event[0]
        if kind == "wake":
            pass
        elif kind == "stats":
            self._publish_stats(event[1])
        elif kind == "publish":
            self._publish_event(event[1], event[2])
        elif event[1] != self._generation:
            return  # from a client we already dropped
        elif kind == "puback":
            sent = self._inflight.pop(event[2], None)
            if sent is None:
                self._ack_mids.discard(event[2])
            else:
                self._delivered(*sent)
                self.counters.uplinks_acked += 1
        elif kind == "connack":
            self._on_connected(event[2])
        elif kind == "disconnect":
            self._on_lost(f"connection lost ({event[2]})")
        elif kind == "command":
            self.commands.handle(event[2].rsplit("/", 1)[-1], event[3])

    def _connect(self) -> None:
        assert self.gateway_id is not None
        self._generation += 1
        gen = self._generation
        client_id = self.mqtt.client_id or self.gateway_id
        websocket_path = self.mqtt.websocket_path
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=self.mqtt.clean_session,
            protocol=mqtt.MQTTv311,
            transport="tcp" if websocket_path is None else "websockets",
            reconnect_on_failure=False,
        )
        if websocket_path is not None:
            client.ws_set_options(path=websocket_path)
        client.max_inflight_messages_set(PAHO_INFLIGHT)
        client.max_queued_messages_set(PAHO_QUEUE_MAX)
        # paho calls back on this thread, inside loop_read(): record, handle after the read
        local = self._local
        client.on_connect = lambda _c, _u, _f, rc, _p: local.append(("connack", gen, rc))
        client.on_disconnect = lambda _c, _u, _f, rc, _p: local.append(("disconnect", gen, rc))
        client.on_publish = lambda _c, _u, mid, _rc, _p: local.append(("puback", gen, mid))
        client.on_message = lambda _c, _u, msg: self._on_message(gen, msg)
        if self.mqtt.username is not None:
            client.username_pw_set(self.mqtt.username, self.mqtt.password)
        client.will_set(self._topic("state/conn"), self._conn_state(False), self.mqtt.qos, True)
        try:
            if self.mqtt.tls:  # never a passphrase prompt; a key problem backs off like a refusal
                client.tls_set_context(tls.client_context(self.mqtt))
            client.connect(self.mqtt.host, self.mqtt.port, keepalive=self.mqtt.keepalive_s)
        except (OSError, ValueError) as exc:
            self.counters.connect_failures += 1
            self._schedule_retry(f"cannot connect to {self.mqtt.server}: {exc}")
            return
        self._client = client
        self._connecting = True
        self._sockopt(socket.TCP_NODELAY, 1)  # no Nagle wait behind an unacked segment

    def _on_connected(self, reason: Any) -> None:
        if reason.is_failure:
            self.counters.connect_failures += 1
            self._on_lost(f"broker refused the connection: {reason}")
            return
        client = self._client
        assert client is not None and self.gateway_id is not None
        self._connecting = False
        client.subscribe(self._topic("command/+"), qos=self.mqtt.qos)
        client.publish(self._topic("state/conn"), self._conn_state(True), self.mqtt.qos, True)
        self._inflight.clear()
        self._ack_mids.clear()
        self._retry.clear()  # the rewind makes them takeable again, in order
        self.store.rewind()
        self.counters.connects += 1
        self._backoff_s = self.mqtt.reconnect_min_s
        self._outage_since = None
        self.connected.set()
        LOGGER.info(
            "%s: connected to %s as gateway %s (%d uplinks pending)",
            self.name,
            self.mqtt.server,
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
        now = time.monotonic()
        if self._outage_since is None:
            self._outage_since = now
        if now - self._outage_since < FAST_RETRY_WINDOW_S:
            delay = self.mqtt.reconnect_min_s  # the forwarder's steady 1 s at first
        else:
            delay = self._backoff_s * random.uniform(0.5, 1.0)
            self._backoff_s = min(self.mqtt.reconnect_max_s, self._backoff_s * 2)
        self._next_attempt = now + delay
        LOGGER.warning("%s: %s; retrying in %.1fs", self.name, why, delay)

    def _drop_client(self) -> None:
        client, self._client = self._client, None
        self._generation += 1  # late events from that client are ignored
        self.counters.uplinks_unconfirmed += len(self._inflight)
        self._inflight.clear()
        self._ack_mids.clear()
        self._connecting = False
        if client is not None:
            client.disconnect()  # written at once when the socket takes it (paho then closes it)
            sock = client.socket()
            if sock is not None:  # not written (a dead link): close it, the client is dropped
                sock.close()

    def _publish_pending(self) -> None:
        client = self._client
        if client is None or not self.connected.is_set():
            return
        room = MAX_INFLIGHT - len(self._inflight)
        if room <= 0:
            return
        topic = self._topic("event/up")
        batch = [self._retry.popleft() for _ in range(min(room, len(self._retry)))]
        if len(batch) < room:
            batch += self.store.take(room - len(batch))
        if len(batch) > 1:  # one TCP segment for the batch, not one send() path each
            self._sockopt(TCP_CORK, 1)
            try:
                self._publish_batch(client, topic, batch)
            finally:
                self._sockopt(TCP_CORK, 0)
        elif batch:
            self._publish_batch(client, topic, batch)

    def _sockopt(self, option: int | None, value: int) -> None:
        """Set a TCP option on the connection's socket where it has one (not websockets)."""
        get_socket = getattr(self._client, "socket", None)  # None: no client (or a stand-in)
        setsockopt = getattr(get_socket(), "setsockopt", None) if get_socket else None
        if option is None or setsockopt is None:
            return
        try:
            setsockopt(socket.IPPROTO_TCP, option, value)
        except OSError:  # a closing socket: the read reports it
            pass

    def _publish_batch(self, client: mqtt.Client, topic: str, batch: list[QueuedUplink]) -> None:
        for i, record in enumerate(batch):
            payload = codec.uplink_payload(
                record.payload, self.mqtt.marshaler, buffered=record.buffered
            )
            info = client.publish(topic, payload, qos=self.mqtt.qos)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                # kept in order, ahead of anything newer: published again at the next step
                self._retry.extendleft(reversed(batch[i:]))
                self._publish_failed(f"uplink {record.seq}", info.rc)
                return
            self.counters.uplinks_published += 1
            if self.mqtt.qos == 0:
                self._delivered(record.seq, None)
                self.counters.uplinks_acked += 1
            else:
                self._inflight[info.mid] = (record.seq, time.monotonic())

    def _publish_stats(self, payload: bytes) -> None:
        client = self._client
        if client is None or not self.connected.is_set():
            LOGGER.debug("not connected: stats of this interval not published")
            return
        info = client.publish(self._topic("event/stats"), payload, qos=self.mqtt.qos)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            self._publish_failed("stats", info.rc)
            return
        self.counters.stats_published += 1

    def _publish_acks(self) -> float:
        """Publish queued acks within their budget, after the uplinks; seconds until more may go
        (the sender's longest wait)."""
        if not self._acks:
            return 1.0
        client = self._client
        if client is None or not self.connected.is_set():
            return 1.0  # kept until the connection is back (bounded by ACK_QUEUE_MAX)
        now = time.monotonic()
        self._ack_tokens = min(
            ACK_RATE_PER_S, self._ack_tokens + (now - self._ack_refill_at) * ACK_RATE_PER_S
        )
        self._ack_refill_at = now
        topic = self._topic("event/ack")
        qos = self.mqtt.qos
        while self._acks and self._ack_tokens >= 1.0:
            if qos > 0 and len(self._ack_mids) >= ACK_WINDOW:
                return 1.0  # a PUBACK wakes the sender
            info = client.publish(topic, self._acks[0], qos=qos)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                self._publish_failed("ack", info.rc)
                return 0.05
            self._acks.popleft()
            self._ack_tokens -= 1.0
            self.counters.acks_published += 1
            if qos > 0:
                self._ack_mids.add(info.mid)
        if not self._acks:
            return 1.0
        return (1.0 - self._ack_tokens) / ACK_RATE_PER_S

    def _publish_failed(self, what: str, rc: int) -> None:
        """paho refused a publish: counted, logged at most once per interval."""
        self.counters.publish_failures += 1
        if self._failure_log.due():
            LOGGER.warning(
                "%s: paho refused the publish of %s (%s); %d refusals so far (uplinks are kept "
                "and published again first)",
                self.name,
                what,
                mqtt.error_string(rc),
                self.counters.publish_failures,
            )

    def _shutdown(self) -> None:
        client = self._client
        if client is not None and self.connected.is_set() and self.gateway_id is not None:
            topic = self._topic("state/conn")
            info = client.publish(topic, self._conn_state(False), self.mqtt.qos, retain=True)
            deadline = time.monotonic() + 2.0
            try:
                while not info.is_published() and client.socket() is not None:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._network_step(min(left, 0.1))  # this thread is paho's loop
                    self._handle_events()
                if not info.is_published():
                    LOGGER.warning("OFFLINE state not confirmed within 2 s")
            except (RuntimeError, ValueError) as exc:
                LOGGER.warning("OFFLINE state not confirmed: %s", exc)
        self.connected.clear()
        self._drop_client()
        self.commands.close()
        self._events.close()
        LOGGER.info("%s: disconnected from %s", self.name, self.mqtt.server)

    def _on_message(self, gen: int, msg: Any) -> None:
        """paho callback (on the sender thread): ``command/down`` to the downlink sink, the rest
        to the sender's events; retained commands and garbage downlinks go nowhere (counted,
        logged)."""
        self.counters.commands_received += 1
        if msg.retain:
            self._retained(msg.topic)
            return
        sink = self.downlink_sink
        if sink is not None and msg.topic.endswith("/command/down"):
            payload = bytes(msg.payload)
            why = codec.downlink_garbage(payload, self.mqtt.marshaler)
            if why is not None:
                self._garbage(why, len(payload))
                return
            self.link.downlinks_received += 1
            sink(self, payload)
        else:
            self._events.put(("command", gen, msg.topic, bytes(msg.payload)))

    def _retained(self, topic: str) -> None:
        """A retained command is stale by nature: the broker replays it at every subscription."""
        self.counters.commands_retained += 1
        if topic not in self._retained_logged:
            self._retained_logged.add(topic)
            LOGGER.warning(
                "%s: retained message on %s ignored (commands are never retained; clear it with "
                "an empty retained publish); further ones on this topic are only counted",
                self.name,
                topic,
            )

    def _garbage(self, why: str, size: int) -> None:
        self.counters.downlinks_garbage += 1
        if self._garbage_log.due():
            LOGGER.warning(
                "%s: command/down payload (%d bytes) is %s: not acked (%d such payloads so far)",
                self.name,
                size,
                why,
                self.counters.downlinks_garbage,
            )

    def _publish_event(self, suffix: str, payload: bytes) -> None:
        client = self._client
        if client is None or not self.connected.is_set():
            LOGGER.warning("not connected: %s not published", suffix)
            return
        info = client.publish(self._topic(suffix), payload, qos=self.mqtt.qos)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            self._publish_failed(suffix, info.rc)

    def _conn_state(self, online: bool) -> bytes:
        assert self.gateway_id is not None
        state = codec.conn_state(self.gateway_id, online)
        return codec.encode(state, self.mqtt.marshaler, all_fields=True)

    def _topic(self, suffix: str) -> str:
        assert self.gateway_id is not None
        return self.mqtt.topic(self.gateway_id, suffix)

    def stats(self) -> dict[str, int]:
        """Counters for logs and status."""
        return {
            "reconnects": max(0, self.counters.connects - 1),
            "connects": self.counters.connects,
            "disconnects": self.counters.disconnects,
            "uplinks_published": self.counters.uplinks_published,
            "uplinks_acked": self.counters.uplinks_acked,
            "uplinks_unconfirmed": self.counters.uplinks_unconfirmed,
            "downlinks_garbage": self.counters.downlinks_garbage,
            "commands_retained": self.counters.commands_retained,
            "acks_published": self.counters.acks_published,
            "acks_queued": len(self._acks),
            "publish_failures": self.counters.publish_failures,
        }
