"""Built-in virtual LoRaWAN devices: what the simulator receives when no scenario is given.

Each device has a DevAddr, a frame counter counting up, a data rate (SF7..SF12 at 125 kHz) and a
radio link (RSSI, SNR); it sends an unconfirmed data-up frame every ``uplink_interval_s`` ± 20 %
on a random channel of the plan. PHYPayload: MHDR 0x40, DevAddr (LE), FCtrl, FCnt (LE, 16 bits),
FPort, an encrypted-looking FRMPayload and a 4-byte MIC. Everything is drawn from one
``random.Random(seed)``, so a seed gives the same traffic every time.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from drivers.sim.scenario import ScenarioPacket

MHDR_UNCONFIRMED_DATA_UP = 0x40
JITTER = 0.2
#: the EU868 Corecell multi-SF channels (eu868_corecell_plan), used until the driver programs any
DEFAULT_CHANNELS_HZ = (
    868_100_000, 868_300_000, 868_500_000, 867_100_000,
    867_300_000, 867_500_000, 867_700_000, 867_900_000,
)  # fmt: skip


#: thermal noise in 125 kHz plus a 6 dB receiver noise figure: -174 + 10·log10(125e3) + 6
NOISE_FLOOR_DBM = -117.0
MAX_SNR_DB = 10.0
#: SX1302 demodulation floor (SNR, dB) per SF, from Semtech's LoRa sensitivity tables
DEMOD_FLOOR_DB = {7: -7.5, 8: -10.0, 9: -12.5, 10: -15.0, 11: -17.5, 12: -20.0}


@dataclass(slots=True)
class VirtualDevice:
    """One simulated end device."""

    dev_addr: int
    sf: int
    rssi_dbm: float
    snr_db: float
    fcnt: int
    next_at_ms: int


class Population:
    """A deterministic stream of uplinks from ``devices`` virtual devices, in time order."""

    def __init__(
        self,
        devices: int = 5,
        *,
        uplink_interval_s: float = 10.0,
        seed: int | None = None,
        channels: Callable[[], Sequence[int]] | None = None,
    ) -> None:
        if devices < 1:
            raise ValueError(f"devices must be >= 1, got {devices}")
        if uplink_interval_s <= 0:
            raise ValueError(f"uplink_interval_s must be > 0, got {uplink_interval_s}")
        self._rng = random.Random(seed)
        self._interval_ms = uplink_interval_s * 1000
        self._channels = channels or (lambda: DEFAULT_CHANNELS_HZ)
        self.devices = [self._new_device() for _ in range(devices)]

    def _new_device(self) -> VirtualDevice:
        """A device at a random distance: SNR follows RSSI, the SF is what ADR would pick."""
        rssi = self._rng.uniform(-137.0, -85.0)
        snr = min(MAX_SNR_DB, max(-19.0, rssi - NOISE_FLOOR_DBM + self._rng.uniform(-1.0, 1.0)))
        sf = next((sf for sf, floor in DEMOD_FLOOR_DB.items() if snr >= floor + 2.5), 12)
        return VirtualDevice(
            dev_addr=(0x26 << 24) | self._rng.getrandbits(24),  # NetID 0x13 style prefix
            sf=sf,
            rssi_dbm=round(rssi, 1),
            snr_db=round(snr, 1),
            fcnt=self._rng.randint(0, 100),
            next_at_ms=int(self._rng.uniform(0, self._interval_ms)),
        )

    def peek_at_ms(self) -> int:
        """When the next uplink goes on the air (ms after the start)."""
        return min(device.next_at_ms for device in self.devices)

    def pop(self) -> ScenarioPacket:
        """The next uplink on the air; schedules that device's following one."""
        device = min(self.devices, key=lambda d: (d.next_at_ms, d.dev_addr))
        rng = self._rng
        channels = list(self._channels()) or list(DEFAULT_CHANNELS_HZ)
        fport = rng.randint(1, 223)
        frm_payload = rng.randbytes(rng.randint(4, 20))
        mic = rng.randbytes(4)
        phy = (
            struct.pack(
                "<BIBHB", MHDR_UNCONFIRMED_DATA_UP, device.dev_addr, 0x80, device.fcnt, fport
            )
            + frm_payload
            + mic
        )
        packet = ScenarioPacket(
            at_ms=device.next_at_ms,
            freq_hz=rng.choice(channels),
            sf=device.sf,
            bw_hz=125_000,
            cr="4/5",
            rssi_dbm=round(device.rssi_dbm + rng.uniform(-3.0, 3.0), 1),
            snr_db=round(device.snr_db + rng.uniform(-2.0, 2.0), 1),
            crc="ok",
            phy=phy,
        )
        device.fcnt = (device.fcnt + 1) & 0xFFFF
        step = self._interval_ms * rng.uniform(1 - JITTER, 1 + JITTER)
        device.next_at_ms += max(1, int(step))
        return packet
