"""What a backend may ask of the gateway besides uplinks and downlinks (issue 13): the
``[commands]`` allowlist for ``command/exec`` and, for the one backend ``[gateway]
channel_plan_from`` names, the channel plan and the stats interval (``command/config``).

The service gives every backend the same ``GatewayControl`` (``backend.control``); backends
know nothing else of the service.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from edge_agent.service import AgentService


class GatewayControl:
    """The service's side of a backend's gateway-management commands."""

    def __init__(self, service: AgentService) -> None:
        self._service = service

    @property
    def commands(self) -> Mapping[str, tuple[str, ...]]:
        """``[commands]``: name -> argv of the commands ``command/exec`` may run."""
        return self._service.cfg.commands
