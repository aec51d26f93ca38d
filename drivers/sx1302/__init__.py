"""The SX1302/SX1303 baseband chip: register map, RX FIFO, counter, bring-up, TX."""

from __future__ import annotations
