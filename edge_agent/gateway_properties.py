"""What the gateway says about itself in every stats report (ChirpStack stores the stats
metadata as gateway properties): agent version, region, board, concentrator model, EUI, chip
version, firmware versions, temperature. Each value is read from the running objects; a value
that is not known (no concentrator up yet, no thermometer on the board) is left out, never
guessed."""

from __future__ import annotations

from typing import Any

from edge_agent import __version__


def gateway_properties(cfg: Any, concentrator: Any | None) -> dict[str, str]:
    """Stats metadata from ``cfg`` (``AgentConfig``) and a started concentrator (or None)."""
    conc_cfg = cfg.concentrator
    props = {"edge_agent_version": __version__, "region": str(conc_cfg.region)}
    if conc_cfg.board:
        props["board"] = str(conc_cfg.board)
    if concentrator is None:
        return props
    model = getattr(concentrator, "model", None)
    if model:
        props["concentrator_model"] = str(model)
    eui = getattr(concentrator, "eui", None)
    if eui is not None:
        props["concentrator_eui"] = f"{eui:016x}"
    version = getattr(concentrator, "version", None)
    if isinstance(version, int):
        props["chip_version"] = f"0x{version:02x}"
    for name, value in (getattr(concentrator, "firmware_versions", None) or {}).items():
        props[f"{name}_firmware_version"] = str(value)
    if _measures_temperature(cfg):
        stats = concentrator.stats() if callable(getattr(concentrator, "stats", None)) else {}
        temperature_c = stats.get("temperature_c")
        if temperature_c is not None:
            props["concentrator_temp"] = f"{temperature_c:.1f}"  # concentratord's key
    return props


def _measures_temperature(cfg: Any) -> bool:
    """True when the radio's temperature comes from a sensor (USB: the bridge MCU; SPI: the
    board's STTS751), not from the fixed ``[concentrator] temperature_c`` (radio_setup's rule)."""
    from edge_agent.radio_setup import resolve_board, url_scheme

    scheme = url_scheme(cfg.concentrator.url)
    if scheme == "usb":
        return True
    if scheme != "spi":
        return False
    board = resolve_board(cfg)
    return board is not None and bool(board.temp_i2c_addresses)
