"""Fixtures for the hostile-input tests: the operator tools' config fixture, reused."""

from __future__ import annotations

from tests.ops.conftest import use_config  # noqa: F401  (a fixture)
