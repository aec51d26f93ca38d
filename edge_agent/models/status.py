"""The status socket's document (``edge-agent status --json``; docs/technician-guide.md).

The document is still growing, so every section is open: keys not declared here may appear,
and the schema allows them. What is declared here is what a consumer may rely on. The
daemon's ``Supervisor.document`` returns a ``StatusDocument``: a new top-level key is declared
here first (mypy refuses an undeclared one).
"""

from __future__ import annotations

from typing import Annotated, NotRequired, TypedDict

from edge_agent.models import Meta, open_document
from edge_agent.models.spool import SpoolLiveStats

_COUNT = Meta(ge=0)


@open_document
class Extremes(TypedDict):
    """Smallest, largest and mean of a measure over the recent uplinks (null before any)."""

    min: float | None
    max: float | None
    mean: float | None


@open_document
class RxStats(TypedDict):
    """``radio.rx``: what the radio received since the daemon started."""

    total: Annotated[int, Meta("uplinks received", ge=0)]
    crc_ok: Annotated[int, _COUNT]
    crc_bad: Annotated[int, _COUNT]
    crc_none: Annotated[int, _COUNT]
    crc_ratio: Annotated[float | None, Meta("crc_ok / (crc_ok + crc_bad); null before any", ge=0)]
    by_channel: Annotated[dict[str, int], Meta("uplinks per channel frequency (Hz, as a string)")]
    by_sf: Annotated[dict[str, int], Meta('uplinks per spreading factor ("7".."12", "FSK")')]
    rate_per_min: Annotated[dict[str, int], Meta("uplinks per channel over the last minute")]
    rssi_dbm: Annotated[Extremes, Meta("dBm, over the recent uplinks")]
    snr_db: Annotated[Extremes, Meta("dB, over the recent uplinks")]
    last_uplink: Annotated[str | None, Meta("UTC time of the last uplink (ISO 8601), or null")]


@open_document
class RadioChain(TypedDict):
    """``radio.radios.a`` / ``.b``: one SX1250 radio."""

    mode: Annotated[str, Meta("rx, off (the concentrator is not running) or disabled")]
    freq_hz: Annotated[int | None, Meta("centre frequency, Hz; null when disabled")]
    tx: Annotated[bool, Meta("this radio transmits")]
    last_error: Annotated[str | None, Meta("why it is off, or null")]


@open_document
class RadioStatus(TypedDict):
    """``radio``: the concentrator's health and what it received."""

    state: Annotated[str, Meta("starting, running, restarting or down")]
    down_since: Annotated[float | None, Meta("UNIX time the radio went down, or null")]
    last_error: Annotated[str | None, Meta("the last bring-up or poll error, or null")]
    starts: Annotated[int, Meta("successful bring-ups since the daemon started", ge=0)]
    restarts: Annotated[int, _COUNT]
    start_attempts: Annotated[int, _COUNT]
    consecutive_failures: Annotated[int, _COUNT]
    poll_errors: Annotated[int, _COUNT]
    resets_detected: Annotated[int, Meta("chip resets noticed while running", ge=0)]
    fail_restart_after_s: Annotated[float, Meta("poll failures for this long restart the radio")]
    model: NotRequired[Annotated[str | None, Meta("SX1302 or SX1303, while running")]]
    version: NotRequired[Annotated[int | None, Meta("chip version register, while running")]]
    eui: NotRequired[Annotated[str | None, Meta("the chip's EUI, 16 hex digits")]]
    session_id: NotRequired[Annotated[str, Meta("changes at each bring-up, 8 hex digits")]]
    radios: Annotated[dict[str, RadioChain], Meta("radio A (a) and radio B (b)")]
    temperature_c: Annotated[float | None, Meta("board temperature (or the configured one), °C")]
    errors: Annotated[int, Meta("radio errors since start", ge=0)]
    bad_records: Annotated[dict[str, int], Meta("malformed RX FIFO records by kind")]
    rx: RxStats
    last_uplink: Annotated[str | None, Meta("same as rx.last_uplink")]


@open_document
class BackendQueue(TypedDict):
    """A backend's queue in the spool."""

    pending: Annotated[int, _COUNT]
    bytes: Annotated[int, _COUNT]
    oldest_age_s: Annotated[float, Meta(ge=0)]
    dropped: Annotated[int, _COUNT]


@open_document
class BackendStatus(TypedDict):
    """``backends.NAME``: one network server; its type adds its own counters."""

    type: Annotated[str, Meta("chirpstack or semtech_udp")]
    server: Annotated[str, Meta("the server URL from the configuration")]
    state: Annotated[str, Meta("connected or disconnected")]
    connected: bool
    queue: BackendQueue
    delivered: Annotated[int, Meta("uplinks the server confirmed", ge=0)]
    last_ack_age_s: Annotated[float | None, Meta("seconds since the last confirmation, or null")]
    rtt_ms: Annotated[float | None, Meta("last round-trip time, ms, or null")]
    rtt_avg_ms: Annotated[float | None, Meta("smoothed round-trip time, ms, or null")]
    forwarded: Annotated[int, Meta("uplinks its filters let through", ge=0)]
    filtered: Annotated[dict[str, int], Meta("uplinks its filters held back, by reason")]


@open_document
class NextTx(TypedDict):
    """The next downlink the JIT queue will transmit."""

    rf_chain: int
    count_us: Annotated[int, Meta("concentrator counter at TX start, µs")]
    timing: str
    airtime_us: int


@open_document
class DownlinkStatus(TypedDict):
    """``downlinks``: TX acknowledgements by status and the JIT queues."""

    by_status: Annotated[dict[str, int], Meta("TX acknowledgements by status (OK, TOO_LATE...)")]
    frames: Annotated[int, Meta("downlink frames received from the servers", ge=0)]
    malformed: Annotated[int, _COUNT]
    refused: Annotated[int, _COUNT]
    acks: Annotated[int, _COUNT]
    queue_depth: Annotated[int, Meta("downlinks waiting for their TX time", ge=0)]
    next_tx: NextTx | None


@open_document
class GpsStatus(TypedDict):
    """``gps``: the GNSS receiver (its keys depend on whether its reader runs)."""

    enabled: bool
    reason: NotRequired[Annotated[str, Meta("why it is disabled")]]
    source: NotRequired[Annotated[str, Meta("serial device or gpsd://HOST:PORT")]]
    reader: NotRequired[Annotated[str, Meta("running, starting or down")]]
    error: NotRequired[str | None]
    fix: NotRequired[bool]
    pps: NotRequired[bool]
    time_valid: NotRequired[Annotated[bool, Meta("GPS time usable for Class B and timestamps")]]


@open_document
class StatusDocument(TypedDict):
    """edge-agent status --json: the running daemon's state, from its status socket."""

    version: Annotated[str, Meta("edge-agent version")]
    gateway_id: Annotated[str | None, Meta("16 hex digits; null until known")]
    uptime_s: Annotated[float, Meta("seconds since the daemon started", ge=0)]
    radio: RadioStatus
    spool: SpoolLiveStats
    backends: Annotated[dict[str, BackendStatus], Meta("one entry per backend, by name")]
    downlinks: DownlinkStatus
    gps: GpsStatus
    reloads: Annotated[int, Meta("configuration reloads (SIGHUP) applied", ge=0)]
    pending_restart: Annotated[
        dict[str, object], Meta("changed settings that wait for a restart, by table")
    ]
