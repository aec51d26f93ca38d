"""The Semtech UDP (GWMP v2) backend: a packet-forwarder client for any server that speaks it.

Two connected UDP sockets, as lora_pkt_fwd has: *up* sends PUSH_DATA (uplinks and ``stat``) and
reads PUSH_ACK; *down* sends the PULL_DATA keep-alive every ``keepalive_interval_s``, reads
PULL_ACK and PULL_RESP (a downlink) and sends TX_ACK.

Unlike lora_pkt_fwd, an uplink is never fire-and-forget: the stored ``rxpk`` records go out at
most ``MAX_RXPK_PER_PUSH`` per PUSH_DATA, one datagram in flight; a PUSH_DATA not acknowledged
within ``push_timeout_ms`` is sent again (``PUSH_RETRIES`` times), then the backend counts the
server unreachable and holds its uplinks in the spool until a keep-alive is answered again,
then resends them from the oldest. A record leaves the spool only on its PUSH_ACK.

Malformed or unexpected datagrams from the server are counted by kind, logged once per kind
(DEBUG afterwards) and ignored.
"""

from __future__ import annotations

import json
import logging
import random
import selectors
import socket
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from edge_agent.backends.base import Backend, DownlinkCommand, DownlinkDecodeError, StatsReport
from edge_agent.store.protocol import UplinkStore
from packet_forwarder import gwmp
from packet_forwarder.errors import GwmpError
from packet_forwarder.model import TxAck, TxStatus, Uplink

LOGGER = logging.getLogger(__name__)

#: rxpk objects per PUSH_DATA (lora_pkt_fwd's NB_PKT_MAX is 8)
MAX_RXPK_PER_PUSH = 8
#: resends of an unacknowledged PUSH_DATA before the server counts as unreachable
PUSH_RETRIES = 3
#: keep-alives in a row without PULL_ACK before the server counts as unreachable
KEEPALIVE_MISSES = 3
#: largest datagram read (GWMP datagrams fit a UDP payload)
MAX_DATAGRAM = 65_535
#: rxpk extension key marking an uplink that waited in the spool (servers ignore unknown keys)
BUFFERED_META = {"buffered": "true"}


@dataclass(slots=True)
class UdpCounters:
    """What the backend did since it started."""

    pushes_sent: int = 0
    pushes_acked: int = 0
    push_resends: int = 0
    push_give_ups: int = 0
    keepalives_sent: int = 0
    keepalives_acked: int = 0
    stats_sent: int = 0
    downlinks_received: int = 0
    tx_acks_sent: int = 0
    malformed: Counter[str] = field(default_factory=Counter)


@dataclass(slots=True)
class _Push:
    """The PUSH_DATA in flight: its token, bytes, spool records and resend state."""

    token: int
    datagram: bytes
    seqs: list[int]
    sent_mono: float
    attempts: int = 1


class SemtechUdpBackend(Backend):
    """GWMP v2 client: uplinks and stats by PUSH_DATA, downlinks by PULL_RESP, TX_ACK back."""

    type_name = "semtech_udp"

    def __init__(self, cfg: Any, store: UplinkStore) -> None:
        super().__init__(cfg, store)
        self.udp = cfg.udp
        self.counters = UdpCounters()
        self._up: socket.socket | None = None
        self._down: socket.socket | None = None
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._push: _Push | None = None
        self._held = False  # retries exhausted: uplinks wait for the next answered keep-alive
        # filled by the stats and downlink threads, emptied by the sender (deque: thread-safe)
        self._stats_out: deque[bytes] = deque()
        self._stat_tokens: dict[int, float] = {}
        self._acks_out: deque[bytes] = deque()
        self._pull_token: int | None = None
        self._pull_sent = 0.0
        self._pull_misses = 0
        self._next_keepalive = 0.0
        self._next_open = 0.0
        self._interval_pushes = (0, 0)  # (sent, acked) at the last stat, for its ackr
        self._logged_kinds: set[str] = set()

    @property
    def server(self) -> str:
        """The server URL."""
        return str(self.udp.server)

    @property
    def stats_interval_s(self) -> float | None:
        """``stat_interval_s`` of this backend."""
        return float(self.udp.stat_interval_s)

    @property
    def gateway_eui(self) -> int:
        """The gateway id as the 64-bit EUI GWMP carries."""
        assert self.gateway_id is not None
        return int(self.gateway_id, 16)

    # -- the seam's hooks ------------------------------------------------------------------

    def _encode_uplink(self, uplink: Uplink) -> bytes:
        return json.dumps(gwmp.uplink_to_rxpk(uplink), separators=(",", ":")).encode()

    @classmethod
    def decode_record(cls, payload: bytes) -> dict[str, Any] | None:
        """A stored ``rxpk`` (JSON) as a dict."""
        try:
            value = json.loads(payload)
        except (UnicodeDecodeError, ValueError):
            return None
        return value if isinstance(value, dict) else None

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"\0")
        except (BlockingIOError, OSError):
            pass  # already awake: the pipe is full

    def _send_stats(self, report: StatsReport) -> bytes:
        sent, acked = self.counters.pushes_sent, self.counters.pushes_acked
        before_sent, before_acked = self._interval_pushes
        self._interval_pushes = (sent, acked)
        pushes = sent - before_sent
        ratio = 100.0 * (acked - before_acked) / pushes if pushes else 100.0
        location = None
        if report.location is not None:
            lat, lon, alt = report.location
            location = (lat, lon, round(alt))
        stat = gwmp.stats_to_stat(
            report.stats,
            time_s=report.time_s,
            rx_forwarded=report.rx_forwarded,
            ack_ratio_pct=min(100.0, ratio),
            temperature_c=report.temperature_c,
            location=location,
        )
        payload = json.dumps({"stat": stat}, separators=(",", ":")).encode()
        self._stats_out.append(payload)
        self._wake()
        return payload

    def _send_ack(self, ack: TxAck) -> None:
        status = ack.statuses[0] if ack.statuses else TxStatus.INTERNAL_ERROR
        datagram = gwmp.TxAck(ack.downlink_id & 0xFFFF, self.gateway_eui, gwmp.txpk_ack(status))
        self._acks_out.append(datagram.to_bytes())
        self._wake()

    def _decode_downlink(self, payload: bytes) -> DownlinkCommand:
        try:
            datagram = gwmp.parse_datagram(payload)
            if not isinstance(datagram, gwmp.PullResp):
                raise GwmpError(f"not a PULL_RESP: {type(datagram).__name__}")
            txpk = datagram.payload.get("txpk")
            if not isinstance(txpk, dict):
                raise GwmpError("PULL_RESP without a txpk object")
            request = gwmp.txpk_to_downlink(txpk, datagram.token)
        except GwmpError as exc:
            raise DownlinkDecodeError(str(exc)) from exc
        return DownlinkCommand(datagram.token, (request,))

    # -- the sender loop -------------------------------------------------------------------

    def _run_once(self, timeout: float) -> None:
        now = time.monotonic()
        if self._up is None and (now < self._next_open or not self._open()):
            self._wait(min(timeout, max(0.0, self._next_open - now)))
            return
        self._keepalive(now)
        self._check_push(now)
        self._flush_outbox()
        self._push_next()
        deadline = self._next_keepalive
        if self._push is not None:
            deadline = min(deadline, self._push.sent_mono + self.udp.push_timeout_ms / 1000)
        self._wait(max(0.0, min(timeout, deadline - time.monotonic())))

    def _open(self) -> bool:
        try:
            self._up = _udp_socket(self.udp.host, self.udp.port_up)
            self._down = _udp_socket(self.udp.host, self.udp.port_down_or_up)
        except OSError as exc:
            self._close_sockets()
            self._next_open = time.monotonic() + self.udp.keepalive_interval_s
            LOGGER.warning("%s: cannot reach %s (%s); retrying in %.0fs", self.name,
                           self.server, exc, self.udp.keepalive_interval_s)  # fmt: skip
            return False
        self._selector.register(self._up, selectors.EVENT_READ, "up")
        self._selector.register(self._down, selectors.EVENT_READ, "down")
        self._next_keepalive = 0.0
        LOGGER.info("%s: sending to %s as gateway %s (%d uplinks pending)", self.name,
                    self.server, self.gateway_id, self.store.pending())  # fmt: skip
        return True

    def _keepalive(self, now: float) -> None:
        if now < self._next_keepalive:
            return
        if self._pull_token is not None:  # the previous one was not answered
            self._pull_misses += 1
            if self._pull_misses >= KEEPALIVE_MISSES and self.connected.is_set():
                self.connected.clear()
                LOGGER.warning("%s: %d keep-alives unanswered: %s unreachable", self.name,
                               self._pull_misses, self.server)  # fmt: skip
        self._pull_token = random.getrandbits(16)
        self._pull_sent = now
        self._next_keepalive = now + self.udp.keepalive_interval_s
        self._send(self._down, gwmp.PullData(self._pull_token, self.gateway_eui).to_bytes())
        self.counters.keepalives_sent += 1

    def _check_push(self, now: float) -> None:
        push = self._push
        if push is None or now < push.sent_mono + self.udp.push_timeout_ms / 1000:
            return
        if push.attempts <= PUSH_RETRIES:
            push.attempts += 1
            push.sent_mono = now
            self.counters.push_resends += 1
            LOGGER.debug("%s: PUSH_DATA %04x not acknowledged: resent (attempt %d)",
                         self.name, push.token, push.attempts)  # fmt: skip
            self._send(self._up, push.datagram)
            return
        self._push = None
        self._held = True
        self.counters.push_give_ups += 1
        self.store.rewind()  # they are sent again, oldest first, once the server answers
        if self.connected.is_set():
            self.connected.clear()
        LOGGER.warning(
            "%s: PUSH_DATA unacknowledged after %d resends: holding %d uplinks in the spool "
            "until %s answers a keep-alive",
            self.name,
            PUSH_RETRIES,
            self.store.pending(),
            self.server,
        )

    def _push_next(self) -> None:
        if self._push is not None or self._held:
            return
        records = self.store.take(MAX_RXPK_PER_PUSH)
        if not records:
            return
        rxpks = []
        for record in records:
            rxpk = json.loads(record.payload)
            if record.buffered:
                rxpk["meta"] = {**rxpk.get("meta", {}), **BUFFERED_META}
            rxpks.append(rxpk)
        token = random.getrandbits(16)
        datagram = gwmp.PushData(token, self.gateway_eui, {"rxpk": rxpks}).to_bytes()
        self._push = _Push(token, datagram, [r.seq for r in records], time.monotonic())
        self.counters.pushes_sent += 1
        self._send(self._up, datagram)

    def _flush_outbox(self) -> None:
        while self._acks_out:
            self._send(self._down, self._acks_out.popleft())
            self.counters.tx_acks_sent += 1
        while self._stats_out:
            token = random.getrandbits(16)
            payload = json.loads(self._stats_out.popleft())
            self._stat_tokens[token] = time.monotonic()
            if len(self._stat_tokens) > 16:
                self._stat_tokens.pop(next(iter(self._stat_tokens)))
            self._send(self._up, gwmp.PushData(token, self.gateway_eui, payload).to_bytes())
            self.counters.stats_sent += 1

    def _send(self, sock: socket.socket | None, datagram: bytes) -> None:
        if sock is None:
            return
        try:
            sock.send(datagram)
        except OSError as exc:  # ICMP port unreachable, no route: the resend logic copes
            LOGGER.debug("%s: send failed: %s", self.name, exc)

    def _wait(self, timeout: float) -> None:
        for key, _mask in self._selector.select(timeout):
            if key.data == "wake":
                try:
                    while self._wake_r.recv(4096):
                        pass
                except (BlockingIOError, OSError):
                    pass
                continue
            self._read(key.fileobj)  # type: ignore[arg-type]

    def _read(self, sock: socket.socket) -> None:
        while True:
            try:
                data = sock.recv(MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # e.g. ECONNREFUSED from an earlier send
                LOGGER.debug("%s: receive failed: %s", self.name, exc)
                return
            self.on_datagram(data)

    def on_datagram(self, data: bytes) -> None:
        """Handle one datagram from the server (the sender thread, or a test)."""
        try:
            datagram = gwmp.parse_datagram(data)
        except GwmpError as exc:
            self._malformed(str(exc).split(":")[0], exc, data)
            return
        if isinstance(datagram, gwmp.PushAck):
            self._on_push_ack(datagram.token)
        elif isinstance(datagram, gwmp.PullAck):
            self._on_pull_ack(datagram.token)
        elif isinstance(datagram, gwmp.PullResp):
            self._on_pull_resp(datagram, data)
        else:
            name = type(datagram).__name__
            self._malformed(f"unexpected {name}", f"a gateway's {name} from the server", data)

    def _on_push_ack(self, token: int) -> None:
        push = self._push
        if push is not None and token == push.token:
            self._push = None
            self.counters.pushes_acked += 1
            for seq in push.seqs:
                self._delivered(seq, push.sent_mono)
            self._link_up()
        elif token in self._stat_tokens:
            self._acked(self._stat_tokens.pop(token))
        else:
            LOGGER.debug("%s: PUSH_ACK %04x matches nothing in flight (late)", self.name, token)

    def _on_pull_ack(self, token: int) -> None:
        if token != self._pull_token:
            LOGGER.debug("%s: PULL_ACK %04x matches no keep-alive (late)", self.name, token)
            return
        self._pull_token = None
        self._pull_misses = 0
        self.counters.keepalives_acked += 1
        self._acked(self._pull_sent)
        if self._held:
            self._held = False
            LOGGER.info("%s: %s answers again: resending %d held uplinks", self.name,
                        self.server, self.store.pending())  # fmt: skip
        self._link_up()

    def _link_up(self) -> None:
        if not self.connected.is_set():
            self.connected.set()
            LOGGER.info("%s: %s acknowledges", self.name, self.server)

    def _on_pull_resp(self, datagram: gwmp.PullResp, data: bytes) -> None:
        txpk = datagram.payload.get("txpk")
        try:
            if not isinstance(txpk, dict):
                raise GwmpError("PULL_RESP without a txpk object")
            gwmp.txpk_to_downlink(txpk, datagram.token)
        except GwmpError as exc:
            self._malformed("bad txpk", exc, data)
            return
        self.counters.downlinks_received += 1
        self.link.downlinks_received += 1
        sink = self.downlink_sink
        if sink is not None:
            sink(self, data)

    def _malformed(self, kind: str, why: object, data: bytes) -> None:
        self.counters.malformed[kind] += 1
        level = logging.DEBUG if kind in self._logged_kinds else logging.WARNING
        self._logged_kinds.add(kind)
        LOGGER.log(level, "%s: ignored a malformed datagram (%d bytes) from %s: %s (further "
                   "ones of this kind are counted, logged at DEBUG)", self.name, len(data),
                   self.server, why)  # fmt: skip

    def _shutdown(self) -> None:
        self.connected.clear()
        self._close_sockets()
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()
        LOGGER.info("%s: stopped sending to %s", self.name, self.server)

    def _close_sockets(self) -> None:
        for sock in (self._up, self._down):
            if sock is not None:
                try:
                    self._selector.unregister(sock)
                except (KeyError, ValueError):
                    pass
                sock.close()
        self._up = self._down = None

    def status(self) -> dict[str, Any]:
        """The generic status, with the malformed datagrams by kind."""
        return {**super().status(), "malformed_by_kind": dict(self.counters.malformed)}

    def stats(self) -> dict[str, int]:
        """Counters for status."""
        c = self.counters
        return {
            "pushes_sent": c.pushes_sent,
            "pushes_acked": c.pushes_acked,
            "push_resends": c.push_resends,
            "push_give_ups": c.push_give_ups,
            "keepalives_sent": c.keepalives_sent,
            "keepalives_acked": c.keepalives_acked,
            "stats_sent": c.stats_sent,
            "downlinks_received": c.downlinks_received,
            "tx_acks_sent": c.tx_acks_sent,
            "malformed": sum(c.malformed.values()),
        }


def _udp_socket(host: str, port: int) -> socket.socket:
    """A non-blocking UDP socket connected to ``host:port`` (first address that works)."""
    error: OSError | None = None
    for family, kind, proto, _name, address in socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM):
        sock = socket.socket(family, kind, proto)
        try:
            sock.connect(address)
        except OSError as exc:
            sock.close()
            error = exc
            continue
        sock.setblocking(False)
        return sock
    raise error or OSError(f"{host}:{port} has no address")
