"""Fixtures for the operator tools: a config shaped like ``edge_agent.config.AgentConfig``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import edge_agent.diag.core as core


def make_config(tmp_path: Path, **sections: dict[str, Any]) -> SimpleNamespace:
    """An object with the attributes of CONFIG_API's ``AgentConfig`` (overridable per section)."""
    gateway = {"id": "0016c001ff1e0001", "stats_interval_s": 30.0}
    concentrator = {
        "url": "sim://",
        "region": "EU868",
        "board": None,
        "firmware_dir": None,
        "trace": None,
        "antenna_gain_dbi": 0.0,
        "temperature_c": 25.0,
    }
    mqtt = {
        "server": "tcp://127.0.0.1:1",
        "topic_prefix": "eu868",
        "marshaler": "protobuf",
        "qos": 1,
        "username": None,
        "password": None,
        "ca_cert": None,
        "tls_cert": None,
        "tls_key": None,
        "client_id": None,
        "keepalive_s": 30,
    }
    gateway.update(sections.get("gateway", {}))
    concentrator.update(sections.get("concentrator", {}))
    mqtt.update(sections.get("mqtt", {}))
    mqtt_ns = SimpleNamespace(**mqtt)
    chirpstack = SimpleNamespace(name="chirpstack", type="chirpstack", mqtt=mqtt_ns, udp=None)
    return SimpleNamespace(
        backends=sections.get("backends", [chirpstack]),
        source_path=tmp_path / "config.toml",
        gateway=SimpleNamespace(**gateway),
        concentrator=SimpleNamespace(**concentrator),
        mqtt=mqtt_ns,
        spool=sections.get("spool", {"path": str(tmp_path / "spool.db")}),
        regulation={},
        status=SimpleNamespace(socket=str(tmp_path / "status.sock")),
        log=SimpleNamespace(level="INFO"),
    )


@pytest.fixture
def use_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., SimpleNamespace]:
    """Make ``diag`` load a config built by ``make_config`` (the real loader is another module)."""

    def install(**sections: dict[str, Any]) -> SimpleNamespace:
        cfg = make_config(tmp_path, **sections)
        monkeypatch.setattr(core, "_load_config", lambda _path: cfg)
        return cfg

    return install


def run_one(name: str, **ctx_args: Any) -> core.CheckResult:
    """Run the single check ``name`` in a fresh context and return its result."""
    import edge_agent.diag as diag

    ctx = diag.DiagContext(config_path="test.toml", **ctx_args)
    (result,) = diag.run_checks(ctx, [name])
    return result
