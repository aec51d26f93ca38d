"""The technician's checks (``edge-agent diag``): each returns PASS, WARN or FAIL, a detail, a hint.

Importing this package registers every check, in the order they run.
"""

from __future__ import annotations

from edge_agent.diag import (
    broker,  # noqa: F401
    radio,  # noqa: F401  (concentrator, radios, temperature, gps, rx)
    spool,  # noqa: F401
    system,  # noqa: F401  (registers config, groups, device, gpio, firmware)
)
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
