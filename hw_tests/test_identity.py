"""Chip identity: version register, model from OTP, EUI (ref/sx1302.md §3)."""

from __future__ import annotations

from typing import Any


def test_version_register_reads_sx1302_or_sx1303(chip: Any) -> None:
    version = chip.version()
    assert version in (0x10, 0x12), f"version {version:#04x}: 0x00 means unpowered or in reset"


def test_model_is_sx1302_or_sx1303(chip: Any) -> None:
    assert chip.model() in ("SX1302", "SX1303")


def test_eui_is_programmed(chip: Any) -> None:
    eui = chip.eui()
    assert eui not in (0, 0xFFFF_FFFF_FFFF_FFFF)
