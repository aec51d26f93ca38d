"""Fixtures for the backend tests: ``running`` stops the services a test started."""

from __future__ import annotations

from tests.agent.mqtt_helpers import running  # noqa: F401  (a fixture for the tests here)
