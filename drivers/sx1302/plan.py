"""What the chip is asked to receive and transmit: radios and IF chains, in physical units.

This is the chip-level configuration (sx1302_hal's ``SX130x_conf``), built by
``packet_forwarder.regions`` from a region preset or by the daemon's config loader. The chip
driver programs it; the simulator's reception follows what the driver programmed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: multi-SF IF chains (0..7), the LoRa service chain (8) and the FSK chain (9)
MULTI_SF_CHAINS = 8
LORA_STD_CHAIN = 8
FSK_CHAIN = 9


@dataclass(frozen=True, slots=True)
class TxGain:
    """One TX gain table entry of an SX1250 radio (sx1302_hal ``tx_gain_lut``)."""

    rf_power_dbm: int
    pa_gain: int
    pwr_idx: int


@dataclass(frozen=True, slots=True)
class RadioPlan:
    """One SX1250 radio (radio A = 0, radio B = 1)."""

    enable: bool
    freq_hz: int
    rssi_offset_db: float = -215.4
    #: RSSI temperature compensation coefficients a, b, c, d, e (sx1302_hal ``rssi_tcomp``)
    rssi_tcomp: tuple[float, float, float, float, float] = (0.0, 0.0, 20.41, 2162.56, 0.0)
    type: str = "SX1250"
    single_input_mode: bool = False
    tx_enable: bool = False
    tx_freq_min_hz: int = 0
    tx_freq_max_hz: int = 0
    tx_gain_lut: tuple[TxGain, ...] = ()


@dataclass(frozen=True, slots=True)
class MultiSfChannel:
    """A multi-SF LoRa IF chain (0..7): always 125 kHz."""

    enable: bool
    radio: int = 0
    if_hz: int = 0


@dataclass(frozen=True, slots=True)
class LoraStdChannel:
    """The LoRa service IF chain (8): one SF at 125/250/500 kHz."""

    enable: bool
    radio: int = 0
    if_hz: int = 0
    bandwidth_hz: int = 250_000
    sf: int = 7
    implicit_header: bool = False
    implicit_payload_length: int = 0
    implicit_crc: bool = False
    implicit_code_rate: int = 1


@dataclass(frozen=True, slots=True)
class FskChannel:
    """The FSK IF chain (9)."""

    enable: bool
    radio: int = 0
    if_hz: int = 0
    bandwidth_hz: int = 125_000
    datarate_bps: int = 50_000
    freq_deviation_hz: int = 25_000


@dataclass(frozen=True, slots=True)
class ChipPlan:
    """Everything ``SX1302.start`` programs: radios, IF chains, sync word, timestamping."""

    radios: tuple[RadioPlan, RadioPlan]
    multi_sf: tuple[MultiSfChannel, ...]
    lora_std: LoraStdChannel = field(default_factory=lambda: LoraStdChannel(enable=False))
    fsk: FskChannel = field(default_factory=lambda: FskChannel(enable=False))
    #: spreading factors the multi-SF correlators look for (5..12)
    spreading_factors: tuple[int, ...] = (5, 6, 7, 8, 9, 10, 11, 12)
    lorawan_public: bool = True
    clksrc: int = 0
    full_duplex: bool = False
    fine_timestamp: bool = False

    def chain_freq_hz(self, if_chain: int) -> int:
        """Centre frequency of an IF chain: its radio's centre + its IF."""
        chan = self.chain(if_chain)
        return self.radios[chan.radio].freq_hz + chan.if_hz

    def chain(self, if_chain: int) -> MultiSfChannel | LoraStdChannel | FskChannel:
        """The configuration of IF chain 0..9."""
        if 0 <= if_chain < MULTI_SF_CHAINS:
            return self.multi_sf[if_chain]
        if if_chain == LORA_STD_CHAIN:
            return self.lora_std
        if if_chain == FSK_CHAIN:
            return self.fsk
        raise ValueError(f"IF chain must be 0..9, got {if_chain}")


def eu868_corecell_plan() -> ChipPlan:
    """The EU868 plan of Semtech's ``global_conf.json.sx1250.EU868`` (reference vectors' config)."""
    lut = tuple(
        TxGain(p, g, i)
        for p, g, i in (
            (12, 0, 15), (13, 0, 16), (14, 0, 17), (15, 0, 19), (16, 0, 20), (17, 0, 22),
            (18, 1, 1), (19, 1, 2), (20, 1, 3), (21, 1, 4), (22, 1, 5), (23, 1, 6),
            (24, 1, 7), (25, 1, 9), (26, 1, 11), (27, 1, 14),
        )
    )  # fmt: skip
    radio_a = RadioPlan(
        enable=True,
        freq_hz=867_500_000,
        tx_enable=True,
        tx_freq_min_hz=863_000_000,
        tx_freq_max_hz=870_000_000,
        tx_gain_lut=lut,
    )
    radio_b = RadioPlan(enable=True, freq_hz=868_500_000)
    chans = [(1, -400_000), (1, -200_000), (1, 0), (0, -400_000), (0, -200_000), (0, 0)]
    chans += [(0, 200_000), (0, 400_000)]
    return ChipPlan(
        radios=(radio_a, radio_b),
        multi_sf=tuple(MultiSfChannel(True, r, f) for r, f in chans),
        lora_std=LoraStdChannel(True, radio=1, if_hz=-200_000, bandwidth_hz=250_000, sf=7),
        fsk=FskChannel(True, radio=1, if_hz=300_000, bandwidth_hz=125_000, datarate_bps=50_000),
    )
