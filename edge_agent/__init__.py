"""edge-agent: the gateway daemon (config, spool, backends, CLI, diagnostics)."""

from __future__ import annotations

__version__ = "0.1.0"
