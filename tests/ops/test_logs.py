"""Logging: journald prefixes without timestamps, one event per line, no secrets."""

from __future__ import annotations

import io
import logging
import re

import pytest

from edge_agent import logs


@pytest.fixture
def capture(monkeypatch: pytest.MonkeyPatch):
    def setup(journal: bool, level: str = "INFO") -> io.StringIO:
        if journal:
            monkeypatch.setenv("JOURNAL_STREAM", "8:12345")
        else:
            monkeypatch.delenv("JOURNAL_STREAM", raising=False)
        out = io.StringIO()
        logs.configure(level, stream=out)
        return out

    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    yield setup
    logs.clear_secrets()
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def test_journal_lines_have_a_priority_prefix_and_no_timestamp(capture) -> None:
    out = capture(journal=True)
    logging.getLogger("edge_agent.x").warning("broker %s unreachable", "b1")
    logging.getLogger("edge_agent.x").info("up")
    assert out.getvalue().splitlines() == [
        "<4>edge_agent.x: broker b1 unreachable",
        "<6>edge_agent.x: up",
    ]


def test_terminal_lines_carry_a_timestamp_and_level(capture) -> None:
    out = capture(journal=False)
    logging.getLogger("edge_agent.x").error("boom")
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ERROR   edge_agent\.x: boom\n", out.getvalue()
    )


def test_a_traceback_stays_on_one_line(capture) -> None:
    out = capture(journal=True)
    try:
        raise ValueError("bad\nframe")
    except ValueError:
        logging.getLogger("edge_agent.x").exception("parse failed")
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("<3>edge_agent.x: parse failed | Traceback")
    assert lines[0].endswith("ValueError: bad | frame")


def test_registered_secrets_never_reach_the_output(capture) -> None:
    out = capture(journal=False)
    logs.add_secret("s3cr3t-pw")
    logging.getLogger("edge_agent.x").info("connecting with %s", "user:s3cr3t-pw")
    assert "s3cr3t-pw" not in out.getvalue()
    assert "user:***" in out.getvalue()


def test_trace_level_is_below_debug(capture) -> None:
    out = capture(journal=True, level="debug")
    logging.getLogger("edge_agent.x").log(logs.TRACE, "raw %s", "00ff")
    assert out.getvalue() == ""
    out = capture(journal=True, level="TRACE")
    logging.getLogger("edge_agent.x").log(logs.TRACE, "raw %s", "00ff")
    assert out.getvalue() == "<7>edge_agent.x: raw 00ff\n"


def test_unknown_level_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown log level 'LOUD'"):
        logs.level_number("LOUD")
