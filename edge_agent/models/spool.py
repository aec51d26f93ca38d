"""The spool's counters: ``edge-agent spool stats --json`` and the status document's ``spool``.

Both documents are still growing (per-backend counters are being added), so they are open:
keys not declared here may appear, and their schemas allow them.
"""

from __future__ import annotations

from typing import Annotated, NotRequired, TypedDict

from edge_agent.models import Meta, open_document

_AGE = Meta("age of the oldest pending uplink, seconds (0 when none)", ge=0)
_BYTES = Meta("bytes the pending uplinks take (payload + per-record overhead)", ge=0)


@open_document
class BackendSpoolStats(TypedDict):
    """One backend's queue in the spool."""

    pending: Annotated[int, Meta("uplinks waiting for this backend", ge=0)]
    bytes: Annotated[int, _BYTES]
    oldest_age_s: Annotated[float, _AGE]
    memory: NotRequired[Annotated[int, Meta("pending uplinks not committed to disk yet", ge=0)]]
    spooled: NotRequired[Annotated[int, Meta("uplinks queued since start", ge=0)]]
    delivered: NotRequired[Annotated[int, Meta("uplinks the server acknowledged", ge=0)]]
    dropped: NotRequired[Annotated[int, Meta("uplinks dropped (full or too old)", ge=0)]]


@open_document
class SpoolCounters(TypedDict):
    """The counters every view of the uplink queue shows (totals over the backends)."""

    pending: Annotated[int, Meta("uplinks waiting, every backend", ge=0)]
    bytes: Annotated[int, _BYTES]
    oldest_age_s: Annotated[float, _AGE]
    dropped: Annotated[int, Meta("uplinks dropped because the spool was full or too old", ge=0)]
    delivered: Annotated[int, Meta("uplinks acknowledged by their server", ge=0)]
    spooled: Annotated[int, Meta("uplinks written to the spool (0 in memory mode)", ge=0)]


_COMMITS = Meta("group commits to disk", ge=0)
_DISK = Meta("bytes the spool wrote to disk", ge=0)
_ENOSPC = Meta("writes refused because the disk was full", ge=0)


@open_document
class SpoolFileStats(SpoolCounters):
    """``edge-agent spool stats --json``: the committed view of the spool file."""

    path: Annotated[str, Meta("the spool file")]
    file_bytes: Annotated[int, Meta("size of the file and its write-ahead log, bytes", ge=0)]
    committed_writes: Annotated[int, _COMMITS]
    disk_bytes_written: Annotated[int, _DISK]
    enospc_errors: Annotated[int, _ENOSPC]
    purged: Annotated[int, Meta("uplinks deleted by 'spool purge'", ge=0)]
    quarantined: Annotated[int, Meta("damaged rows set aside (not sent)", ge=0)]
    bad_rows: Annotated[int, Meta("damaged rows not set aside yet (no daemon opened it)", ge=0)]
    backends: dict[str, BackendSpoolStats]


@open_document
class SpoolLiveStats(SpoolCounters):
    """The status document's ``spool``: the running daemon's view, memory tail included (the
    on-disk counters are absent when the daemon runs on its memory fallback)."""

    memory: NotRequired[Annotated[int, Meta("pending uplinks not committed to disk yet", ge=0)]]
    committed_writes: NotRequired[Annotated[int, _COMMITS]]
    disk_bytes_written: NotRequired[Annotated[int, _DISK]]
    enospc_errors: NotRequired[Annotated[int, _ENOSPC]]
    write_errors: NotRequired[Annotated[int, Meta("failed writes to the spool file", ge=0)]]
    read_errors: NotRequired[Annotated[int, Meta("failed reads of the spool file", ge=0)]]
    quarantined: NotRequired[Annotated[int, Meta("damaged rows set aside (not sent)", ge=0)]]
    backends: NotRequired[dict[str, BackendSpoolStats]]
