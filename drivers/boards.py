"""Board presets: where each Corecell carrier wires its reset/power lines, sensor and buses.

Data, not code. Sources: ref/ecosystem.md §4 (chirpstack-concentratord v4.7.1 model table:
reset/power/SX1261 pins on /dev/gpiochip0, temperature sensor address, GNSS, USB option) and
ref/sx1302.md §8–9 (sx1302_hal tools/reset_lgw.sh pins, STTS751 probe order) and §11 (EU868
Corecell RSSI offset −215.4 dB and temperature coefficients c=20.41, d=2162.56). TX gain tables:
``drivers.tx_gain_tables`` (each vendor's own per-region configuration files, docs/references.md).
Every field but the TX gain vendor can be overridden from the configuration with
``apply_overrides`` (the table itself with ``[concentrator.radio_N] tx_gain_lut``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from drivers.tx_gain_tables import GainTable, vendor_table

#: STTS751 addresses in the order sx1302_hal probes them (loragw_stts751.c)
STTS751_ADDRESSES = (0x39, 0x3B, 0x38)
#: Corecell SX1250 RSSI calibration of the sx1302_hal EU868 example configuration
CORECELL_RSSI_OFFSET_DB = -215.4
CORECELL_RSSI_TCOMP = (0.0, 0.0, 20.41, 2162.56, 0.0)


@dataclass(frozen=True)
class BoardPreset:
    """Wiring and calibration defaults of one concentrator board."""

    name: str
    description: str
    gpiochip: str = "/dev/gpiochip0"
    reset_pin: int | None = None  # SX1302 reset, active high
    power_pin: int | None = None  # power enable, driven high
    sx1261_reset_pin: int | None = None  # SX1261 reset, active low
    i2c_bus: str = "/dev/i2c-1"
    #: the STTS751's address on this board (probed first, then the HAL's others); () = no sensor
    temp_i2c_addresses: tuple[int, ...] = ()
    spi_path: str = "/dev/spidev0.0"
    usb_path: str = "/dev/ttyACM0"
    usb: bool = False  # connects over USB by default
    usb_option: bool = False  # a USB variant of the board exists
    gps_tty: str | None = None
    rssi_offset_db: float = CORECELL_RSSI_OFFSET_DB
    rssi_tcomp: tuple[float, float, float, float, float] = CORECELL_RSSI_TCOMP
    #: whose TX gain tables fit this board (drivers.tx_gain_tables.VENDOR_TABLES)
    tx_gain_vendor: str = "semtech"

    def default_url(self) -> str:
        """The concentrator URL this board uses unless configured otherwise."""
        return f"usb://{self.usb_path}" if self.usb else f"spi://{self.spi_path}"

    def tx_gain_table(self, region: str) -> GainTable | None:
        """The vendor's TX gain table for ``region`` (radio A), or None if it publishes none."""
        return vendor_table(self.tx_gain_vendor, region)


_PRESETS: dict[str, BoardPreset] = {
    preset.name: preset
    for preset in (
        BoardPreset(
            "semtech_corecell",
            "Semtech SX1302C868GW1/C915GW1 Corecell reference design on a Raspberry Pi HAT",
            reset_pin=23,
            power_pin=18,
            sx1261_reset_pin=22,
            temp_i2c_addresses=(0x3B,),
        ),
        BoardPreset(
            "semtech_corecell_usb",
            "Semtech SX1302CSS868GW1/915/923 Corecell USB (STM32 bridge)",
            usb=True,
            usb_option=True,
            tx_gain_vendor="semtech_usb",
        ),
        BoardPreset(
            "rak2287",
            "RAKwireless RAK2287 (mPCIe) on a Pi HAT with GNSS",
            reset_pin=17,
            usb_option=True,
            gps_tty="/dev/ttyAMA0",
            tx_gain_vendor="rak",
        ),
        BoardPreset(
            "rak5146",
            "RAKwireless RAK5146 (SX1303, mPCIe) on a Pi HAT with GNSS",
            reset_pin=17,
            usb_option=True,
            gps_tty="/dev/ttyAMA0",
            tx_gain_vendor="rak",
        ),
        BoardPreset(
            "seeed_wm1302",
            "Seeed WM1302 (mPCIe) on the Seeed Pi HAT",
            reset_pin=17,
            power_pin=18,
            sx1261_reset_pin=5,
            temp_i2c_addresses=(0x39,),
            usb_option=True,
        ),
        BoardPreset(
            "elecrow_lr1302",
            "Elecrow LR1302 (mPCIe, WM1302-compatible wiring)",
            reset_pin=17,
            power_pin=18,
            sx1261_reset_pin=5,
            temp_i2c_addresses=(0x39,),
            usb_option=True,
            tx_gain_vendor="elecrow",
        ),
        BoardPreset(
            "waveshare_sx1302_hat",
            "Waveshare SX1302 LoRaWAN Gateway HAT with GNSS",
            reset_pin=23,
            power_pin=18,
            temp_i2c_addresses=(0x39,),
            gps_tty="/dev/ttyAMA0",
        ),
        BoardPreset(
            "dragino_pg1302",
            "Dragino PG1302 Pi HAT with GNSS",
            reset_pin=23,
            gps_tty="/dev/ttyAMA0",
            tx_gain_vendor="dragino",
        ),
        BoardPreset(
            "embit_emb_lr1302_mpcie",
            "Embit EMB-LR1302 (mPCIe)",
            reset_pin=4,
            power_pin=17,
            temp_i2c_addresses=(0x3B,),
            usb_option=True,
        ),
    )
}

_FIXED = ("name", "tx_gain_vendor")
_OVERRIDABLE = tuple(f.name for f in dataclasses.fields(BoardPreset) if f.name not in _FIXED)


def board_names() -> list[str]:
    """Names of the known boards, sorted."""
    return sorted(_PRESETS)


def board_preset(name: str) -> BoardPreset:
    """The preset called ``name``; an unknown name raises ``ValueError`` listing the known ones."""
    try:
        return _PRESETS[name]
    except KeyError:
        raise ValueError(
            f"unknown board {name!r}; known boards: {', '.join(board_names())}"
        ) from None


def apply_overrides(preset: BoardPreset, overrides: dict[str, Any]) -> BoardPreset:
    """A copy of ``preset`` with the given fields replaced (lists become tuples)."""
    unknown = sorted(set(overrides) - set(_OVERRIDABLE))
    if unknown:
        raise ValueError(
            f"unknown board setting(s) {', '.join(unknown)}; allowed: {', '.join(_OVERRIDABLE)}"
        )
    values: dict[str, Any] = {
        k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()
    }
    if "rssi_tcomp" in values and len(values["rssi_tcomp"]) != 5:
        raise ValueError("rssi_tcomp takes 5 coefficients (a, b, c, d, e)")
    return dataclasses.replace(preset, **values)
