"""``command/config``: ChirpStack's ``GatewayConfiguration`` (channels, stats interval, version)
as a neutral ``ManagedPlan``, and what makes ChirpStack send it.

ChirpStack (``chirpstack/src/uplink/stats.rs``) manages the channel plan of a gateway whose
stats metadata holds ``concentratord_version``, and sends a configuration when the
``config_version`` the gateway reports differs from the hash of its region's channels and the
gateway's stats interval. Only the backend ``[gateway] channel_plan_from`` names reports them.
"""

from __future__ import annotations

import logging
from typing import Any

from chirpstack_api import gw

from edge_agent import __version__
from edge_agent.backends.chirpstack.codec import DECODE_ERRORS, decode
from edge_agent.managed_plan import ManagedPlan, PlanRefused

LOGGER = logging.getLogger(__name__)


def plan_metadata(control: Any, backend: str) -> dict[str, str]:
    """``concentratord_version`` and ``config_version`` for the plan's owner, else nothing."""
    if control is None or not control.owns_channel_plan(backend):
        return {}
    # ChirpStack only checks that the key is present; the value says who answers in that role
    return {
        "concentratord_version": f"edge-agent {__version__}",
        "config_version": control.config_version,
    }


def managed_plan(msg: gw.GatewayConfiguration) -> ManagedPlan:
    """The channels of ``msg``; PlanRefused when a channel is not LoRa or FSK as ChirpStack
    describes them (one SF: the LoRa service chain; several: a multi-SF chain)."""
    multi_sf: list[tuple[int, tuple[int, ...]]] = []
    lora_std = fsk = None
    for n, channel in enumerate(msg.channels):
        kind = channel.WhichOneof("modulation_config")
        if kind == "lora_modulation_config":
            lora = channel.lora_modulation_config
            bw_hz = lora.bandwidth or lora.bandwidth_legacy * 1000
            sfs = tuple(sorted(lora.spreading_factors))
            if len(sfs) > 1:
                if bw_hz != 125_000:
                    raise PlanRefused(f"channel {n}: multi-SF channels are 125 kHz, got {bw_hz}")
                multi_sf.append((channel.frequency, sfs))
            elif len(sfs) == 1:
                if lora_std is not None:
                    raise PlanRefused(f"channel {n}: a second single-SF LoRa channel")
                lora_std = (channel.frequency, bw_hz, sfs[0])
            else:
                raise PlanRefused(f"channel {n}: a LoRa channel without spreading factors")
        elif kind == "fsk_modulation_config":
            if fsk is not None:
                raise PlanRefused(f"channel {n}: a second FSK channel")
            conf = channel.fsk_modulation_config
            fsk = (channel.frequency, conf.bandwidth or conf.bandwidth_legacy * 1000, conf.bitrate)
        else:
            raise PlanRefused(f"channel {n}: no modulation")
    interval = msg.stats_interval.ToTimedelta().total_seconds()
    return ManagedPlan(
        version=msg.version,
        multi_sf=tuple(multi_sf),
        lora_std=lora_std,
        fsk=fsk,
        stats_interval_s=interval if interval > 0 else None,
    )


def handle_config(backend: Any, payload: bytes) -> None:
    """One ``command/config`` message: applied when this backend owns the plan, else ignored;
    a configuration the board or region cannot run is refused and the radio keeps its plan."""
    msg = gw.GatewayConfiguration()
    try:
        decode(payload, msg)
    except DECODE_ERRORS as exc:
        LOGGER.warning("%s: command/config is not a GatewayConfiguration: %s", backend.name, exc)
        return
    control = backend.control
    if control is None or not control.owns_channel_plan(backend.name):
        owner = None if control is None else control.plan_owner
        LOGGER.warning(
            "%s: command/config version %r ignored: [gateway] channel_plan_from is %r",
            backend.name,
            msg.version,
            owner,
        )
        return
    ours = backend.gateway_id or ""
    if msg.gateway_id and msg.gateway_id.lower() != ours.lower():
        LOGGER.warning("%s: command/config for gateway %r ignored, we are %r", backend.name,
                       msg.gateway_id, ours)  # fmt: skip
        return
    try:
        plan = managed_plan(msg)
        restarted = control.apply_channel_plan(backend.name, plan)
    except PlanRefused as exc:
        LOGGER.error(
            "%s: channel plan version %r refused: %s; the radio keeps its plan",
            backend.name,
            msg.version,
            exc,
        )
        return
    LOGGER.info(
        "%s: channel plan version %r applied (%d multi-SF, %s, %s; stats every %s s)%s",
        backend.name,
        plan.version,
        len(plan.multi_sf),
        "LoRa service" if plan.lora_std else "no LoRa service",
        "FSK" if plan.fsk else "no FSK",
        plan.stats_interval_s,
        "; restarting the radio" if restarted else "; the radio already runs these channels",
    )
