"""The lazy registry of backend types: a type is imported only when a configuration uses it,
so one type's missing optional package never stops another (like ``drivers.transport``)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from edge_agent.errors import BackendError

if TYPE_CHECKING:
    from edge_agent.backends.base import Backend
    from edge_agent.store.protocol import UplinkStore

# type -> "module:Class". Values are imported only when a backend of that type is opened.
_REGISTRY: dict[str, str] = {
    "chirpstack": "edge_agent.backends.chirpstack:ChirpStackBackend",
    "semtech_udp": "edge_agent.backends.semtech_udp:SemtechUdpBackend",
}


class UnknownBackendError(BackendError, ValueError):
    """No backend type of that name, or its package is not installed."""


def backend_types() -> list[str]:
    """The backend ``type`` names that can be opened."""
    return sorted(_REGISTRY)


def backend_class(type_name: str) -> type[Backend]:
    """The ``Backend`` subclass registered as ``type_name`` (imported now)."""
    try:
        module_name, attr = _REGISTRY[type_name].split(":")
    except KeyError:
        known = ", ".join(backend_types())
        raise UnknownBackendError(
            f"unknown backend type {type_name!r}; expected one of {known}"
        ) from None
    try:
        cls: type[Backend] = getattr(importlib.import_module(module_name), attr)
    except ImportError as exc:
        raise UnknownBackendError(
            f"backend type {type_name!r} needs {exc.name or exc}, which is not installed"
        ) from exc
    return cls


def open_backend(cfg: Any, store: UplinkStore) -> Backend:
    """A backend for ``cfg`` (an ``edge_agent.config.BackendConfig``) draining ``store``."""
    return backend_class(cfg.type)(cfg, store)
