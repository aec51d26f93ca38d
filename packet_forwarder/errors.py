"""Errors raised by the forwarding engine.

ForwardError
 ├── ContextError (+ValueError)     a downlink context is malformed or from another session
 ├── PlanError (+ValueError)        a channel plan breaks the chip's or the region's limits
 ├── PhyError (+ValueError)         a PHYPayload is not a LoRaWAN frame we can parse
 ├── GwmpError (+ValueError)        a Semtech UDP datagram or its JSON is malformed
 └── ScheduleError                  a downlink cannot be scheduled; ``status`` says why
"""

from __future__ import annotations


class ForwardError(Exception):
    """Root of every error raised by ``packet_forwarder``."""


class ContextError(ForwardError, ValueError):
    """A downlink context is malformed or belongs to an earlier concentrator session."""


class PlanError(ForwardError, ValueError):
    """A channel plan breaks the chip's or the region's limits."""


class PhyError(ForwardError, ValueError):
    """A PHYPayload is too short or malformed for the LoRaWAN header parser."""


class GwmpError(ForwardError, ValueError):
    """A Semtech UDP (GWMP) datagram, or the JSON inside it, is malformed or unsupported."""


class ScheduleError(ForwardError):
    """A downlink was refused; ``status`` is the TxStatus to report."""

    def __init__(self, status: object, message: str) -> None:
        super().__init__(message)
        self.status = status
