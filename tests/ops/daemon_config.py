"""The TOML config the ops tests run the real daemon (and diag) with: simulated radio, a test
broker, spool and status socket in the test's temp dir."""

from __future__ import annotations

from pathlib import Path

GATEWAY_ID = "0016c001ff1e0001"
#: a busy simulated population: 20 devices, one uplink per second each
BUSY_SIM = "seed = 1\ndevices = 20\nuplink_interval_s = 1\n"


def config_text(
    tmp_path: Path,
    server: str,
    *,
    sim: str = BUSY_SIM,
    prefix: str = "eu868",
    temperature_c: float = 25.0,
    stats_interval_s: float = 600,
) -> str:
    """A daemon config for ``server`` whose files all live below ``tmp_path``."""
    return f"""
[gateway]
id = "{GATEWAY_ID}"
stats_interval_s = {stats_interval_s}

[concentrator]
url = "sim://"
temperature_c = {temperature_c}

[concentrator.sim]
{sim}
[mqtt]
server = "{server}"
topic_prefix = "{prefix}"
reconnect_min_s = 0.1
reconnect_max_s = 0.5

[spool]
path = "{tmp_path / "spool.db"}"

[status]
socket = "{tmp_path / "status.sock"}"
"""


def write_config(tmp_path: Path, server: str, **options: object) -> Path:
    """``config_text`` written to ``tmp_path/config.toml``; returns the path."""
    path = tmp_path / "config.toml"
    path.write_text(config_text(tmp_path, server, **options))  # type: ignore[arg-type]
    return path
