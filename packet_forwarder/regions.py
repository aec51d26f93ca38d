"""Region presets: the chip channel plan, the downlink rules and ChirpStack's topic prefix, as data.

One preset per region ChirpStack ships (``chirpstack/configuration/region_*.toml``); the sources
of every number are listed in docs/references.md ("Regions"). Names are the config values of
``[concentrator] region``:

- ``EU868``: Semtech's Corecell reference plan (``drivers.sx1302.plan.eu868_corecell_plan``),
  the same channels as ChirpStack's ``channels_eu868.toml``.
- ``US915-SB1`` .. ``US915-SB8`` and ``AU915-SB1`` .. ``AU915-SB8``: the eight 125 kHz channels
  of one sub-band and its 500 kHz channel. ``US915`` (and ``AU915``) alone is sub-band 2, the
  plan of Semtech's ``global_conf.json.sx1250.US915`` (radio A 904.3 MHz, radio B 905.0 MHz);
  every sub-band uses that layout shifted by 1.6 MHz per sub-band.
- ``AS923``, ``AS923-2``, ``AS923-3``, ``AS923-4``: eight channels 200 kHz apart and a 250 kHz
  SF7 channel, as chirpstack-concentratord's ``channels_as923*.toml``.
- ``IN865``, ``KR920``, ``RU864``, ``EU433``: the Regional Parameters' default channels only (3,
  3, 2, 3), as ChirpStack's channel files; both fit radio A, radio B is off.
- ``CN470-SB1`` .. ``CN470-SB12``: ChirpStack's ``cn470_0`` .. ``cn470_11`` (the 96-channel
  plan of RP002-1.0.0 that ChirpStack implements), downlinks on 500.3-509.7 MHz as Semtech's
  ``global_conf.json.sx1250.CN490`` transmits them. The SX1250 covers 150-960 MHz; the board's
  front end and TX gain table must be the 470 MHz variant's.

Every plan fits the SX1250 + SX1302 limits checked by ``check_plan``: radio centres within
150-960 MHz and each IF chain within the radio's 1.6 MHz receive bandwidth (sx1302_hal
``LGW_RF_RX_BANDWIDTH_*``: |IF| + bandwidth/2 <= 800 kHz).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from drivers.sx1302.plan import (
    ChipPlan,
    FskChannel,
    LoraStdChannel,
    MultiSfChannel,
    RadioPlan,
    TxGain,
    eu868_corecell_plan,
)
from packet_forwarder.airtime import time_on_air_us
from packet_forwarder.dutycycle import EU868_BANDS, Band
from packet_forwarder.errors import PlanError

#: SX1250 datasheet: RF frequency range
SX1250_FREQ_MIN_HZ = 150_000_000
SX1250_FREQ_MAX_HZ = 960_000_000
#: sx1302_hal loragw_hal.c LGW_RF_RX_BANDWIDTH_125/250/500KHZ: 1.6 MHz around the radio centre
RADIO_RX_BANDWIDTH_HZ = 1_600_000
#: longest preamble accepted, symbols (LoRa) or bytes (FSK); LoRaWAN uses 8 and 5
MAX_PREAMBLE = 64
#: longest PHYPayload the chip sends
MAX_PHY_PAYLOAD = 255


@dataclass(frozen=True, slots=True)
class DownlinkRules:
    """What a region lets the gateway transmit; ``packet_forwarder.downlink`` checks each item."""

    #: regulatory sub-bands: a downlink channel must lie inside one; its EIRP caps the power
    sub_bands: tuple[Band, ...]
    #: LoRa bandwidths of the region's downlink data rates
    lora_bandwidths_hz: tuple[int, ...]
    #: whether the region has an FSK downlink data rate
    fsk: bool
    #: slowest downlink data rate (SF, bandwidth): a 255-byte frame at it bounds the airtime
    slowest_sf: int
    slowest_bandwidth_hz: int
    #: dwell time per transmission, µs, for channels narrower than ``dwell_below_bw_hz``
    dwell_time_us: int | None = None
    dwell_below_bw_hz: int = 0
    max_preamble: int = MAX_PREAMBLE
    #: whether the sub-bands carry a duty cycle to track (ETSI EN 300 220)
    duty_cycle: bool = False
    max_toa_us: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        # no LoRaWAN downlink of the region is longer than a maximum-size frame at its slowest
        # data rate (standard 8-symbol preamble, CR 4/5, no CRC as downlinks are sent)
        toa = time_on_air_us(
            modulation="LORA", payload_len=MAX_PHY_PAYLOAD, sf=self.slowest_sf,
            bandwidth_hz=self.slowest_bandwidth_hz, code_rate="4/5", preamble=8, no_crc=True,
        )  # fmt: skip
        object.__setattr__(self, "max_toa_us", toa)

    def sub_band(self, freq_hz: int, bandwidth_hz: int = 0) -> Band | None:
        """The sub-band (highest EIRP limit first) holding the whole channel, or None."""
        half = bandwidth_hz // 2
        fits = [
            b for b in self.sub_bands
            if b.freq_min_hz <= freq_hz - half and freq_hz + half <= b.freq_max_hz
        ]  # fmt: skip
        return max(fits, key=lambda b: b.max_eirp_dbm) if fits else None

    def max_eirp_dbm(self, freq_hz: int, bandwidth_hz: int = 0) -> float | None:
        """The regulatory EIRP limit of the channel, None when it lies in no sub-band."""
        band = self.sub_band(freq_hz, bandwidth_hz)
        return None if band is None else band.max_eirp_dbm


@dataclass(frozen=True, slots=True)
class RegionPreset:
    """One region: what the chip listens to, where and how loud it may transmit."""

    name: str
    plan: ChipPlan
    tx_freq_min_hz: int
    tx_freq_max_hz: int
    #: ChirpStack's MQTT topic prefix for this region config (``region_*.toml``)
    topic_prefix: str
    rules: DownlinkRules
    #: RX2 defaults of ChirpStack's region config (frequency, data rate as SF + bandwidth)
    rx2_freq_hz: int
    rx2_sf: int
    rx2_bandwidth_hz: int = 125_000
    #: EIRP ChirpStack asks for downlinks (lrwn ``get_downlink_tx_power_eirp``), outside EU868's P
    ns_default_eirp_dbm: int = 0

    @property
    def family(self) -> str:
        """The band without sub-band or variant ('US915-SB3' -> 'US915', 'AS923-2' -> 'AS923'):
        what a board vendor's TX gain table is published for."""
        return region_family(self.name)

    @property
    def max_eirp_dbm(self) -> float:
        """The highest regulatory EIRP of the region's sub-bands."""
        return max(b.max_eirp_dbm for b in self.rules.sub_bands)

    def uplink_frequencies_hz(self) -> list[int]:
        """Centre frequencies of every enabled IF chain, in chain order."""
        out = []
        for chain in range(10):
            chan = self.plan.chain(chain)
            if chan.enable:
                out.append(self.plan.chain_freq_hz(chain))
        return out


def _corecell_lut() -> tuple[TxGain, ...]:
    return eu868_corecell_plan().radios[0].tx_gain_lut


def _radio_a(freq_hz: int, tx_min_hz: int, tx_max_hz: int) -> RadioPlan:
    return RadioPlan(enable=True, freq_hz=freq_hz, tx_enable=True, tx_freq_min_hz=tx_min_hz,
                     tx_freq_max_hz=tx_max_hz, tx_gain_lut=_corecell_lut())  # fmt: skip


def _eight_channel_plan(
    first_hz: int, tx_min_hz: int, tx_max_hz: int, lora_std: LoraStdChannel | None
) -> ChipPlan:
    """Eight 125 kHz channels 200 kHz apart from ``first_hz``: four on each radio.

    The layout of Semtech's US915 plan: radio A at first + 400 kHz (IF -400..+200 kHz), radio B
    at first + 1.1 MHz (IF -300..+300 kHz).
    """
    radio_a = _radio_a(first_hz + 400_000, tx_min_hz, tx_max_hz)
    radio_b = RadioPlan(enable=True, freq_hz=first_hz + 1_100_000)
    chans = [(0, -400_000), (0, -200_000), (0, 0), (0, 200_000)]
    chans += [(1, -300_000), (1, -100_000), (1, 100_000), (1, 300_000)]
    return ChipPlan(
        radios=(radio_a, radio_b),
        multi_sf=tuple(MultiSfChannel(True, r, f) for r, f in chans),
        lora_std=lora_std or LoraStdChannel(enable=False),
        fsk=FskChannel(enable=False),
    )


def _default_channels_plan(freqs_hz: Sequence[int], tx_min_hz: int, tx_max_hz: int) -> ChipPlan:
    """A few default channels, all on radio A centred on them (to 100 kHz); radio B off."""
    centre = round((min(freqs_hz) + max(freqs_hz)) / 2 / 100_000) * 100_000
    chans = [MultiSfChannel(True, 0, f - centre) for f in freqs_hz]
    chans += [MultiSfChannel(False)] * (8 - len(chans))
    return ChipPlan(
        radios=(_radio_a(centre, tx_min_hz, tx_max_hz), RadioPlan(enable=False, freq_hz=centre)),
        multi_sf=tuple(chans),
    )


def _band(name: str, low_hz: int, high_hz: int, eirp_dbm: float) -> Band:
    return Band(name, low_hz, high_hz, 1.0, eirp_dbm)


def _eu868() -> RegionPreset:
    rules = DownlinkRules(EU868_BANDS, (125_000, 250_000), fsk=True, slowest_sf=12,
                          slowest_bandwidth_hz=125_000, duty_cycle=True)  # fmt: skip
    return RegionPreset("EU868", eu868_corecell_plan(), 863_000_000, 870_000_000, "eu868",
                        rules, 869_525_000, 12, ns_default_eirp_dbm=16)  # fmt: skip


def _us915_au915(name: str, sub_band: int) -> RegionPreset:
    us = name == "US915"
    first = (902_300_000 if us else 915_200_000) + 1_600_000 * (sub_band - 1)
    # the sub-band's 500 kHz channel (64 + n - 1): SF8 (DR4 in US915, DR6 in AU915)
    lora_std = LoraStdChannel(True, radio=0, if_hz=300_000, bandwidth_hz=500_000, sf=8)
    plan = _eight_channel_plan(first, 923_000_000, 928_000_000, lora_std)
    ism = (902_000_000, 928_000_000) if us else (915_000_000, 928_000_000)
    rules = DownlinkRules(
        (_band(f"{name} ISM", *ism, 30.0),), (500_000,), fsk=False, slowest_sf=12,
        slowest_bandwidth_hz=500_000, dwell_time_us=400_000, dwell_below_bw_hz=500_000,
    )  # fmt: skip
    full = name if sub_band == 2 and us else f"{name}-SB{sub_band}"
    return RegionPreset(
        full,
        plan,
        923_300_000,
        927_500_000,
        f"{name.lower()}_{sub_band - 1}",
        rules,
        923_300_000,
        12,
        500_000,
        ns_default_eirp_dbm=21 if us else 30,
    )


#: AS923 variants: (name, first channel, RX2 SF); ChirpStack's region_as923*.toml
_AS923 = (("AS923", 923_200_000, 10), ("AS923-2", 921_400_000, 12),
          ("AS923-3", 916_600_000, 10), ("AS923-4", 917_300_000, 10))  # fmt: skip


def _as923(name: str, first_hz: int, rx2_sf: int) -> RegionPreset:
    lora_std = LoraStdChannel(True, radio=1, if_hz=200_000, bandwidth_hz=250_000, sf=7)
    plan = _eight_channel_plan(first_hz, 915_000_000, 928_000_000, lora_std)
    rules = DownlinkRules((_band("AS923", 915_000_000, 928_000_000, 16.0),), (125_000, 250_000),
                          fsk=True, slowest_sf=12, slowest_bandwidth_hz=125_000)  # fmt: skip
    prefix = name.lower().replace("-", "_")
    return RegionPreset(name, plan, 915_000_000, 928_000_000, prefix, rules, first_hz, rx2_sf,
                        ns_default_eirp_dbm=16)  # fmt: skip


def _small(
    name: str, freqs: Sequence[int], tx: tuple[int, int], band: Band, bws: tuple[int, ...],
    fsk: bool, rx2: tuple[int, int], ns_eirp: int,
) -> RegionPreset:  # fmt: skip
    plan = _default_channels_plan(freqs, *tx)
    rules = DownlinkRules((band,), bws, fsk=fsk, slowest_sf=12, slowest_bandwidth_hz=125_000)
    return RegionPreset(name, plan, tx[0], tx[1], name.lower(), rules, rx2[0], rx2[1],
                        ns_default_eirp_dbm=ns_eirp)  # fmt: skip


def _in865() -> RegionPreset:
    return _small("IN865", (865_062_500, 865_402_500, 865_985_000), (865_000_000, 867_000_000),
                  _band("IN865", 865_000_000, 867_000_000, 30.0), (125_000,), True,
                  (866_550_000, 10), 30)  # fmt: skip


def _kr920() -> RegionPreset:
    return _small("KR920", (922_100_000, 922_300_000, 922_500_000), (920_900_000, 923_300_000),
                  _band("KR920", 920_900_000, 923_300_000, 23.0), (125_000,), False,
                  (921_900_000, 12), 23)  # fmt: skip


def _ru864() -> RegionPreset:
    return _small("RU864", (868_900_000, 869_100_000), (864_000_000, 870_000_000),
                  _band("RU864", 864_000_000, 870_000_000, 16.0), (125_000, 250_000), True,
                  (869_100_000, 12), 16)  # fmt: skip


def _eu433() -> RegionPreset:
    return _small("EU433", (433_175_000, 433_375_000, 433_575_000), (433_050_000, 434_900_000),
                  _band("EU433", 433_050_000, 434_790_000, 12.15), (125_000, 250_000), True,
                  (434_665_000, 12), 12)  # fmt: skip


def _cn470(sub_band: int) -> RegionPreset:
    first = 470_300_000 + 1_600_000 * (sub_band - 1)
    plan = _eight_channel_plan(first, 500_000_000, 510_000_000, None)
    rules = DownlinkRules((_band("CN470", 470_000_000, 510_000_000, 19.15),), (125_000, 500_000),
                          fsk=True, slowest_sf=12, slowest_bandwidth_hz=125_000)  # fmt: skip
    return RegionPreset(
        f"CN470-SB{sub_band}",
        plan,
        500_300_000,
        509_700_000,
        f"cn470_{sub_band - 1}",
        rules,
        505_300_000,
        12,
        ns_default_eirp_dbm=19,
    )


def _presets() -> dict[str, RegionPreset]:
    presets = [_eu868(), _us915_au915("US915", 2)]
    presets += [_us915_au915("US915", n) for n in range(1, 9)]
    presets += [_us915_au915("AU915", n) for n in range(1, 9)]
    presets += [_as923(*variant) for variant in _AS923]
    presets += [_in865(), _kr920(), _ru864()]
    presets += [_cn470(n) for n in range(1, 13)]
    presets += [_eu433()]
    out = {p.name: p for p in presets}
    out["AU915"] = out["AU915-SB2"]
    return out


_PRESETS = _presets()


def region_family(name: str) -> str:
    """'US915-SB3' -> 'US915', 'AS923-2' -> 'AS923', 'EU868' -> 'EU868'."""
    return name.upper().split("-")[0]


def region_names() -> list[str]:
    """Names accepted by ``region_preset``."""
    return [*_PRESETS, "US915-SB2"]


def region_preset(name: str) -> RegionPreset:
    """The preset called ``name`` (case-insensitive); PlanError names the known ones."""
    key = name.upper()
    if key == "US915-SB2":
        key = "US915"
    try:
        return _PRESETS[key]
    except KeyError:
        raise PlanError(
            f"unknown region {name!r}; expected one of {', '.join(region_names())}"
        ) from None


def all_presets() -> list[RegionPreset]:
    """Every distinct preset (an alias once), in ``region_names`` order."""
    return list({id(p): p for p in _PRESETS.values()}.values())


def check_plan(plan: ChipPlan) -> None:
    """PlanError when the plan breaks an SX1250 / SX1302 limit (module docstring)."""
    for n, radio in enumerate(plan.radios):
        if radio.enable and not SX1250_FREQ_MIN_HZ <= radio.freq_hz <= SX1250_FREQ_MAX_HZ:
            raise PlanError(f"radio {n} at {radio.freq_hz} Hz is outside the SX1250's range")
    for chain in range(10):
        chan = plan.chain(chain)
        if not chan.enable:
            continue
        if not plan.radios[chan.radio].enable:
            raise PlanError(f"IF chain {chain} uses radio {chan.radio}, which is disabled")
        bandwidth = getattr(chan, "bandwidth_hz", 125_000)
        if abs(chan.if_hz) + bandwidth // 2 > RADIO_RX_BANDWIDTH_HZ // 2:
            raise PlanError(
                f"IF chain {chain}: IF {chan.if_hz} Hz + {bandwidth // 2} Hz leaves the radio's "
                f"{RADIO_RX_BANDWIDTH_HZ // 1000} kHz receive bandwidth"
            )


def power_gaps(preset: RegionPreset, lut: Sequence[TxGain], antenna_gain_dbi: float) -> list[str]:
    """Sub-bands where even the lowest table entry plus the antenna gain exceeds the EIRP limit.

    One sentence per such sub-band, naming the lower entries the table needs; empty when every
    sub-band has a usable entry.
    """
    if not lut:
        return []
    lowest = min(g.rf_power_dbm for g in lut)
    out = []
    bands = preset.rules.sub_bands
    for band in bands:
        # a weaker band over the same range (EU868 Q-7dBm under Q) is an option, not a limit
        same_range = [
            b
            for b in bands
            if (b.freq_min_hz, b.freq_max_hz) == (band.freq_min_hz, band.freq_max_hz)
        ]
        if band.max_eirp_dbm < max(b.max_eirp_dbm for b in same_range):
            continue
        conducted = band.max_eirp_dbm - antenna_gain_dbi
        if lowest <= conducted + 1e-9:
            continue
        top = math.floor(conducted + 1e-9)
        out.append(
            f"{preset.name} sub-band {band.name} ({band.freq_min_hz / 1e6:g}-"
            f"{band.freq_max_hz / 1e6:g} MHz) allows {band.max_eirp_dbm:g} dBm EIRP: with "
            f"{antenna_gain_dbi:g} dBi antenna gain the radio may emit at most {conducted:g} dBm, "
            f"below the TX gain table's lowest entry ({lowest} dBm); add entries at or below "
            f"{top} dBm (for example {top - 2}..{top} dBm) to tx_gain_lut"
        )
    return out
