"""Radio health from facts: failed polls, a lost configuration, restarts (docs/operator-guide.md,
"When the radio fails").

The radio thread reports what happened (``poll_ok``, ``poll_failed``, ``reset_detected``,
``start_attempt``, ``start_failed``, ``started``); ``RadioHealth`` turns that into a state and
says when the concentrator must be closed and restarted:

- polls failing without a success for ``radio_fail_restart_after_s`` (default 2 s);
- at once, a concentrator that lost its configuration (a brown-out or reset), found by the
  periodic check ``Concentrator.configuration_lost`` (every ``CONFIG_CHECK_INTERVAL_S``): it
  reads registers the bring-up set and a reset clears. A reset chip answers polls without an
  error (an empty FIFO, a running counter), so failed polls alone never see it.

States: ``starting`` (no concentrator ran yet), ``running``, ``restarting`` (a start attempt
in progress after a fault or a failed start) and ``down`` (not receiving: the restart is
decided, or the last start attempt failed and the next waits for its backoff). One log line
per state change. Every field is read under one lock: the status socket reads from its thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

LOGGER = logging.getLogger(__name__)

STARTING, RUNNING, RESTARTING, DOWN = "starting", "running", "restarting", "down"
STATES = (STARTING, RUNNING, RESTARTING, DOWN)
#: how often a running concentrator is checked for a lost configuration
CONFIG_CHECK_INTERVAL_S = 1.0


class RadioHealth:
    """The radio's state, from the radio thread's reports; thread-safe."""

    def __init__(
        self,
        fail_restart_after_s: float = 2.0,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        config_check_interval_s: float = CONFIG_CHECK_INTERVAL_S,
    ) -> None:
        self.fail_restart_after_s = fail_restart_after_s
        self.config_check_interval_s = config_check_interval_s
        self._monotonic = monotonic
        self._wall = wall
        self._lock = threading.Lock()
        self._state = STARTING
        self._failing_since: float | None = None  # monotonic, first failed poll in a row
        self._down_since: float | None = None  # wall clock (epoch s)
        self._down_mono: float | None = None
        self._last_error: str | None = None
        self._restart_reason: str | None = None
        self._last_check = monotonic()
        self.consecutive_failures = 0
        self.poll_errors = 0
        self.starts = 0  # successful bring-ups
        self.start_attempts = 0
        self.restarts = 0  # restarts decided after a fault
        self.resets_detected = 0

    # -- reports from the radio thread -------------------------------------------------------

    def poll_ok(self) -> None:
        """A poll succeeded."""
        with self._lock:
            self.consecutive_failures = 0
            self._failing_since = None

    def poll_failed(self, exc: BaseException) -> None:
        """A poll (or a configuration check) raised ``exc``."""
        with self._lock:
            self.poll_errors += 1
            self.consecutive_failures += 1
            self._last_error = _describe(exc)
            if self._failing_since is None:
                self._failing_since = self._monotonic()
                self._mark_down_since()

    def reset_detected(self, reason: str) -> None:
        """The chip lost its configuration: restart at once."""
        with self._lock:
            self.resets_detected += 1
            self._last_error = reason
            self._mark_down_since()
            self._restart_reason = reason

    def restart_due(self) -> bool:
        """True when the concentrator must be closed and restarted now (then state ``down``)."""
        with self._lock:
            reason = self._restart_reason
            if reason is None and self._failing_since is not None:
                failing_s = self._monotonic() - self._failing_since
                if failing_s >= self.fail_restart_after_s:
                    reason = (
                        f"{self.consecutive_failures} failed polls in {failing_s:.1f}s: "
                        f"{self._last_error}"
                    )
            if reason is None:
                return False
            self._restart_reason = None
            self._failing_since = None
            self.consecutive_failures = 0
            self.restarts += 1
            self._last_error = reason
            self._set(DOWN, "not receiving since %s, restarting the concentrator (restart %d): %s",
                      _clock_text(self._down_since), self.restarts, reason)  # fmt: skip
            return True

    def config_check_due(self) -> bool:
        """True once per ``config_check_interval_s`` while running."""
        with self._lock:
            now = self._monotonic()
            if self._state != RUNNING or now - self._last_check < self.config_check_interval_s:
                return False
            self._last_check = now
            return True

    def start_attempt(self) -> None:
        """A concentrator start (open, reset, bring-up) begins."""
        with self._lock:
            self.start_attempts += 1
            if self._state != STARTING:
                self._set(RESTARTING, "start attempt %d", self.start_attempts)

    def start_failed(self, exc: BaseException, retry_in_s: float) -> None:
        """The start attempt failed; the next one follows in ``retry_in_s``."""
        with self._lock:
            self._last_error = _describe(exc)
            self._mark_down_since()
            self._set(DOWN, "concentrator start failed (%s); retrying in %.0fs",
                      self._last_error, retry_in_s)  # fmt: skip

    def started(self) -> None:
        """The concentrator runs (again)."""
        with self._lock:
            self.starts += 1
            down_for = None if self._down_mono is None else self._monotonic() - self._down_mono
            self._down_since = self._down_mono = None
            self._failing_since = None
            self._restart_reason = None
            self.consecutive_failures = 0
            self._last_check = self._monotonic()
            if down_for is None:
                self._set(RUNNING, "receiving (start %d)", self.starts)
            else:
                self._set(RUNNING, "receiving again after %.1fs down (start %d, restart %d)",
                          down_for, self.starts, self.restarts)  # fmt: skip

    # -- reading ---------------------------------------------------------------------------

    @property
    def state(self) -> str:
        """``starting``, ``running``, ``restarting`` or ``down``."""
        with self._lock:
            return self._state

    @property
    def running(self) -> bool:
        """True while the concentrator receives."""
        return self.state == RUNNING

    def snapshot(self) -> dict[str, Any]:
        """The status document's radio health fields."""
        with self._lock:
            return {
                "state": self._state,
                "down_since": self._down_since,
                "last_error": self._last_error,
                "starts": self.starts,
                "restarts": self.restarts,
                "start_attempts": self.start_attempts,
                "consecutive_failures": self.consecutive_failures,
                "poll_errors": self.poll_errors,
                "resets_detected": self.resets_detected,
                "fail_restart_after_s": self.fail_restart_after_s,
            }

    # -- internals (lock held) --------------------------------------------------------------

    def _mark_down_since(self) -> None:
        if self._down_since is None:
            self._down_since = self._wall()
            self._down_mono = self._monotonic()

    def _set(self, state: str, msg: str, *args: object) -> None:
        if state == self._state:
            return
        old, self._state = self._state, state
        level = logging.INFO if state in (RUNNING, RESTARTING) else logging.WARNING
        LOGGER.log(level, "radio %s -> %s: " + msg, old, state, *args)


def _clock_text(epoch_s: float | None) -> str:
    """``HH:MM:SS.mmm`` UTC of a Unix time (the journal's own stamp is local)."""
    if epoch_s is None:
        return "now"
    return time.strftime("%H:%M:%S", time.gmtime(epoch_s)) + f".{int(epoch_s % 1 * 1000):03d} UTC"


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
