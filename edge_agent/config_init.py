"""``edge-agent config init``: a valid, commented configuration from a few answers.

The answers (board, region, network servers, spool, gateway id) come from flags or, on a
terminal, from prompts with defaults. ``render`` writes the TOML with a comment on each key;
the caller validates it with the daemon's own loader before anything is written. Detection
(``detect``) asks the real driver: it opens ``spi:///dev/spidev0.0`` and each
``usb:///dev/ttyACM*`` and reads the SX1302 version register, with a timeout.
"""

from __future__ import annotations

import glob
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from edge_agent.cmd_config import toml_value

#: where a detected SPI Corecell answers, and the USB Corecell ports
SPI_DEVICE = "/dev/spidev0.0"
USB_GLOB = "/dev/ttyACM*"
DETECT_TIMEOUT_S = 3.0
DEFAULT_SPOOL = "/var/lib/edge-agent/spool.db"
#: the board a concentrator found on each bus is assumed to be (the chip cannot say its carrier)
DETECTED_BOARD = {"spi": "semtech_corecell", "usb": "semtech_corecell_usb"}


@dataclass
class ChirpStackServer:
    """One ChirpStack MQTT server and its TLS/mTLS files."""

    server: str
    ca_cert: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    username: str | None = None
    password: str | None = None


@dataclass
class InitAnswers:
    """What ``config init`` asks; None keeps the daemon's default."""

    region: str
    board: str | None = None
    url: str | None = None
    gateway_id: str | None = None
    firmware_dir: str | None = None
    spool_path: str = DEFAULT_SPOOL
    chirpstack: list[ChirpStackServer] = field(default_factory=list)
    udp: list[str] = field(default_factory=list)

    @property
    def has_secret(self) -> bool:
        """True when the file will hold a password."""
        return any(s.password for s in self.chirpstack)


@dataclass(frozen=True)
class Detected:
    """What answered (or did not) on one device."""

    url: str
    board: str
    found: bool
    detail: str


def _read_chip(url: str) -> str:
    """Open ``url`` with the real driver and read the chip's identity (may block: USB)."""
    from drivers.sx1302.chip import SX1302
    from drivers.transport import open_transport

    with open_transport(url) as transport:
        if url.startswith("usb:"):
            transport.reset()  # the USB MCU powers the chip and releases its reset
        chip = SX1302(transport)
        version = chip.version()
        return f"{chip.model()} version 0x{version:02x}"


def probe(url: str, timeout_s: float = DETECT_TIMEOUT_S) -> tuple[bool, str]:
    """(found, what) for the concentrator at ``url``; a device that does not answer within
    ``timeout_s`` is reported, never waited for (the reading thread is left to finish)."""
    result: list[tuple[bool, str]] = []

    def read() -> None:
        try:
            result.append((True, _read_chip(url)))
        except Exception as exc:  # any driver failure is an answer: "not a concentrator"
            result.append((False, f"{type(exc).__name__}: {exc}"))

    thread = threading.Thread(target=read, name="config-init-probe", daemon=True)
    thread.start()
    thread.join(timeout_s)
    if not result:
        return False, f"no answer within {timeout_s:g} s"
    return result[0]


def candidates() -> list[str]:
    """The concentrator URLs worth probing on this machine."""
    urls = [f"spi://{SPI_DEVICE}"] if os.path.exists(SPI_DEVICE) else []
    return urls + [f"usb://{path}" for path in sorted(glob.glob(USB_GLOB))]


def detect(urls: list[str] | None = None, timeout_s: float = DETECT_TIMEOUT_S) -> list[Detected]:
    """Probe each candidate (``candidates()`` by default) and say what answered."""
    out = []
    for url in candidates() if urls is None else urls:
        scheme = url.split(":", 1)[0]
        found, detail = probe(url, timeout_s)
        out.append(Detected(url, DETECTED_BOARD.get(scheme, "semtech_corecell"), found, detail))
    return out


# -- rendering ---------------------------------------------------------------------------------


def _key(lines: list[str], name: str, value: Any, comment: str) -> None:
    lines.append(f"# {comment}")
    lines.append(f"{name} = {toml_value(value)}")


def render(answers: InitAnswers, *, command: str = "edge-agent config init") -> str:
    """The commented TOML configuration for ``answers`` (not validated here)."""
    from drivers.boards import board_preset
    from packet_forwarder.regions import region_preset

    preset = region_preset(answers.region)
    lines = [
        f"# edge-agent configuration written by '{command}'.",
        "# Every key and its default: docs/configuration.md. After an edit, check it with:",
        "#   edge-agent config check FILE",
        "# It may hold credentials: keep it readable by root and the edge-agent group only.",
        "",
        "[gateway]",
    ]
    if answers.gateway_id:
        _key(lines, "id", answers.gateway_id, "the gateway EUI the network servers know it by")
    else:
        lines.append("# id unset: the concentrator chip's EUI is the gateway id (16 hex digits)")
        lines.append('# id = "0016c001ff000000"')
    lines += ["", "[concentrator]"]
    if answers.board:
        board = board_preset(answers.board)
        _key(lines, "board", answers.board, f"{board.description} (docs/hardware.md)")
        default_url = board.default_url()
    else:
        default_url = "sim://"
    _key(
        lines,
        "region",
        preset.name,
        f"channel plan and TX limits; ChirpStack topic prefix {preset.topic_prefix!r}",
    )
    url = answers.url or default_url
    where = "the board's own bus" if url == default_url and answers.board else "where it answers"
    _key(lines, "url", url, f"the concentrator: {where} (sim:// is the simulator)")
    if not url.startswith("sim:"):
        firmware = answers.firmware_dir or "/var/lib/edge-agent/firmware"
        _key(lines, "firmware_dir", firmware, "AGC/ARB images of 'edge-agent firmware import'")
    for index, server in enumerate(answers.chirpstack):
        lines += _chirpstack(server, _name("chirpstack", index))
    for index, udp in enumerate(answers.udp):
        lines += [
            "",
            "# a Semtech UDP (GWMP) network server",
            "[[backend]]",
            f"name = {toml_value(_name('udp', index))}",
            'type = "semtech_udp"',
            f"server = {toml_value(udp)}",
        ]
    lines += ["", "[spool]"]
    _key(lines, "path", answers.spool_path, "uplinks wait here while a server is unreachable")
    lines.append('# max_bytes = "64MiB"   # the oldest uplinks go first when it is full')
    return "\n".join(lines) + "\n"


def _name(kind: str, index: int) -> str:
    return kind if index == 0 else f"{kind}-{index + 1}"


def _chirpstack(server: ChirpStackServer, name: str) -> list[str]:
    lines = [
        "",
        "# a ChirpStack v4 network server over MQTT (docs/chirpstack.md)",
        "[[backend]]",
        f"name = {toml_value(name)}",
        'type = "chirpstack"',
        f"server = {toml_value(server.server)}",
    ]
    notes = {
        "ca_cert": "the CA that signed the broker's certificate",
        "tls_cert": "this gateway's client certificate (mutual TLS)",
        "tls_key": "its private key",
        "username": "MQTT user",
        "password": "MQTT password (never logged)",
    }
    for key, note in notes.items():
        value = getattr(server, key)
        if value:
            lines.append(f"{key} = {toml_value(value)}   # {note}")
    return lines


# -- prompts -----------------------------------------------------------------------------------


def ask(
    read: Callable[[str], str],
    write: Callable[[str], Any],
    question: str,
    default: str | None,
    check: Callable[[str], str | None],
) -> str:
    """Ask until ``check`` accepts the answer (returns None); an empty answer takes ``default``."""
    shown = f" [{default}]" if default else ""
    while True:
        answer = read(f"{question}{shown}: ").strip()
        if not answer and default is not None:
            answer = default
        problem = check(answer)
        if problem is None:
            return answer
        write(f"  {problem}\n")


class Checks:
    """Each answer checked by the configuration's own schemas: None, or what is wrong."""

    @staticmethod
    def board(value: str) -> str | None:
        """A board preset name, or ``none`` (no board: the URL says where the chip is)."""
        from drivers.boards import board_names

        if value == "none" or value in board_names():
            return None
        return f"unknown board {value!r}; one of: {', '.join(board_names())}, none"

    @staticmethod
    def region(value: str) -> str | None:
        """A region preset name (any case)."""
        from packet_forwarder.regions import region_names

        if value.upper() in region_names():
            return None
        return f"unknown region {value!r}; one of: {', '.join(region_names())}"

    @staticmethod
    def table(schema: type, key: str, values: dict[str, Any]) -> str | None:
        """``values`` loaded as the table ``schema`` (the loader's message on an error)."""
        from edge_agent.config_schema import load
        from edge_agent.errors import ConfigError

        try:
            load(schema, values, key)
        except ConfigError as exc:
            return str(exc)
        return None

    @classmethod
    def gateway_id(cls, value: str) -> str | None:
        """Empty, or 16 hexadecimal digits."""
        from edge_agent.config import GatewayConfig

        return None if not value else cls.table(GatewayConfig, "gateway", {"id": value})

    @classmethod
    def server(cls, value: str) -> str | None:
        """A ChirpStack MQTT URL (tcp://, mqtts://) or a Semtech UDP URL (udp://HOST:PORT)."""
        from edge_agent.config import MqttConfig, SemtechUdpConfig

        if value.startswith("udp://"):
            return cls.table(SemtechUdpConfig, "server", {"server": value})
        return cls.table(MqttConfig, "server", {"server": value})

    @staticmethod
    def file(value: str) -> str | None:
        """Empty, or an existing file."""
        return None if not value or os.path.isfile(value) else f"file not found: {value}"

    @classmethod
    def spool(cls, value: str) -> str | None:
        """A spool file path."""
        from edge_agent.spool_config import SpoolConfig

        return cls.table(SpoolConfig, "spool", {"path": value})


@dataclass
class Prompter:
    """Questions on a terminal: ``read`` shows a prompt and returns the line typed."""

    read: Callable[[str], str]
    write: Callable[[str], Any]
    secret: Callable[[str], str]

    def ask(self, question: str, default: str | None, check: Callable[[str], str | None]) -> str:
        """One question, asked again until the answer passes ``check``."""
        return ask(self.read, self.write, question, default, check)


def interactive(answers: InitAnswers, given: set[str], prompt: Prompter) -> InitAnswers:
    """Ask for every answer not ``given`` as a flag (by its flag name)."""
    from drivers.boards import board_names
    from packet_forwarder.regions import region_names

    if "board" not in given and "url" not in given:
        results = detect()
        found = [d for d in results if d.found]
        for line in detect_report(results):
            prompt.write(line)
        prompt.write(f"Boards: {', '.join(board_names())}; none = no board (the simulator)\n")
        board = prompt.ask("Board", found[0].board if found else "none", Checks.board)
        answers.board = None if board == "none" else board
        if found and answers.board == found[0].board:
            answers.url = found[0].url
    if "region" not in given:
        prompt.write(f"Regions: {', '.join(region_names())}\n")
        answers.region = prompt.ask("Region", answers.region, Checks.region).upper()
    if "gateway_id" not in given:
        gw = prompt.ask("Gateway id (empty: the chip's EUI)", "", Checks.gateway_id)
        answers.gateway_id = gw or None
    if "servers" not in given:
        _ask_servers(answers, prompt)
    if "spool" not in given:
        spool = prompt.ask("Spool file", answers.spool_path, Checks.spool)
        answers.spool_path = os.path.abspath(spool)
    return answers


def detect_report(results: list[Detected]) -> list[str]:
    """What detection says, one line per device probed."""
    if not results:
        return [f"No concentrator device: neither {SPI_DEVICE} nor {USB_GLOB} exists.\n"]
    return [
        f"Found {d.detail} on {d.url} (board {d.board} assumed; choose yours below).\n"
        if d.found
        else f"No concentrator answers on {d.url}: {d.detail}\n"
        for d in results
    ]


def _ask_servers(answers: InitAnswers, prompt: Prompter) -> None:
    prompt.write(
        "Network servers: mqtts://HOST:8883 (or tcp://HOST:1883) for ChirpStack, "
        "udp://HOST:1700 for Semtech UDP; an empty answer ends the list.\n"
    )
    while True:
        first = not answers.chirpstack and not answers.udp

        def check(value: str, first: bool = first) -> str | None:
            if not value:
                return "at least one network server is needed" if first else None
            return Checks.server(value)

        url = prompt.ask("Network server", None, check)
        if not url:
            return
        if url.startswith("udp://"):
            answers.udp.append(url)
            continue
        server = ChirpStackServer(url)
        if url.startswith(("mqtts://", "ssl://")):
            server.ca_cert = prompt.ask("CA certificate file (empty: system CAs)", "", Checks.file)
            server.tls_cert = prompt.ask("Client certificate file (empty: none)", "", Checks.file)
            if server.tls_cert:
                server.tls_key = prompt.ask("Client key file", None, _required_file)
        server.username = prompt.ask("MQTT username (empty: none)", "", lambda _v: None) or None
        if server.username:
            server.password = prompt.secret("MQTT password: ") or None
        for key in ("ca_cert", "tls_cert", "tls_key"):  # absolute: the daemon runs from /
            path = getattr(server, key)
            setattr(server, key, os.path.abspath(path) if path else None)
        answers.chirpstack.append(server)


def _required_file(value: str) -> str | None:
    return "a file is needed" if not value else Checks.file(value)
