"""TEMPORARY: one BackendConfig from the legacy ``[mqtt]`` table until config.py has backends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class BackendConfig:
    name: str
    type: str
    filters: Any
    mqtt: Any = None
    udp: Any = None


def backend_configs(cfg: Any) -> tuple[Any, ...]:
    """``cfg.backends``, or the legacy ``[mqtt]`` table as one backend named ``chirpstack``."""
    backends = getattr(cfg, "backends", None)
    if backends is not None:
        return tuple(backends)
    return (BackendConfig("chirpstack", "chirpstack", cfg.mqtt.filters, mqtt=cfg.mqtt),)
