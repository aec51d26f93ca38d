"""Fixtures of the daemon tests."""

from __future__ import annotations

from tests.agent.mqtt_helpers import running  # noqa: F401  (a fixture for the tests here)
