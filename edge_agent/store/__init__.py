"""Where uplinks wait for their backend: the durable SQLite spool and the memory fallback.

- ``protocol``: ``UplinkStore`` (one backend's FIFO) and ``QueuedUplink``, what backends see.
- ``spool``: ``Spool``, every backend's FIFO in one SQLite file (memory tail, group commits).
- ``fifo``: ``SpoolStore``, one backend's view of the spool (an ``UplinkStore``).
- ``state``: the per-backend in-memory state and the drain-rate limiter.
- ``db``: the file itself (schema, integrity check) and the helpers ``edge-agent spool`` uses.
- ``rows``: rows that cannot be uplinks, found in SQL and set aside in ``quarantine``.
- ``files``: the file names: never a symlink, created owner-only.
- ``memory``: ``MemoryUplinkStore``, the bounded non-durable fallback.
- ``daemon``: ``DaemonStores``, what the service opens: one store per configured backend.

Stored payloads are opaque bytes: each backend encodes its own uplinks (docs/spool.md).
"""
