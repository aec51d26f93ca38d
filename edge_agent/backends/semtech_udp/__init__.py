"""The Semtech UDP backend (GWMP v2 client on ``packet_forwarder.gwmp``)."""

from __future__ import annotations

from edge_agent.backends.semtech_udp.backend import SemtechUdpBackend

__all__ = ["SemtechUdpBackend"]
