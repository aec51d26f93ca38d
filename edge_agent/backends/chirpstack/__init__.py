"""The ChirpStack v4 backend: MQTT (``backend``) and the ``gw`` protobuf/JSON codec (``codec``)."""

from __future__ import annotations

from edge_agent.backends.chirpstack.backend import MAX_INFLIGHT, BackendCounters, ChirpStackBackend

__all__ = ["MAX_INFLIGHT", "BackendCounters", "ChirpStackBackend"]
