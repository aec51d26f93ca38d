"""The test broker lives in ``edge_agent.testing_broker`` (the demo uses it too)."""

from __future__ import annotations

from edge_agent.testing_broker import MOSQUITTO_PATHS, Broker, free_port, mosquitto_binary

__all__ = ["MOSQUITTO_PATHS", "Broker", "free_port", "mosquitto_binary"]
