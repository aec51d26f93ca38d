"""The diagnostics framework: results, the registry of checks by name, the runner and its output.

A check is a function ``(ctx: DiagContext) -> CheckResult`` registered with ``@check(name)``. It
never raises: the runner turns an unexpected exception into a FAIL naming it. A check that
needs another check's success (``requires``) is reported as WARN "skipped" when that one failed,
so one unreachable broker reads as one failure, not five.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from edge_agent.errors import ConfigError, StatusBusy, StatusError
from edge_agent.models.diag import DIAG_SCHEMA_VERSION, CheckResultDoc, DiagReport, DiagSummary

LOGGER = logging.getLogger(__name__)

PASS, WARN, FAIL = "pass", "warn", "fail"
DEFAULT_CONFIG = "/etc/edge-agent/config.toml"
DEFAULT_STATUS_SOCKET = "/run/edge-agent/status.sock"

#: what ``DiagContext.daemon_state`` says after asking the status socket
DAEMON_RUNNING, DAEMON_ABSENT, DAEMON_BUSY = "running", "absent", "busy"
STATUS_TIMEOUT_S = 2.0

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


@dataclass(frozen=True)
class CheckResult:
    """One line of the report: ``status`` is "pass", "warn" or "fail"; ``hint`` says what to do."""

    name: str
    status: str
    detail: str
    hint: str = ""
    #: a per-backend check's results, by backend name (``combine``): not in the JSON form, kept
    #: so that ``diag --lang`` translates each backend's text on its own
    parts: tuple[tuple[str, CheckResult], ...] = field(default=(), compare=False, repr=False)

    def to_dict(self) -> CheckResultDoc:
        """The JSON form: ``{"name", "status", "detail", "hint"}`` (edge_agent.models.diag)."""
        return CheckResultDoc(
            name=self.name,
            status=self.status,  # type: ignore[typeddict-item]
            detail=self.detail,
            hint=self.hint,
        )


def passed(name: str, detail: str) -> CheckResult:
    """A PASS result."""
    return CheckResult(name, PASS, detail)


def warned(name: str, detail: str, hint: str) -> CheckResult:
    """A WARN result with what to do about it."""
    return CheckResult(name, WARN, detail, hint)


def failed(name: str, detail: str, hint: str) -> CheckResult:
    """A FAIL result with what to do about it."""
    return CheckResult(name, FAIL, detail, hint)


@dataclass(frozen=True)
class CheckSpec:
    """A registered check: its name, function, prerequisites and whether it runs by default."""

    name: str
    func: Callable[[DiagContext], CheckResult]
    summary: str
    requires: tuple[str, ...] = ()
    default: bool = True


REGISTRY: dict[str, CheckSpec] = {}


def check(
    name: str, summary: str, *, requires: Iterable[str] = (), default: bool = True
) -> Callable[[Callable[[DiagContext], CheckResult]], Callable[[DiagContext], CheckResult]]:
    """Register the decorated function as the check ``name`` (order of registration = run order)."""

    def decorate(
        func: Callable[[DiagContext], CheckResult],
    ) -> Callable[[DiagContext], CheckResult]:
        REGISTRY[name] = CheckSpec(name, func, summary, tuple(requires), default)
        return func

    return decorate


def _load_config(path: str | Path) -> Any:
    """``edge_agent.config.load_config``, imported lazily (tests replace this function)."""
    from edge_agent.config import load_config

    return load_config(path)


@dataclass
class DiagContext:
    """What checks share: the config (loaded once), the daemon's status, options, results."""

    config_path: str = DEFAULT_CONFIG
    rx_seconds: float = 10.0
    timeout_s: float = 5.0
    results: dict[str, CheckResult] = field(default_factory=dict)
    _config: Any = None
    _config_error: str | None = None
    _config_loaded: bool = False
    _daemon: dict[str, Any] | None = None
    _daemon_asked: bool = False
    #: "running" (it answered), "absent" (nothing listens) or "busy" (something listens on the
    #: socket but did not answer in time: a daemon is there, so the chip is not to be touched)
    daemon_state: str = DAEMON_ABSENT
    daemon_error: str = ""

    @property
    def config(self) -> Any:
        """The loaded ``AgentConfig``, or None when it did not load (see ``config_error``)."""
        if not self._config_loaded:
            self._config_loaded = True
            try:
                self._config = _load_config(self.config_path)
            except ConfigError as exc:
                self._config_error = str(exc)
            except FileNotFoundError:
                self._config_error = f"{self.config_path} does not exist"
            except ImportError as exc:
                self._config_error = f"the config module is not available: {exc}"
            except OSError as exc:
                self._config_error = f"cannot read {self.config_path}: {exc.strerror or exc}"
        return self._config

    @property
    def config_error(self) -> str | None:
        """Why the config did not load, or None."""
        _ = self.config
        return self._config_error

    def status_socket(self) -> str:
        """The daemon's status socket from the config, or the default path."""
        cfg = self.config
        return str(getattr(getattr(cfg, "status", None), "socket", None) or DEFAULT_STATUS_SOCKET)

    def daemon_status(self) -> dict[str, Any] | None:
        """The running daemon's status document, or None when no daemon answers (asked once;
        ``daemon_state`` then tells a busy daemon from an absent one)."""
        if not self._daemon_asked:
            self._daemon_asked = True
            from edge_agent.status import StatusClient

            try:
                self._daemon = StatusClient(self.status_socket()).query(
                    "/", timeout=STATUS_TIMEOUT_S
                )
                self.daemon_state = DAEMON_RUNNING
            except StatusBusy as exc:
                LOGGER.debug("daemon busy: %s", exc)
                self.daemon_state, self.daemon_error = DAEMON_BUSY, str(exc)
            except StatusError as exc:
                LOGGER.debug("no daemon status: %s", exc)
                self.daemon_state, self.daemon_error = DAEMON_ABSENT, str(exc)
        return self._daemon


_WORST = {PASS: 0, WARN: 1, FAIL: 2}


def combine(
    name: str,
    results: Sequence[tuple[str, CheckResult]],
    punctuation: tuple[str, str, str] = (": ", "; ", " "),
) -> CheckResult:
    """One result for several backends' (``(backend name, result)``): the worst status, each
    detail named (``town: connected as 'gw1'; city: …``), the hints named when there are
    several. ``punctuation``: after a name, between details, between hints."""
    colon, sep, hint_sep = punctuation
    worst = max((r for _n, r in results), key=lambda r: _WORST.get(r.status, 0))
    detail = sep.join(f"{n}{colon}{r.detail}" for n, r in results)
    hints = [f"{n}{colon}{r.hint}" if len(results) > 1 else r.hint for n, r in results if r.hint]
    return CheckResult(name, worst.status, detail, hint_sep.join(hints), tuple(results))


def needs_config(name: str, ctx: DiagContext) -> CheckResult | None:
    """A WARN "skipped" result when the config did not load, else None."""
    if ctx.config is None:
        return warned(name, "skipped: the configuration did not load", "fix the config first")
    return None


def unknown_checks(names: Sequence[str]) -> list[str]:
    """The names in ``names`` that are not registered checks."""
    return [n for n in names if n not in REGISTRY]


def run_checks(ctx: DiagContext, names: Sequence[str] = ()) -> list[CheckResult]:
    """Run the named checks (all default ones when empty) in registry order."""
    wanted = set(names) if names else {n for n, s in REGISTRY.items() if s.default}
    out: list[CheckResult] = []
    for name, spec in REGISTRY.items():
        if name not in wanted:
            continue
        blocked = [r for r in spec.requires if r in ctx.results and ctx.results[r].status == FAIL]
        skipped = [
            ctx.results[r].detail
            for r in spec.requires
            if r in ctx.results and ctx.results[r].detail.startswith("skipped:")
        ]
        if blocked:
            result = warned(name, f"skipped: {', '.join(blocked)} failed", "fix that check first")
        elif skipped:
            result = warned(name, skipped[0], "fix that check first")
        else:
            started = time.monotonic()
            try:
                result = spec.func(ctx)
            except Exception as exc:  # a check must never take the report down
                LOGGER.debug("check %s raised", name, exc_info=True)
                result = failed(
                    name, f"check crashed: {type(exc).__name__}: {exc}", "report this as a bug"
                )
            LOGGER.debug("check %s took %.3f s", name, time.monotonic() - started)
        ctx.results[name] = result
        out.append(result)
    return out


def summary(results: Sequence[CheckResult]) -> DiagSummary:
    """Counts by status plus the total."""
    counts = {PASS: 0, WARN: 0, FAIL: 0}
    for r in results:
        counts[r.status] += 1
    return DiagSummary(
        total=len(results), passed=counts[PASS], warned=counts[WARN], failed=counts[FAIL]
    )


def exit_code(results: Sequence[CheckResult]) -> int:
    """0 when nothing failed, 1 when a check failed."""
    return EXIT_FAILED if any(r.status == FAIL for r in results) else EXIT_OK


def write_json(results: Sequence[CheckResult], out: TextIO) -> None:
    """One JSON object: ``{"schema_version", "checks": [...], "summary": {...}}``."""
    document = DiagReport(
        schema_version=DIAG_SCHEMA_VERSION,
        checks=[r.to_dict() for r in results],
        summary=summary(results),
    )
    out.write(json.dumps(document, indent=2) + "\n")


def summary_line(results: Sequence[CheckResult]) -> str:
    """``17 passed, 2 warnings, 0 failed``."""
    s = summary(results)
    return f"{s['passed']} passed, {s['warned']} warnings, {s['failed']} failed"


def write_text(
    results: Sequence[CheckResult],
    out: TextIO,
    footer: Callable[[Sequence[CheckResult]], str] = summary_line,
) -> None:
    """One line per check (``PASS name  detail``), hints indented below WARN and FAIL lines,
    then the ``footer`` (the counts; ``diag --lang`` gives its own)."""
    width = max((len(r.name) for r in results), default=0)
    for r in results:
        out.write(f"{r.status.upper():4}  {r.name:<{width}}  {r.detail}\n")
        if r.status != PASS and r.hint:
            out.write(f"      {'':<{width}}  → {r.hint}\n")
    out.write(f"\n{footer(results)}\n")
