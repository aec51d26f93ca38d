"""A channel plan managed by a network server (ChirpStack's ``command/config``): what it asks
for in neutral terms, its check against the board and the region, the ``ChipPlan`` it becomes,
and the file that keeps it across restarts.

Radio placement: each channel needs its radio's centre within ``(radio_bw - channel_bw) / 2``
of its own centre, the radio bandwidth depending on the channel's (925 kHz for 125 kHz channels,
1000 kHz for 250 kHz, 1100 kHz for 500 kHz, as ChirpStack's concentratord uses for the SX1250).
Centres are placed greedily (the classic interval-stabbing order: by the upper end of each
channel's allowed range), which needs the fewest radios; more than two is refused.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drivers.sx1302.plan import ChipPlan, FskChannel, LoraStdChannel, MultiSfChannel
from edge_agent.errors import AgentError
from packet_forwarder.errors import PlanError
from packet_forwarder.regions import check_plan

LOGGER = logging.getLogger(__name__)

#: channel bandwidth -> the radio bandwidth it may use around the radio's centre (SX1250)
RADIO_BANDWIDTH_HZ = {125_000: 925_000, 250_000: 1_000_000, 500_000: 1_100_000}
DEFAULT_RADIO_BANDWIDTH_HZ = 925_000
MULTI_SF_CHAINS = 8
RADIO_COUNT = 2
#: the SX1250's synthesiser range
RADIO_FREQ_MIN_HZ, RADIO_FREQ_MAX_HZ = 150_000_000, 960_000_000


class PlanRefused(AgentError, ValueError):
    """A managed channel plan this board or region cannot run; the radio keeps its plan."""


@dataclass(frozen=True, slots=True)
class ManagedPlan:
    """What the network server asks for: channels, stats interval, and its version string."""

    version: str
    #: (centre Hz, spreading factors) of each multi-SF 125 kHz channel
    multi_sf: tuple[tuple[int, tuple[int, ...]], ...]
    #: (centre Hz, bandwidth Hz, spreading factor) of the LoRa service channel
    lora_std: tuple[int, int, int] | None = None
    #: (centre Hz, bandwidth Hz, bit rate) of the FSK channel
    fsk: tuple[int, int, int] | None = None
    stats_interval_s: float | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (``from_json`` reads it back)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> ManagedPlan:
        """The plan ``to_json`` wrote; ValueError/TypeError/KeyError when it is not one."""
        return cls(
            version=str(doc["version"]),
            multi_sf=tuple((int(f), tuple(int(s) for s in sfs)) for f, sfs in doc["multi_sf"]),
            lora_std=tuple(int(v) for v in doc["lora_std"]) if doc.get("lora_std") else None,  # type: ignore[arg-type]
            fsk=tuple(int(v) for v in doc["fsk"]) if doc.get("fsk") else None,  # type: ignore[arg-type]
            stats_interval_s=doc.get("stats_interval_s"),
        )


def chip_plan(base: ChipPlan, managed: ManagedPlan, band_hz: tuple[int, int]) -> ChipPlan:
    """``base`` (radios, calibration, TX tables kept) with ``managed``'s channels; PlanRefused
    when the board's chains and radios or the region's band (``band_hz``) cannot take them."""
    channels = _channels(managed)
    low, high = band_hz
    for what, freq_hz, bw_hz in channels:
        if freq_hz - bw_hz // 2 < low or freq_hz + bw_hz // 2 > high:
            raise PlanRefused(
                f"{what} at {freq_hz} Hz ({bw_hz // 1000} kHz) is outside the region's band "
                f"{low}..{high} Hz"
            )
    centres = _place_radios([(f, bw) for _what, f, bw in channels])
    radios = list(base.radios)
    for n, centre in enumerate(centres):
        radios[n] = dataclasses.replace(radios[n], enable=True, freq_hz=centre)
    if len(centres) == 1:  # radio B keeps its calibration; parked on radio A's centre
        radios[1] = dataclasses.replace(radios[1], freq_hz=centres[0])

    def assign(freq_hz: int, bw_hz: int) -> tuple[int, int]:
        reach = _reach(bw_hz)
        radio = next(n for n, c in enumerate(centres) if abs(freq_hz - c) <= reach)
        return radio, freq_hz - centres[radio]

    multi = []
    for freq_hz, _sfs in managed.multi_sf:
        radio, if_hz = assign(freq_hz, 125_000)
        multi.append(MultiSfChannel(enable=True, radio=radio, if_hz=if_hz))
    multi += [MultiSfChannel(enable=False)] * (MULTI_SF_CHAINS - len(multi))
    lora_std = LoraStdChannel(enable=False)
    if managed.lora_std is not None:
        freq_hz, bw_hz, sf = managed.lora_std
        radio, if_hz = assign(freq_hz, bw_hz)
        lora_std = dataclasses.replace(
            base.lora_std, enable=True, radio=radio, if_hz=if_hz, bandwidth_hz=bw_hz, sf=sf
        )
    fsk = FskChannel(enable=False)
    if managed.fsk is not None:
        freq_hz, bw_hz, bitrate = managed.fsk
        radio, if_hz = assign(freq_hz, bw_hz)
        fsk = FskChannel(True, radio, if_hz, bw_hz, bitrate, base.fsk.freq_deviation_hz)
    sfs = sorted({sf for _f, chain_sfs in managed.multi_sf for sf in chain_sfs})
    plan = dataclasses.replace(
        base,
        radios=(radios[0], radios[1]),
        multi_sf=tuple(multi),
        lora_std=lora_std,
        fsk=fsk,
        spreading_factors=tuple(sfs) if sfs else base.spreading_factors,
    )
    try:
        check_plan(plan)  # the HAL's limits, as every region preset is checked
    except PlanError as exc:
        raise PlanRefused(str(exc)) from None
    return plan


def _channels(managed: ManagedPlan) -> list[tuple[str, int, int]]:
    """(what, centre, bandwidth) of every channel, after the chain-count and range checks."""
    if len(managed.multi_sf) > MULTI_SF_CHAINS:
        raise PlanRefused(
            f"{len(managed.multi_sf)} multi-SF channels; the concentrator has {MULTI_SF_CHAINS}"
        )
    if not managed.multi_sf and managed.lora_std is None and managed.fsk is None:
        raise PlanRefused("no channels")
    out = []
    for n, (freq_hz, sfs) in enumerate(managed.multi_sf):
        if not sfs or not all(5 <= sf <= 12 for sf in sfs):
            raise PlanRefused(f"multi-SF channel {n} at {freq_hz} Hz: spreading factors {sfs}")
        out.append((f"multi-SF channel {n}", freq_hz, 125_000))
    if managed.lora_std is not None:
        freq_hz, bw_hz, sf = managed.lora_std
        if bw_hz not in RADIO_BANDWIDTH_HZ or not 5 <= sf <= 12:
            raise PlanRefused(f"LoRa service channel: {bw_hz} Hz / SF{sf} is not 125/250/500 kHz")
        out.append(("the LoRa service channel", freq_hz, bw_hz))
    if managed.fsk is not None:
        freq_hz, bw_hz, bitrate = managed.fsk
        if not 1_000 <= bw_hz <= 500_000 or not 500 <= bitrate <= 250_000:
            raise PlanRefused(f"FSK channel: {bw_hz} Hz at {bitrate} bit/s is out of range")
        out.append(("the FSK channel", freq_hz, bw_hz))
    return out


def _reach(bw_hz: int) -> int:
    """How far a channel's centre may be from its radio's centre."""
    return (RADIO_BANDWIDTH_HZ.get(bw_hz, DEFAULT_RADIO_BANDWIDTH_HZ) - bw_hz) // 2


def _place_radios(channels: list[tuple[int, int]]) -> list[int]:
    """The fewest radio centres such that every channel has one within its reach."""
    ranges = sorted(((f - _reach(bw), f + _reach(bw)) for f, bw in channels), key=lambda r: r[1])
    centres: list[int] = []
    for low, high in ranges:
        if not any(low <= c <= high for c in centres):
            centres.append(high)
    if len(centres) > RADIO_COUNT:
        raise PlanRefused(
            f"the channels span {len(centres)} radio bandwidths; the concentrator has "
            f"{RADIO_COUNT} radios"
        )
    for centre in centres:
        if not RADIO_FREQ_MIN_HZ <= centre <= RADIO_FREQ_MAX_HZ:
            raise PlanRefused(f"a radio centre of {centre} Hz is outside the SX1250's range")
    return centres


def save(path: Path, backend: str, managed: ManagedPlan) -> None:
    """Write ``managed`` (owned by ``backend``) to ``path`` atomically (write, fsync, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as out:
        json.dump({"backend": backend, "plan": managed.to_json()}, out, indent=1)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def load(path: Path, backend: str) -> ManagedPlan | None:
    """The plan saved for ``backend``; None when there is none, it belongs to another backend,
    or the file is unreadable (logged: the local configuration then rules)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        LOGGER.error("managed channel plan %s unreadable (%s): the local plan rules", path, exc)
        return None
    if not isinstance(doc, dict) or doc.get("backend") != backend:
        LOGGER.info("managed channel plan %s is not %s's: the local plan rules", path, backend)
        return None
    try:
        return ManagedPlan.from_json(doc["plan"])
    except (KeyError, TypeError, ValueError) as exc:
        LOGGER.error("managed channel plan %s is malformed (%s): the local plan rules", path, exc)
        return None
