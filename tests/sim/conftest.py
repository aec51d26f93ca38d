"""Fixtures for the simulator tests: a virtual-clock chip, programmed or not."""

from __future__ import annotations

import pytest

from drivers.sim import SimChip, parse_scenario
from drivers.sx1302.plan import eu868_corecell_plan
from tests.sim.frames import Bus


def make_chip(lines: list[str] | None = None, **options: object) -> SimChip:
    """A SimChip on a virtual clock, playing ``lines`` (JSONL) if given.

    ``Bus.program`` sets the RX registers by hand without the firmware handshakes, so these
    low-level chips do not enforce them (``enforce=False``).
    """
    scenario = parse_scenario(lines, "test.jsonl") if lines is not None else None
    options.setdefault("clock", "virtual")
    options.setdefault("enforce", False)
    return SimChip(scenario=scenario, **options)  # type: ignore[arg-type]


@pytest.fixture
def eu868_bus():
    """Factory: a Bus on a chip programmed with the EU868 Corecell plan, scenario started."""

    def factory(lines: list[str] | None = None, **options: object) -> Bus:
        bus = Bus(make_chip(lines, **options))
        bus.program(eu868_corecell_plan())
        bus.fifo_count()  # the first FIFO poll starts the scenario clock
        return bus

    return factory
