"""Scenario files: JSONL, one radio packet (or one raw FIFO write) per line.

Contract (docs/simulator.md)::

    {"at_ms": 1200, "freq_hz": 868100000, "sf": 7, "bw_hz": 125000, "cr": "4/5",
     "rssi_dbm": -57.0, "snr_db": 9.5, "crc": "ok", "phy": "40..."}
    {"at_ms": 1500, "fifo_hex": "a5c0..."}
    {"at_ms": 3000, "fault": "spi_error", "duration_ms": 2000}
    {"at_ms": 9000, "fault": "chip_reset"}
    {"at_ms": 12000, "fault": "unplug", "duration_ms": 3000}

Fault lines (``drivers.sim.faults``) are kept apart from the radio items: ``spi_error`` makes
every transfer fail for ``duration_ms``, ``chip_reset`` power-cycles the chip (configuration
lost), ``unplug`` removes the device for ``duration_ms`` (opening it fails; the chip is unpowered).

Every field is checked; a malformed line raises ``ScenarioError`` naming the file and line number.
Blank lines are skipped. Keys starting with ``_`` are comments and ignored.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drivers.errors import DriverError

BANDWIDTHS_HZ = (125_000, 250_000, 500_000)
CODING_RATES = ("4/5", "4/6", "4/7", "4/8")
CRC_STATES = ("ok", "bad", "none")
MAX_PAYLOAD = 255
FIFO_SIZE = 4096

_PACKET_KEYS = frozenset(
    {"at_ms", "freq_hz", "sf", "bw_hz", "cr", "rssi_dbm", "snr_db", "crc", "phy"}
)
_RAW_KEYS = frozenset({"at_ms", "fifo_hex"})
#: fault kind -> whether the line carries ``duration_ms``
FAULT_KINDS = {"spi_error": True, "chip_reset": False, "unplug": True}


class ScenarioError(DriverError, ValueError):
    """A scenario file or line does not follow the contract."""


@dataclass(frozen=True, slots=True)
class ScenarioPacket:
    """One LoRa packet on the air, as the network server must see it."""

    at_ms: int
    freq_hz: int
    sf: int
    bw_hz: int
    cr: str
    rssi_dbm: float
    snr_db: float
    crc: str
    phy: bytes

    @property
    def coding_rate(self) -> int:
        """The chip's coding-rate code: 1 (4/5) .. 4 (4/8)."""
        return CODING_RATES.index(self.cr) + 1


@dataclass(frozen=True, slots=True)
class ScenarioFifoBytes:
    """Raw bytes appended verbatim to the RX FIFO at ``at_ms``, as if the chip wrote them."""

    at_ms: int
    data: bytes


@dataclass(frozen=True, slots=True)
class ScenarioFault:
    """A fault of the simulated hardware from ``at_ms`` for ``duration_ms`` (0: an instant)."""

    at_ms: int
    fault: str
    duration_ms: int = 0

    @property
    def end_ms(self) -> int:
        """When the fault is over (scenario ms)."""
        return self.at_ms + self.duration_ms


ScenarioItem = ScenarioPacket | ScenarioFifoBytes


@dataclass(frozen=True, slots=True)
class Scenario:
    """The items of a scenario in playing order (stable-sorted by ``at_ms``), and its faults."""

    items: tuple[ScenarioItem, ...]
    source: str = "<scenario>"
    faults: tuple[ScenarioFault, ...] = ()

    def __len__(self) -> int:
        return len(self.items)


def _int(obj: dict[str, Any], key: str, lo: int, hi: int | None = None) -> int:
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key} must be an integer, got {value!r}")
    if value < lo or (hi is not None and value > hi):
        bounds = f"{lo}..{hi}" if hi is not None else f">= {lo}"
        raise ValueError(f"{key} must be {bounds}, got {value}")
    return value


def _float(obj: dict[str, Any], key: str) -> float:
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{key} must be a finite number, got {value!r}")
    return float(value)


def _choice(obj: dict[str, Any], key: str, allowed: tuple[Any, ...]) -> Any:
    value = obj[key]
    if isinstance(value, bool) or value not in allowed:
        raise ValueError(f"{key} must be one of {', '.join(map(repr, allowed))}, got {value!r}")
    return value


def _hex(obj: dict[str, Any], key: str, max_len: int) -> bytes:
    value = obj[key]
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a hex string, got {value!r}")
    try:
        data = bytes.fromhex(value)
    except ValueError:
        raise ValueError(f"{key} is not valid hex: {value[:40]!r}") from None
    if len(data) > max_len:
        raise ValueError(f"{key} holds {len(data)} bytes, at most {max_len} allowed")
    return data


def _fault(obj: dict[str, Any], keys: set[str]) -> ScenarioFault:
    kind = _choice(obj, "fault", tuple(FAULT_KINDS))
    allowed = {"at_ms", "fault", "duration_ms"} if FAULT_KINDS[kind] else {"at_ms", "fault"}
    extra, missing = keys - allowed, allowed - keys
    if extra or missing:
        raise ValueError(
            f"a {kind} fault line carries exactly {', '.join(sorted(allowed))}"
            + (f"; unexpected: {', '.join(sorted(extra))}" if extra else "")
            + (f"; missing: {', '.join(sorted(missing))}" if missing else "")
        )
    duration_ms = _int(obj, "duration_ms", 1) if FAULT_KINDS[kind] else 0
    return ScenarioFault(at_ms=_int(obj, "at_ms", 0), fault=kind, duration_ms=duration_ms)


def parse_line(obj: Any) -> ScenarioItem | ScenarioFault:
    """Validate one decoded JSON object; raises ValueError saying what is wrong."""
    if not isinstance(obj, dict):
        raise ValueError(f"a line must be a JSON object, got {type(obj).__name__}")
    keys = {k for k in obj if not k.startswith("_")}
    if "fault" in keys:
        return _fault(obj, keys)
    if "fifo_hex" in keys:
        extra, missing = keys - _RAW_KEYS, _RAW_KEYS - keys
        if extra or missing:
            raise ValueError(
                "a fifo_hex line carries exactly at_ms and fifo_hex"
                + (f"; unexpected: {', '.join(sorted(extra))}" if extra else "")
                + (f"; missing: {', '.join(sorted(missing))}" if missing else "")
            )
        data = _hex(obj, "fifo_hex", FIFO_SIZE)
        if not data:
            raise ValueError("fifo_hex must not be empty")
        return ScenarioFifoBytes(at_ms=_int(obj, "at_ms", 0), data=data)
    missing = _PACKET_KEYS - keys
    if missing:
        raise ValueError(f"missing field(s): {', '.join(sorted(missing))}")
    extra = keys - _PACKET_KEYS
    if extra:
        raise ValueError(f"unknown field(s): {', '.join(sorted(extra))}")
    return ScenarioPacket(
        at_ms=_int(obj, "at_ms", 0),
        freq_hz=_int(obj, "freq_hz", 1),
        sf=_int(obj, "sf", 5, 12),
        bw_hz=_choice(obj, "bw_hz", BANDWIDTHS_HZ),
        cr=_choice(obj, "cr", CODING_RATES),
        rssi_dbm=_float(obj, "rssi_dbm"),
        snr_db=_float(obj, "snr_db"),
        crc=_choice(obj, "crc", CRC_STATES),
        phy=_hex(obj, "phy", MAX_PAYLOAD),
    )


def parse_scenario(lines: Iterable[str], source: str = "<scenario>") -> Scenario:
    """Parse JSONL text lines into a Scenario; errors name ``source`` and the 1-based line."""
    items: list[ScenarioItem] = []
    faults: list[ScenarioFault] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ScenarioError(f"{source} line {number}: not valid JSON: {exc.msg}") from exc
        try:
            item = parse_line(obj)
        except ValueError as exc:
            raise ScenarioError(f"{source} line {number}: {exc}") from exc
        (faults if isinstance(item, ScenarioFault) else items).append(item)  # type: ignore[arg-type]
    items.sort(key=lambda item: item.at_ms)  # stable: equal times keep file order
    faults.sort(key=lambda fault: fault.at_ms)
    return Scenario(items=tuple(items), source=source, faults=tuple(faults))


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file."""
    try:
        with open(path, encoding="utf-8") as f:
            return parse_scenario(f, source=str(path))
    except OSError as exc:
        raise ScenarioError(f"cannot read scenario {path}: {exc}") from exc
