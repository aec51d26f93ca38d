"""Concentrator hardware access: transports, the SX1302/SX1250 chips, GPIO, sensors, GPS, simulator.

Nothing here knows about MQTT, configuration files or systemd; nothing here imports our other
packages.
"""

from __future__ import annotations

from drivers.errors import DriverError
from drivers.transport import Target, Transport, open_transport

__all__ = ["DriverError", "Target", "Transport", "open_transport"]
