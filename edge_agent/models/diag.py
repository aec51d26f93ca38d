"""The ``edge-agent diag --json`` document: one result per check and a summary."""

from __future__ import annotations

from typing import Annotated, Literal, TypedDict

from edge_agent.models import Meta

#: bump when a field is removed or changes meaning (adding one keeps the version)
DIAG_SCHEMA_VERSION = 1

CheckStatus = Literal["pass", "warn", "fail"]


class CheckResultDoc(TypedDict):
    """One check's result."""

    name: Annotated[str, Meta("the check's name, as given to 'edge-agent diag NAME'")]
    status: Annotated[CheckStatus, Meta("pass, warn (degraded or skipped) or fail")]
    detail: Annotated[str, Meta("what the check found, in one line")]
    hint: Annotated[str, Meta("what to do about a warn or fail; empty when it passed")]


class DiagSummary(TypedDict):
    """Counts of the results by status."""

    total: Annotated[int, Meta("checks that ran", ge=0)]
    passed: Annotated[int, Meta(ge=0)]
    warned: Annotated[int, Meta(ge=0)]
    failed: Annotated[int, Meta("the command exits 1 when this is not 0", ge=0)]


class DiagReport(TypedDict):
    """``edge-agent diag --json``: the checks in the order they ran, then their summary."""

    schema_version: Annotated[int, Meta("version of this document's shape", ge=1)]
    checks: list[CheckResultDoc]
    summary: DiagSummary
