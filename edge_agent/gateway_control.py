"""What a backend may ask of the gateway besides uplinks and downlinks (issue 13): the
``[commands]`` allowlist for ``command/exec`` and, for the one backend ``[gateway]
channel_plan_from`` names, the channel plan and the stats interval (``command/config``).

The service gives every backend the same ``GatewayControl`` (``backend.control``); backends
know nothing else of the service. A managed plan is kept in ``managed-channel-plan.json`` beside
the spool file, and laid over the configuration at start and at every reload
(``overlay``), as long as ``channel_plan_from`` still names the backend that sent it.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from edge_agent import managed_plan
from edge_agent.managed_plan import ManagedPlan, PlanRefused

if TYPE_CHECKING:
    from edge_agent.config import AgentConfig
    from edge_agent.service import AgentService

LOGGER = logging.getLogger(__name__)

#: the managed plan's file, in the spool file's directory (the daemon's state directory)
STATE_FILE = "managed-channel-plan.json"


def state_path(cfg: AgentConfig) -> Path:
    """Where the managed channel plan of ``cfg``'s daemon is kept."""
    return Path(cfg.spool.path).parent / STATE_FILE


def region_band_hz(cfg: AgentConfig) -> tuple[int, int]:
    """The region's band (from its lowest to its highest regulatory sub-band), which every
    managed channel must stay inside."""
    bands = cfg.concentrator.preset.rules.sub_bands
    return min(b.freq_min_hz for b in bands), max(b.freq_max_hz for b in bands)


class GatewayControl:
    """The service's side of a backend's gateway-management commands."""

    def __init__(self, service: AgentService) -> None:
        self._service = service
        self._lock = threading.Lock()
        #: the plan a network server set and the radio runs (None: the local configuration's)
        self.managed: ManagedPlan | None = None

    @property
    def commands(self) -> Mapping[str, tuple[str, ...]]:
        """``[commands]``: name -> argv of the commands ``command/exec`` may run."""
        return self._service.cfg.commands

    @property
    def plan_owner(self) -> str | None:
        """``[gateway] channel_plan_from``: the backend that may set the channel plan."""
        return self._service.cfg.gateway.channel_plan_from

    def owns_channel_plan(self, backend: str) -> bool:
        """True when ``backend`` may set the channel plan and the stats interval."""
        return self.plan_owner == backend

    @property
    def config_version(self) -> str:
        """The version of the managed plan the radio runs ("" for the local configuration)."""
        managed = self.managed
        return managed.version if managed is not None else ""

    def stats_interval_s(self, backend: str) -> float | None:
        """The managed stats interval for the owning ``backend``, else None."""
        managed = self.managed
        if managed is None or not self.owns_channel_plan(backend):
            return None
        return managed.stats_interval_s

    def overlay(self, cfg: AgentConfig) -> AgentConfig:
        """``cfg`` with the saved managed plan of its ``channel_plan_from`` backend, if any."""
        owner = cfg.gateway.channel_plan_from
        self.managed = None
        if owner is None:
            return cfg
        path = state_path(cfg)
        saved = managed_plan.load(path, owner)
        if saved is None:
            return cfg
        try:
            plan = managed_plan.chip_plan(cfg.concentrator.plan, saved, region_band_hz(cfg))
        except PlanRefused as exc:
            LOGGER.error("managed channel plan %s refused (%s): the local plan rules", path, exc)
            return cfg
        self.managed = saved
        LOGGER.info("channel plan version %r from %s (%s)", saved.version, owner, path)
        return dataclasses.replace(
            cfg, concentrator=dataclasses.replace(cfg.concentrator, plan=plan)
        )

    def apply_channel_plan(self, backend: str, managed: ManagedPlan) -> bool:
        """Check ``managed``, save it, and restart the radio with it when its channels differ;
        True when the radio restarts. PlanRefused (radio untouched) when it cannot be run."""
        service = self._service
        with self._lock:
            if not self.owns_channel_plan(backend):
                raise PlanRefused(f"[gateway] channel_plan_from is {self.plan_owner!r}")
            cfg = service.cfg
            plan = managed_plan.chip_plan(cfg.concentrator.plan, managed, region_band_hz(cfg))
            path = state_path(cfg)
            try:
                managed_plan.save(path, backend, managed)
            except OSError as exc:
                raise PlanRefused(f"cannot save it to {path}: {exc}") from exc
            self.managed = managed
            if plan == cfg.concentrator.plan:
                return False
            concentrator = dataclasses.replace(cfg.concentrator, plan=plan)
            service.cfg = dataclasses.replace(cfg, concentrator=concentrator)
            service.restart_radio()
            return True
