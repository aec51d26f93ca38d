"""The backend seam: what the service asks of a network-server backend, and the generic part.

The service, the spool and the downlink pipeline see only the neutral model
(``packet_forwarder.model``: ``Uplink``, ``DownlinkRequest``, ``TxAck``, ``GatewayStats``, plus
``StatsReport`` and ``DownlinkCommand`` here). A backend type subclasses ``Backend`` and fills
small private hooks (python-can's ``BusABC`` style):

- ``_encode_uplink(uplink)``: the bytes its spool queue stores for one uplink;
- ``_send_stats(report)``: encode and send one stats report (returns the bytes sent);
- ``_send_ack(ack)``: encode and send the answer to one of its downlinks;
- ``_decode_downlink(payload)``: one raw downlink message -> ``DownlinkCommand``;
- ``_run_once(timeout)``: one step of its sender thread (connect, send, receive);
- ``_shutdown()``: leave cleanly (publish OFFLINE, close the socket);
- ``decode_record(payload)`` (class method): one stored row as JSON, for ``spool export``.

The base class owns the sender thread, the filter, the store, the ``connected`` flag and the
link counters (delivered, last ack, round-trip time) that ``status`` shows.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from edge_agent import logs
from edge_agent.errors import BackendError
from edge_agent.router import UplinkFilter
from edge_agent.store.protocol import UplinkStore
from packet_forwarder.lorawan import PhyHeader
from packet_forwarder.model import DownlinkRequest, GatewayStats, TxAck, Uplink

LOGGER = logging.getLogger(__name__)

#: weight of the newest sample in the smoothed round-trip time
RTT_ALPHA = 0.2
#: memory-queue size of a backend type that does not say (spool unavailable)
MEMORY_QUEUE_RECORDS = 10_000


class DownlinkDecodeError(BackendError, ValueError):
    """A downlink message that cannot be decoded at all (no id to answer to)."""


@dataclass(frozen=True, slots=True)
class DownlinkCommand:
    """One downlink message of a network server, decoded by its backend.

    ``items`` are tried in order until one is scheduled (ChirpStack sends alternatives, e.g.
    RX1 then RX2); an item the backend could not convert is a string saying why, answered
    INTERNAL_ERROR. ``refused`` (wrong gateway, no items) refuses the whole command.
    """

    downlink_id: int
    items: tuple[DownlinkRequest | str, ...]
    refused: str | None = None


@dataclass(frozen=True, slots=True)
class StatsReport:
    """One backend's stats interval, in neutral terms; the backend encodes it its own way."""

    stats: GatewayStats
    time_s: float
    #: (latitude, longitude, altitude) from GPS or the configuration
    location: tuple[float, float, float] | None = None
    #: string values for the stats metadata (radio_up, queue_pending, spool_*...)
    metadata: dict[str, str] = field(default_factory=dict)
    #: ``packet_forwarder.dutycycle.DutyCycleStats`` in EU868, else None
    duty_cycle: Any = None
    #: uplinks this backend's filter forwarded during the interval
    rx_forwarded: int = 0
    temperature_c: float | None = None


@dataclass(slots=True)
class LinkCounters:
    """What a backend's link did, for ``status``: deliveries, last ack, round-trip time."""

    delivered: int = 0
    last_ack_at: float | None = None
    rtt_s: float | None = None
    rtt_smoothed_s: float | None = None
    stats_sent: int = 0
    downlinks_received: int = 0
    acks_sent: int = 0
    #: acks past the backend's ack budget (its queue full): never sent
    acks_dropped: int = 0


class LogThrottle:
    """True at most once per ``interval_s`` (for "counted; logged once per interval" warnings)."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._last: float | None = None

    def due(self) -> bool:
        """Whether a line may be logged now (then not again for ``interval_s``)."""
        now = time.monotonic()
        if self._last is not None and now - self._last < self.interval_s:
            return False
        self._last = now
        return True


#: receives (backend, raw downlink message) from the backend's receiving thread; only signals
DownlinkSink = Callable[["Backend", bytes], None]


class Backend:
    """One network-server link: its filter, its spool queue, its sender thread."""

    #: the ``type`` key of ``[[backend]]`` (the registry's name for it)
    type_name: ClassVar[str] = ""

    def __init__(self, cfg: Any, store: UplinkStore) -> None:
        """``cfg`` is an ``edge_agent.config.BackendConfig``; ``store`` this backend's FIFO."""
        for secret in self._secrets():
            logs.add_secret(secret)  # before anything could log it
        self.cfg = cfg
        self.name: str = cfg.name
        self.store = store
        self.filter = UplinkFilter.from_config(cfg.filters)
        self.gateway_id: str | None = None
        self.connected = threading.Event()
        self.link = LinkCounters()
        #: set by the service: where decoded downlinks go
        self.downlink_sink: DownlinkSink | None = None
        #: set by the service: an ``edge_agent.gateway_control.GatewayControl``
        self.control: Any = None
        self._stopping = False
        self._thread: threading.Thread | None = None

    # -- what the service calls --------------------------------------------------------------

    @property
    def server(self) -> str:
        """The server's address, for logs and status."""
        return ""

    @property
    def stats_interval_s(self) -> float | None:
        """Seconds between stats reports; None: the service's ``[gateway] stats_interval_s``."""
        return None

    def start(self, gateway_id: str) -> None:
        """Start the sender thread for ``gateway_id`` (it connects in the background)."""
        if self._thread is not None:
            return
        self.gateway_id = gateway_id
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=f"{self.name}-sender", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Leave cleanly and join the sender thread. Idempotent."""
        if self._thread is None:
            return
        self._stopping = True
        self._wake()
        self._thread.join(timeout)
        if self._thread.is_alive():
            LOGGER.warning("%s: sender did not stop within %.1fs", self.name, timeout)
        self._thread = None

    @property
    def running(self) -> bool:
        """True while the sender thread is alive (between ``start()`` and ``stop()``)."""
        return self._thread is not None and self._thread.is_alive()

    def offer(self, uplink: Uplink, header: PhyHeader | None, *, wake: bool = True) -> bool:
        """Queue ``uplink`` if this backend's filter admits it; returns whether it did."""
        if not self.filter.accept(uplink, header):
            return False
        self.submit(uplink, wake=wake)
        return True

    def submit(self, uplink: Uplink, *, wake: bool = True) -> int:
        """Encode and queue one uplink; buffered when the server is not reachable now.

        ``wake=False`` leaves the sender asleep: the caller queues a batch (what one radio poll
        read), then calls ``wake()`` once."""
        assert self.gateway_id is not None, "start() first: uplinks carry the gateway id"
        seq = self.store.append(
            self._encode_uplink(uplink),
            received_at=uplink.gw_time,
            buffered=not self.connected.is_set(),
        )
        if wake:
            self._wake()
        return seq

    def wake(self) -> None:
        """Make the sender look at its queue now (after ``submit(..., wake=False)``)."""
        self._wake()

    def publish_stats(self, report: StatsReport) -> bytes:
        """Encode and send one stats report (dropped when not connected); returns its bytes."""
        payload = self._send_stats(report)
        self.link.stats_sent += 1
        return payload

    def publish_ack(self, ack: TxAck) -> None:
        """Answer one of this backend's downlinks (dropped and counted past its ack budget)."""
        if self._send_ack(ack) is False:
            self.link.acks_dropped += 1
        else:
            self.link.acks_sent += 1

    def ack_room(self) -> bool:
        """Whether an ack queued now would be sent (False: past the backend's ack budget)."""
        return True

    def decode_downlink(self, payload: bytes) -> DownlinkCommand:
        """Decode one raw downlink message; ``DownlinkDecodeError`` when it cannot be."""
        return self._decode_downlink(payload)

    @classmethod
    def decode_record(cls, payload: bytes) -> dict[str, Any] | None:
        """One stored spool row as a JSON-ready dict (``spool export``), or None."""
        return None

    @classmethod
    def memory_queue_records(cls, cfg: Any) -> int:
        """How many uplinks its memory queue holds when the spool cannot be opened."""
        return MEMORY_QUEUE_RECORDS

    def status(self) -> dict[str, Any]:
        """This backend's part of ``status --json``."""
        queue = self.store.stats()
        connected = self.connected.is_set()
        last_ack = self.link.last_ack_at
        return {
            "type": self.type_name,
            "server": self.server,
            "state": "connected" if connected else "disconnected",
            "connected": connected,
            "queue": {
                key: queue.get(key, 0) for key in ("pending", "bytes", "oldest_age_s", "dropped")
            },
            "delivered": self.link.delivered,
            "last_ack_age_s": None if last_ack is None else round(time.time() - last_ack, 3),
            "rtt_ms": _ms(self.link.rtt_s),
            "rtt_avg_ms": _ms(self.link.rtt_smoothed_s),
            "acks_sent": self.link.acks_sent,
            "acks_dropped": self.link.acks_dropped,
            "forwarded": self.filter.forwarded,
            "filtered": dict(self.filter.filtered),
            **self.stats(),
        }

    def stats(self) -> dict[str, int]:
        """Type-specific counters for logs and status."""
        return {}

    # -- for subclasses ----------------------------------------------------------------------

    def _delivered(self, seq: int, sent_mono: float | None) -> None:
        """The server confirmed stored record ``seq`` (sent at ``sent_mono``): drop it."""
        self.store.ack(seq)
        self.link.delivered += 1
        self._acked(sent_mono)

    def _acked(self, sent_mono: float | None) -> None:
        """Any confirmation from the server: last-ack time and round-trip time."""
        self.link.last_ack_at = time.time()
        if sent_mono is not None:
            rtt = max(0.0, time.monotonic() - sent_mono)
            self.link.rtt_s = rtt
            old = self.link.rtt_smoothed_s
            self.link.rtt_smoothed_s = rtt if old is None else old + RTT_ALPHA * (rtt - old)

    def _run(self) -> None:
        while not self._stopping:
            try:
                self._run_once(1.0)
            except Exception:  # the sender must outlive a bad record or a library surprise
                LOGGER.exception("%s: sender step failed", self.name)
                time.sleep(0.5)
        try:
            self._shutdown()
        except Exception:
            LOGGER.exception("%s: shutdown failed", self.name)

    # -- hooks -------------------------------------------------------------------------------

    def _secrets(self) -> tuple[str, ...]:
        """Credentials of ``self.cfg`` the logs must never show."""
        return ()

    def _wake(self) -> None:
        """Make a blocked ``_run_once`` return soon (new record, stop)."""

    def _encode_uplink(self, uplink: Uplink) -> bytes:
        raise NotImplementedError

    def _send_stats(self, report: StatsReport) -> bytes:
        raise NotImplementedError

    def _send_ack(self, ack: TxAck) -> bool | None:
        """Queue or send the ack; False when the ack budget dropped it."""
        raise NotImplementedError

    def _decode_downlink(self, payload: bytes) -> DownlinkCommand:
        raise NotImplementedError

    def _run_once(self, timeout: float) -> None:
        raise NotImplementedError

    def _shutdown(self) -> None:
        """Leave the server cleanly; called once on the sender thread when it stops."""


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)
