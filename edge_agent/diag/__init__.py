"""The technician's checks (``edge-agent diag``): each returns PASS, WARN or FAIL, a detail, a hint.

Importing this package registers every check, in the order they run.
"""

from __future__ import annotations

import importlib

from edge_agent.diag.core import (
    FAIL,
    PASS,
    REGISTRY,
    WARN,
    CheckResult,
    DiagContext,
    exit_code,
    run_checks,
)

# registration order is run order: host, radio, spool, then the servers
for _module in ("system", "radio", "spool", "broker", "udp"):
    importlib.import_module(f"edge_agent.diag.{_module}")

__all__ = [
    "FAIL",
    "PASS",
    "REGISTRY",
    "WARN",
    "CheckResult",
    "DiagContext",
    "exit_code",
    "run_checks",
]
