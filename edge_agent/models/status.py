"""The status socket's document (``edge-agent status --json``; docs/technician-guide.md).

The document is still growing (radio health, downlinks and GPS details are being added), so
every section is open: keys not declared here may appear, and the schema allows them. What is
declared here is what a consumer may rely on.
"""

from __future__ import annotations

from typing import Annotated, NotRequired, TypedDict

from edge_agent.models import Meta, open_document
from edge_agent.models.spool import SpoolLiveStats

_NULLABLE_DBM = Meta("dBm, over the last uplinks; null before the first")


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
    crc_ok: Annotated[int, Meta(ge=0)]
    crc_bad: Annotated[int, Meta(ge=0)]
    crc_none: Annotated[int, Meta(ge=0)]
    crc_ratio: Annotated[float | None, Meta("crc_ok / (crc_ok + crc_bad); null before any", ge=0)]
    by_channel: Annotated[dict[str, int], Meta("uplinks per channel frequency (Hz, as a string)")]
    by_sf: Annotated[dict[str, int], Meta('uplinks per spreading factor ("7".."12", "FSK")')]
    rate_per_min: Annotated[dict[str, int], Meta("uplinks per channel over the last minute")]
    rssi_dbm: Annotated[Extremes, _NULLABLE_DBM]
    snr_db: Annotated[Extremes, Meta("dB, over the last uplinks; null before the first")]
    last_uplink: Annotated[str | None, Meta("UTC time of the last uplink (ISO 8601), or null")]


@open_document
class RadioStatus(TypedDict):
    """``radio``: the concentrator."""

    state: Annotated[str, Meta("starting, running, retrying or failed (more states may come)")]
    starts: Annotated[int, Meta("concentrator bring-ups since the daemon started", ge=0)]
    error: NotRequired[Annotated[str, Meta("why the radio is not running")]]
    model: NotRequired[Annotated[str | None, Meta("SX1302 or SX1303, once running")]]
    version: NotRequired[Annotated[int | None, Meta("chip version register, once running")]]
    eui: NotRequired[Annotated[str | None, Meta("the chip's EUI, 16 hex digits")]]
    session_id: NotRequired[Annotated[str, Meta("changes at each bring-up, 8 hex digits")]]
    radios: NotRequired[Annotated[dict[str, object], Meta("radio A and radio B")]]
    temperature_c: Annotated[float | None, Meta("board temperature, °C")]
    errors: Annotated[int, Meta("radio errors since start", ge=0)]
    bad_records: Annotated[dict[str, int], Meta("malformed RX FIFO records by kind")]
    rx: RxStats
    last_uplink: Annotated[str | None, Meta("same as rx.last_uplink")]


@open_document
class BackendStatus(TypedDict):
    """``backends.NAME``: one network server connection."""

    state: Annotated[str, Meta("connected or disconnected (more states may come)")]
    connected: bool
    server: Annotated[str, Meta("the server URL from the configuration")]
    reconnects: NotRequired[Annotated[int, Meta(ge=0)]]


@open_document
class GpsStatus(TypedDict):
    """``gps``: the GNSS receiver."""

    enabled: bool


@open_document
class StatusDocument(TypedDict):
    """``edge-agent status --json``: the running daemon's state, from its status socket."""

    version: Annotated[str, Meta("edge-agent version")]
    gateway_id: Annotated[str | None, Meta("16 hex digits; null until known")]
    uptime_s: Annotated[float, Meta("seconds since the daemon started", ge=0)]
    radio: RadioStatus
    spool: SpoolLiveStats
    backends: Annotated[dict[str, BackendStatus], Meta("one entry per backend, by name")]
    downlinks: Annotated[dict[str, object], Meta("downlink counts by TX status")]
    gps: GpsStatus
    reloads: Annotated[int, Meta("configuration reloads (SIGHUP) applied", ge=0)]
