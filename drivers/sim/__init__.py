"""The simulated SX1302 (``sim://``): the real driver and SPI framing run against it unchanged.

    open_transport("sim://?scenario=docs/scenario-example.jsonl&clock=virtual")

See docs/simulator.md for the scenario contract, the options and what the simulator enforces.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from drivers.sim.chip import SimChip, SimConfigError, SimUnsupportedError
from drivers.sim.clock import SimClock
from drivers.sim.faults import FaultSchedule, SimWorld
from drivers.sim.scenario import (
    Scenario,
    ScenarioError,
    ScenarioFault,
    ScenarioFifoBytes,
    ScenarioPacket,
    load_scenario,
    parse_scenario,
)
from drivers.sim.spidev import SimSpiDev
from drivers.transport import Transport

__all__ = [
    "FaultSchedule",
    "Scenario",
    "ScenarioError",
    "ScenarioFault",
    "ScenarioFifoBytes",
    "ScenarioPacket",
    "SimChip",
    "SimClock",
    "SimConfigError",
    "SimSpiDev",
    "SimUnsupportedError",
    "SimWorld",
    "load_scenario",
    "open_sim_transport",
    "parse_scenario",
    "sim_options",
]


def _floats(value: Any) -> tuple[float, ...]:
    if isinstance(value, str):
        value = value.split(",")
    return tuple(float(v) for v in value)


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _int(value: Any) -> int:
    return value if isinstance(value, int) else int(str(value), 0)


def _eui(value: Any) -> int:
    if isinstance(value, int):
        return value
    return int(str(value).replace(":", "").replace("-", ""), 16)


SIM_SPI_PATH = "spi:///dev/spidev0.0"

# option -> converter from a URL query string (keyword options may already have the right type)
_OPTIONS: dict[str, Any] = {
    "scenario": str,
    "tx_log": str,
    "seed": int,
    "persona": str,
    "clock": str,
    "counter_start_ticks": int,
    "rssi_offset_db": float,
    "rssi_tcomp": _floats,
    "temperature_c": float,
    "devices": int,
    "uplink_interval_s": float,
    "eui": _eui,
    "plan": None,  # a ChipPlan object; keyword only
    "enforce": _bool,
    "strict": _bool,
    "agc_version": int,
    "arb_version": int,
    "hang": str,
    "parity_error": str,
    "readback_error_at": _int,
}


def sim_options(url: str, **options: Any) -> dict[str, Any]:
    """SimChip keyword arguments from ``url``'s query and ``options`` (options win)."""
    merged: dict[str, Any] = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    merged.update({k: v for k, v in options.items() if v is not None})
    kwargs: dict[str, Any] = {}
    for key, value in merged.items():
        if key not in _OPTIONS:
            raise SimConfigError(
                f"unknown simulator option {key!r}; known: {', '.join(sorted(_OPTIONS))}"
            )
        convert = _OPTIONS[key]
        try:
            kwargs[key] = value if convert is None else convert(value)
        except (TypeError, ValueError) as exc:
            raise SimConfigError(f"simulator option {key}={value!r}: {exc}") from exc
    return kwargs


def _world_chip(world: SimWorld | None, kwargs: dict[str, Any]) -> SimChip:
    """The world's chip when its options did not change, else a new chip (kept in the world)."""
    plan = kwargs.get("plan")
    key = repr(sorted((k, v) for k, v in kwargs.items() if k != "plan"))
    if world is not None and world.chip is not None and world.key == key:
        chip = world.chip
        chip.plan = chip.transmitter.plan = plan  # a reload may bring another region's plan
        return chip
    chip = SimChip(**kwargs)
    if world is not None:
        world.chip, world.key = chip, key
        world.faults = FaultSchedule(
            chip, chip.scenario.faults if chip.scenario is not None else ()
        )
    return chip


def open_sim_transport(url: str = "sim://", *, world: SimWorld | None = None, **options: Any
                       ) -> Transport:  # fmt: skip
    """A ``drivers.spi.SpiTransport`` whose spidev is a SimSpiDev on a SimChip.

    The returned transport has ``.sim`` (the SimChip), ``.faults`` (its FaultSchedule), a live
    ``.exhausted`` and ``.default_firmware`` (stand-in AGC/ARB images the simulator accepts).
    With ``world`` the chip and its faults outlive this transport: the next open with the same
    world (and options) meets the same chip; opening during a simulated unplug fails.
    """
    from drivers.firmware import stand_in_images
    from drivers.spi import SpiTransport  # lazy: the registry imports this module on demand

    chip = _world_chip(world, sim_options(url, **options))
    if world is not None and world.faults is not None:
        schedule = world.faults
    else:
        schedule = FaultSchedule(chip, chip.scenario.faults if chip.scenario is not None else ())
    schedule.check_open()

    class FaultySpiDev(SimSpiDev):
        """The simulated bus, failing while a scenario fault says so."""

        def xfer2(self, data: list[int]) -> list[int]:
            schedule.before_transfer()
            return super().xfer2(data)

    class SimSpiTransport(SpiTransport):
        """SpiTransport on the simulator, exposing it."""

        sim = chip
        faults = schedule
        #: the simulator's own AGC/ARB images, used when no firmware_dir is configured
        default_firmware = stand_in_images()

        @property
        def exhausted(self) -> bool:  # type: ignore[override]
            return self.sim.exhausted and self.faults.done

    # SpiTransport wants a spidev path; the simulated bus answers on any, the URL stays sim://
    transport = SimSpiTransport(SIM_SPI_PATH, spidev_factory=lambda: FaultySpiDev(chip))
    transport.url = url
    return transport
