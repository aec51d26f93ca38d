"""The radio-side engine: turns concentrator records into uplinks and schedules downlinks.

Plain dataclasses and pure functions over ``drivers``; nothing here knows about MQTT, protobuf,
configuration files or systemd.
"""

from __future__ import annotations
