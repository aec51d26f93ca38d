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
Blank lines are skipped. Keys starting with ``_`` are comments and ignored. The kinds of line and
their keys are declared once, in ``LINE_SHAPES``: the parser checks them and
``edge_agent.schemas`` publishes them as a JSON Schema (docs/schemas/scenario-line.v1.schema.json).
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

#: fault kind -> whether the line carries ``duration_ms``
FAULT_KINDS = {"spi_error": True, "chip_reset": False, "unplug": True}
_FAULT_DOCS = {
    "spi_error": "every transfer fails for duration_ms",
    "chip_reset": "the chip is power-cycled (its configuration is lost)",
    "unplug": "the device is gone for duration_ms (opening it fails; the chip is unpowered)",
}


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


@dataclass(frozen=True, slots=True)
class LineField:
    """One key of a scenario line: its kind (``int``, ``number``, ``choice``, ``hex``) and
    bounds. The parser checks it with ``check``; ``edge_agent.schemas`` publishes it."""

    name: str
    kind: str
    doc: str
    lo: int | None = None
    hi: int | None = None
    choices: tuple[Any, ...] = ()
    #: ``hex``: how many bytes it may hold
    min_bytes: int = 0
    max_bytes: int = 0

    def check(self, obj: dict[str, Any]) -> Any:
        """The checked value of this key in ``obj``; ValueError saying what is wrong."""
        if self.kind == "int":
            return _int(obj, self.name, self.lo or 0, self.hi)
        if self.kind == "number":
            return _float(obj, self.name)
        if self.kind == "choice":
            return _choice(obj, self.name, self.choices)
        data = _hex(obj, self.name, self.max_bytes)
        if len(data) < self.min_bytes:
            raise ValueError(f"{self.name} must not be empty")
        return data


@dataclass(frozen=True, slots=True)
class LineShape:
    """One kind of scenario line: the key that marks it (None: the default kind), its keys in
    the order they are checked, and what it stands for."""

    name: str
    marker: str | None
    fields: tuple[LineField, ...]
    doc: str

    @property
    def keys(self) -> frozenset[str]:
        """The keys a line of this kind carries (all required)."""
        return frozenset(f.name for f in self.fields)

    def values(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Each field checked, by name, in declaration order."""
        return {f.name: f.check(obj) for f in self.fields}


_AT_MS = LineField("at_ms", "int", "when it happens: ms after the scenario starts", lo=0)
PACKET_LINE = LineShape(
    "packet",
    None,
    (
        _AT_MS,
        LineField("freq_hz", "int", "centre frequency, Hz", lo=1),
        LineField("sf", "int", "spreading factor", lo=5, hi=12),
        LineField("bw_hz", "choice", "bandwidth, Hz", choices=BANDWIDTHS_HZ),
        LineField("cr", "choice", "coding rate", choices=CODING_RATES),
        LineField("rssi_dbm", "number", "received signal strength, dBm"),
        LineField("snr_db", "number", "signal to noise ratio, dB"),
        LineField("crc", "choice", "payload CRC status", choices=CRC_STATES),
        LineField("phy", "hex", "the PHY payload, hex", max_bytes=MAX_PAYLOAD),
    ),
    "one LoRa packet on the air",
)
FIFO_LINE = LineShape(
    "fifo",
    "fifo_hex",
    (
        LineField(
            "fifo_hex",
            "hex",
            "raw bytes appended to the RX FIFO as if the chip wrote them, hex",
            min_bytes=1,
            max_bytes=FIFO_SIZE,
        ),
        _AT_MS,
    ),
    "raw bytes written to the RX FIFO (malformed records for the driver's checks)",
)
#: one shape per fault kind: the ``fault`` key holds the kind (``drivers.sim.faults``)
FAULT_LINES: dict[str, LineShape] = {
    kind: LineShape(
        f"{kind}_fault",
        "fault",
        (
            *([LineField("duration_ms", "int", "how long the fault lasts, ms", lo=1)] * timed),
            _AT_MS,
            LineField("fault", "choice", "the fault", choices=(kind,)),
        ),
        f"a fault of the simulated hardware: {_FAULT_DOCS[kind]}",
    )
    for kind, timed in FAULT_KINDS.items()
}
#: every kind of line, the marked kinds first (a line holding a marker key is of that kind)
LINE_SHAPES: tuple[LineShape, ...] = (*FAULT_LINES.values(), FIFO_LINE, PACKET_LINE)


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
    shape = FAULT_LINES[kind]
    extra, missing = keys - shape.keys, shape.keys - keys
    if extra or missing:
        raise ValueError(
            f"a {kind} fault line carries exactly {', '.join(sorted(shape.keys))}"
            + (f"; unexpected: {', '.join(sorted(extra))}" if extra else "")
            + (f"; missing: {', '.join(sorted(missing))}" if missing else "")
        )
    return ScenarioFault(**shape.values(obj))


def parse_line(obj: Any) -> ScenarioItem | ScenarioFault:
    """Validate one decoded JSON object; raises ValueError saying what is wrong."""
    if not isinstance(obj, dict):
        raise ValueError(f"a line must be a JSON object, got {type(obj).__name__}")
    keys = {k for k in obj if not k.startswith("_")}
    if "fault" in keys:
        return _fault(obj, keys)
    if FIFO_LINE.marker in keys:
        extra, missing = keys - FIFO_LINE.keys, FIFO_LINE.keys - keys
        if extra or missing:
            raise ValueError(
                "a fifo_hex line carries exactly at_ms and fifo_hex"
                + (f"; unexpected: {', '.join(sorted(extra))}" if extra else "")
                + (f"; missing: {', '.join(sorted(missing))}" if missing else "")
            )
        raw = FIFO_LINE.values(obj)
        return ScenarioFifoBytes(at_ms=raw["at_ms"], data=raw["fifo_hex"])
    missing = PACKET_LINE.keys - keys
    if missing:
        raise ValueError(f"missing field(s): {', '.join(sorted(missing))}")
    extra = keys - PACKET_LINE.keys
    if extra:
        raise ValueError(f"unknown field(s): {', '.join(sorted(extra))}")
    return ScenarioPacket(**PACKET_LINE.values(obj))


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
