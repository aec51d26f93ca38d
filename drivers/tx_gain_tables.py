"""TX gain tables (SX1250 radio A) that board vendors publish, per region: data, not code.

An entry maps an RF power (dBm at the connector) to the SX1250 PA gain and power index that give
it on that board. A table is only right for the board it was measured on: RAK's RAK2287/RAK5146
use PA gain 1 at every step, Semtech's Corecell PA gain 0 up to 17 dBm. The exact file each table
comes from is in ``source`` and in docs/references.md ("Board TX gain tables").
Limits of sx1302_hal (loragw_hal.h): at most 16 entries, pa_gain 0..3, pwr_idx 0..22.
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.sx1302.plan import TxGain

#: sx1302_hal TX_GAIN_LUT_SIZE_MAX and the SX1250 ranges of loragw_hal.c lgw_txgain_setconf
MAX_ENTRIES = 16
MAX_PA_GAIN = 3
MAX_PWR_IDX = 22


@dataclass(frozen=True, slots=True)
class GainTable:
    """One vendor table: its entries and the file it was taken from."""

    source: str
    entries: tuple[TxGain, ...]

    @property
    def lowest_dbm(self) -> int:
        """The lowest RF power the table can give."""
        return self.entries[0].rf_power_dbm

    def describe(self) -> str:
        """``12 dBm PA1/4, 13 dBm PA1/5, ...``: the table as a technician reads it."""
        return describe_lut(self.entries)


def describe_lut(entries: tuple[TxGain, ...]) -> str:
    """``12 dBm PA1/4, 13 dBm PA1/5, ...``: power, PA gain / power index of each entry."""
    return ", ".join(f"{e.rf_power_dbm} dBm PA{e.pa_gain}/{e.pwr_idx}" for e in entries)


def validate_lut(entries: tuple[TxGain, ...]) -> None:
    """Raise ValueError unless ``entries`` fits the HAL's limits and rises in power.

    sx1302_hal refuses more than 16 entries, pa_gain > 3 and pwr_idx > 22 (lgw_txgain_setconf);
    it does not check the order, but its lookup (highest entry not above the request) needs it.
    """
    if not 1 <= len(entries) <= MAX_ENTRIES:
        raise ValueError(f"a TX gain table has 1..{MAX_ENTRIES} entries, got {len(entries)}")
    for entry in entries:
        if not 0 <= entry.pa_gain <= MAX_PA_GAIN:
            raise ValueError(f"pa_gain must be 0..{MAX_PA_GAIN}, got {entry.pa_gain}")
        if not 0 <= entry.pwr_idx <= MAX_PWR_IDX:
            raise ValueError(f"pwr_idx must be 0..{MAX_PWR_IDX}, got {entry.pwr_idx}")
    powers = [entry.rf_power_dbm for entry in entries]
    if powers != sorted(set(powers)):
        raise ValueError(f"rf_power must rise from entry to entry, got {powers}")


def _table(source: str, spec: str) -> GainTable:
    """``"12:0,15 13:0,16"`` (rf_power:pa_gain,pwr_idx) as a validated table."""
    entries = []
    for item in spec.split():
        power, gains = item.split(":")
        pa_gain, pwr_idx = gains.split(",")
        entries.append(TxGain(int(power), int(pa_gain), int(pwr_idx)))
    table = GainTable(source, tuple(entries))
    validate_lut(table.entries)
    return table


_SEMTECH = "Lora-net/sx1302_hal V2.1.0 packet_forwarder/"
_RAK = "RAKWireless/rak_common_for_gateway lora/rak2287 and lora/rak5146 global_conf_*/"
_DRAGINO = "dragino/PG1302 cfg-302/"

_SEMTECH_SPI = (
    "12:0,15 13:0,16 14:0,17 15:0,19 16:0,20 17:0,22 18:1,1 19:1,2 "
    "20:1,3 21:1,4 22:1,5 23:1,6 24:1,7 25:1,9 26:1,11 27:1,14"
)
_SEMTECH_CN490 = (
    "-6:0,0 -3:0,1 0:0,2 3:1,3 6:1,4 10:1,5 11:1,6 12:1,7 "
    "13:1,8 14:1,9 16:1,10 20:1,11 23:1,12 25:1,13 26:1,14 27:1,15"
)
_RAK_EU = (
    "12:1,4 13:1,5 14:1,6 15:1,7 16:1,8 17:1,9 18:1,10 19:1,11 "
    "20:1,12 21:1,13 22:1,14 23:1,16 24:1,17 25:1,18 26:1,19 27:1,22"
)
_RAK_US = (
    "12:1,6 13:1,7 14:1,8 15:1,9 16:1,10 17:1,11 18:1,12 19:1,13 "
    "20:1,14 21:1,15 22:1,16 23:1,17 24:1,18 25:1,19 26:1,21 27:1,22"
)
_DRAGINO_PA1 = (
    "12:1,4 13:1,5 14:1,6 15:1,7 16:1,8 17:1,9 18:1,10 19:1,11 "
    "20:1,12 21:1,13 22:1,14 23:1,15 24:1,16 25:1,17 26:1,19 27:1,20"
)
_DRAGINO_AU = (
    "12:0,16 13:0,17 14:0,18 15:0,19 16:0,21 17:0,22 18:1,3 19:1,4 "
    "20:1,5 21:1,6 22:1,7 23:1,8 24:1,9 25:1,11 26:1,13 27:1,17"
)

#: vendor -> region -> table (regions named as LoRaWAN Regional Parameters name them)
VENDOR_TABLES: dict[str, dict[str, GainTable]] = {
    "semtech": {
        "EU868": _table(_SEMTECH + "global_conf.json.sx1250.EU868", _SEMTECH_SPI),
        "US915": _table(_SEMTECH + "global_conf.json.sx1250.US915", _SEMTECH_SPI),
        "CN470": _table(_SEMTECH + "global_conf.json.sx1250.CN490", _SEMTECH_CN490),
    },
    "semtech_usb": {
        "EU868": _table(_SEMTECH + "global_conf.json.sx1250.EU868.USB", _SEMTECH_SPI),
        "US915": _table(_SEMTECH + "global_conf.json.sx1250.US915.USB", _SEMTECH_SPI),
        "AS923": _table(
            _SEMTECH + "global_conf.json.sx1250.AS923.USB",
            "0:0,0 12:0,15 13:0,16 14:0,17 15:0,19 16:0,20 17:0,22 18:1,1 19:1,2 20:1,3 "
            "21:1,4 22:1,5 23:1,6 24:1,9",
        ),
        "CN470": _table(
            _SEMTECH + "global_conf.json.sx1250.CN490.USB",
            "3:0,7 4:0,8 5:0,9 6:1,10 7:1,11 8:1,12 9:1,13 10:1,14 11:1,15 12:1,16 13:1,17 "
            "14:1,18 15:1,19 16:1,20 17:1,21 18:1,22",
        ),
    },
    "rak": {
        "EU868": _table(_RAK + "global_conf.eu_863_870.json", _RAK_EU),
        "IN865": _table(_RAK + "global_conf.in_865_867.json", _RAK_EU),
        "RU864": _table(_RAK + "global_conf.ru_864_870.json", _RAK_EU),
        "US915": _table(_RAK + "global_conf.us_902_928.json", _RAK_US),
        "AU915": _table(_RAK + "global_conf.au_915_928.json", _RAK_US),
        "KR920": _table(_RAK + "global_conf.kr_920_923.json", _RAK_US),
        # AS923-1 transmits at 923.2/923.4 MHz: inside as_915_928 (as_920_923 stops at 923.0)
        "AS923": _table(_RAK + "global_conf.as_915_928.json", _RAK_US),
        "CN470": _table(_RAK + "global_conf.cn_470_510.json", _SEMTECH_CN490),
        "EU433": _table(_RAK + "global_conf.eu_433.json", _SEMTECH_CN490),
    },
    "dragino": {
        "EU868": _table(_DRAGINO + "EU-global_conf.json", _DRAGINO_PA1),
        "IN865": _table(_DRAGINO + "IN-global_conf.json", _DRAGINO_PA1),
        "RU864": _table(_DRAGINO + "RU-global_conf.json", _DRAGINO_PA1),
        "KR920": _table(_DRAGINO + "KR-global_conf.json", _DRAGINO_PA1),
        "AS923": _table(_DRAGINO + "AS1-global_conf.json", _DRAGINO_PA1),
        "AU915": _table(_DRAGINO + "AU-1-global_conf.json", _DRAGINO_AU),
        "US915": _table(_DRAGINO + "US-1-global_conf.json", _SEMTECH_SPI),
        "CN470": _table(_DRAGINO + "CN-12-global_conf.json", _SEMTECH_SPI),
    },
    "elecrow": {
        "EU868": _table(
            "Elecrow-RD/LR1302_loraWAN LR1302_HAL/sx1302_hal/packet_forwarder/"
            "global_conf.json.sx1250.EU868",
            _SEMTECH_SPI,
        ),
        "US915": _table(
            "Elecrow-RD/LR1302_loraWAN LR1302_HAL/sx1302_hal/packet_forwarder/"
            "global_conf.json.sx1250.US915",
            _SEMTECH_SPI,
        ),
        "CN470": _table(
            "Elecrow-RD/LR1302_loraWAN LR1302_HAL/sx1302_hal/packet_forwarder/"
            "global_conf.json.sx1250.CN490",
            _SEMTECH_CN490,
        ),
    },
}


def vendor_table(vendor: str, region: str) -> GainTable | None:
    """The vendor's table for ``region``, or None when the vendor publishes none for it."""
    try:
        tables = VENDOR_TABLES[vendor]
    except KeyError:
        raise ValueError(
            f"unknown TX gain table vendor {vendor!r}; known: {', '.join(sorted(VENDOR_TABLES))}"
        ) from None
    return tables.get(region.upper())
