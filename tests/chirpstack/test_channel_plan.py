"""Issue 13 point 2: ChirpStack manages the channel plan (``command/config``) of the backend
``[gateway] channel_plan_from`` names: reported in the stats metadata, checked against the board
and the region, applied by restarting the radio, kept across restarts; refused or ignored
otherwise without touching the radio."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from chirpstack_api import gw

from drivers.sx1302.plan import ChipPlan
from edge_agent.config import AgentConfig, parse_config
from edge_agent.gateway_control import STATE_FILE
from edge_agent.service import AgentService
from tests.agent.fakes import FakeConcentrator
from tests.agent.mqtt_helpers import GW_ID, Subscriber, config_text
from tests.chirpstack.test_garbage_retained import publish
from tests.waiting import wait_until

pytestmark = pytest.mark.broker

CONFIG = f"eu868/gateway/{GW_ID}/command/config"
EU_FREQS = (868_100_000, 868_300_000, 868_500_000)


def configuration(version: str, freqs=EU_FREQS, *, stats_s: int = 45) -> bytes:  # type: ignore[no-untyped-def]
    """A GatewayConfiguration as ChirpStack builds it (stats.rs): multi-SF LoRa channels."""
    msg = gw.GatewayConfiguration(gateway_id=GW_ID, version=version)
    msg.stats_interval.seconds = stats_s
    for freq in freqs:
        channel = msg.channels.add(frequency=freq)
        lora = channel.lora_modulation_config
        lora.bandwidth, lora.bandwidth_legacy = 125_000, 125
        lora.spreading_factors.extend(range(7, 13))
    return msg.SerializeToString()


class Radio:
    """The service's concentrator factory: records the plan of every radio start."""

    def __init__(self) -> None:
        self.plans: list[ChipPlan] = []

    def __call__(self, cfg: AgentConfig) -> FakeConcentrator:
        self.plans.append(cfg.concentrator.plan)
        return FakeConcentrator(hold=True)


def agent_config(server: str, state_dir: Path, owner: str | None = "chirpstack") -> str:
    plan_from = f'channel_plan_from = "{owner}"\n' if owner else ""
    text = config_text(server, spool_path=str(state_dir / "spool.db"))
    return text.replace("stats_interval_s = 600\n", f"stats_interval_s = 600\n{plan_from}")


def start(running, text: str, radio: Radio) -> AgentService:  # type: ignore[no-untyped-def]
    svc = AgentService(parse_config(text), concentrator_factory=radio)
    running.append(svc)
    svc.start()
    wait_until(lambda: svc.backend.connected.is_set() and svc.radio_ready.is_set())
    return svc


def stats_metadata(svc: AgentService, sub: Subscriber) -> dict[str, str]:
    svc.stats_once()
    msg = sub.expect(lambda m: m.topic.endswith("/event/stats"))
    return dict(gw.GatewayStats.FromString(msg.payload).metadata)


def test_configuration_applied_refused_and_kept_across_a_restart(
    broker, running, tmp_path: Path, caplog
) -> None:
    caplog.set_level(logging.INFO)
    text = agent_config(broker.url, tmp_path)
    sub, radio = Subscriber(broker.port, "+/gateway/+/event/stats"), Radio()
    svc = start(running, text, radio)
    meta = stats_metadata(svc, sub)
    assert "concentratord_version" in meta  # what makes ChirpStack manage the plan
    assert meta["config_version"] == ""  # the local plan: ChirpStack's hash differs
    local = radio.plans[0]

    publish(broker.port, CONFIG, configuration("3f2a9c1d"))
    wait_until(lambda: len(radio.plans) == 2 and svc.radio_ready.is_set(), what="a radio restart")
    plan = radio.plans[1]
    enabled = [c for c in range(8) if plan.multi_sf[c].enable]
    assert [plan.chain_freq_hz(c) for c in enabled] == list(EU_FREQS)
    assert not plan.lora_std.enable and not plan.fsk.enable
    assert plan.spreading_factors == (7, 8, 9, 10, 11, 12)
    assert plan.radios[0].tx_gain_lut == local.radios[0].tx_gain_lut  # the board's TX kept
    assert stats_metadata(svc, sub)["config_version"] == "3f2a9c1d"
    assert svc.backend.stats_interval_s == 45.0
    saved = json.loads((tmp_path / STATE_FILE).read_text())
    assert (saved["backend"], saved["plan"]["version"]) == ("chirpstack", "3f2a9c1d")

    caplog.clear()
    publish(broker.port, CONFIG, configuration("bad", (868_100_000, 915_200_000)))
    wait_until(lambda: any("refused" in r.getMessage() for r in caplog.records))
    line = next(r.getMessage() for r in caplog.records if "refused" in r.getMessage())
    assert "channel plan version 'bad' refused" in line and "915200000" in line
    assert "the radio keeps its plan" in line
    assert len(radio.plans) == 2  # untouched
    assert stats_metadata(svc, sub)["config_version"] == "3f2a9c1d"

    svc.stop()  # a reboot: the next daemon starts with the saved plan
    rebooted = Radio()
    svc2 = start(running, text, rebooted)
    assert rebooted.plans[0] == plan
    assert stats_metadata(svc2, sub)["config_version"] == "3f2a9c1d"
    sub.close()


def test_configuration_of_a_backend_not_owning_the_plan_is_ignored(
    broker, running, tmp_path: Path, caplog
) -> None:
    caplog.set_level(logging.INFO)
    radio = Radio()
    svc = start(running, agent_config(broker.url, tmp_path, owner=None), radio)
    sub = Subscriber(broker.port, "+/gateway/+/event/stats")
    meta = stats_metadata(svc, sub)
    assert "concentratord_version" not in meta and "config_version" not in meta
    publish(broker.port, CONFIG, configuration("3f2a9c1d"))
    wait_until(lambda: any("ignored" in r.getMessage() for r in caplog.records))
    line = next(r.getMessage() for r in caplog.records if "ignored" in r.getMessage())
    assert "command/config version '3f2a9c1d' ignored: [gateway] channel_plan_from is None" in line
    assert len(radio.plans) == 1 and not (tmp_path / STATE_FILE).exists()
    sub.close()


def test_a_json_configuration_reads_like_a_protobuf_one() -> None:
    from google.protobuf import json_format

    from edge_agent.backends.chirpstack.codec import decode
    from edge_agent.backends.chirpstack.plan_command import managed_plan

    binary = gw.GatewayConfiguration.FromString(configuration("j1", stats_s=30))
    text = json_format.MessageToJson(binary).encode()  # camelCase, with "gatewayId"
    plan = managed_plan(decode(text, gw.GatewayConfiguration()))  # type: ignore[arg-type]
    assert plan == managed_plan(binary)
    assert (plan.version, plan.stats_interval_s, len(plan.multi_sf)) == ("j1", 30.0, 3)
