"""A py-spidev look-alike whose bus is a SimChip: the real SPI framing code runs against it."""

from __future__ import annotations

import errno

from drivers.sim.chip import SimChip


class SimSpiDev:
    """Stands in for ``spidev.SpiDev``: ``open``, ``mode``, ``max_speed_hz``, ``bits_per_word``,
    ``xfer2`` (one CS assertion = one ``SimChip.xfer``) and ``close``."""

    def __init__(self, chip: SimChip) -> None:
        self.chip = chip
        self.mode = 0
        self.max_speed_hz = 0
        self.bits_per_word = 8
        self.bus: int | None = None
        self.device: int | None = None

    def open(self, bus: int, device: int) -> None:
        """Attach to ``/dev/spidev{bus}.{device}`` (any numbers: the chip is always there)."""
        self.bus, self.device = bus, device

    def xfer2(self, data: list[int]) -> list[int]:
        """Clock ``data`` out with CS held low for the whole transfer; returns MISO."""
        if self.bus is None:
            raise OSError(errno.EBADF, "SimSpiDev is not open")
        if self.mode != 0 or self.bits_per_word != 8:
            raise OSError(
                errno.EINVAL,
                f"SX1302 needs SPI mode 0, 8 bits (got {self.mode}, {self.bits_per_word})",
            )
        try:
            frame = bytes(data)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"xfer2 takes a list of 0..255 ints: {exc}") from exc
        return list(self.chip.xfer(frame))

    def close(self) -> None:
        """Detach; idempotent."""
        self.bus = self.device = None
