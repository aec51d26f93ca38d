"""The seams every package relies on: transport registry, context bytes, the CLI, the broker."""

from __future__ import annotations

import socket

import pytest

from drivers.errors import UnknownTransportError
from drivers.transport import open_transport, transport_schemes
from edge_agent.cli import main
from packet_forwarder.errors import ContextError
from packet_forwarder.model import make_context, parse_context


def test_unknown_scheme_names_the_known_ones() -> None:
    with pytest.raises(UnknownTransportError, match=r"'can'.*spi://"):
        open_transport("can://vcan0")


def test_registry_lists_spi_usb_and_sim() -> None:
    assert {"spi", "usb", "sim"} <= set(transport_schemes())


def test_context_starts_with_big_endian_count_us() -> None:
    context = make_context(0x01020304, 0xA0B0C0D0)
    assert context == bytes.fromhex("01020304a0b0c0d0")
    assert parse_context(context) == (0x01020304, 0xA0B0C0D0)


def test_legacy_four_byte_context_has_no_session() -> None:
    assert parse_context(bytes.fromhex("ffffffff")) == (0xFFFFFFFF, None)


def test_context_of_wrong_length_is_refused() -> None:
    with pytest.raises(ContextError, match="4 or 8 bytes"):
        parse_context(b"\x00" * 5)


def test_version_command_prints_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["version"]) == 0
    assert capsys.readouterr().out.startswith("edge-agent ")


def test_broker_fixture_restarts_on_same_port(broker) -> None:  # type: ignore[no-untyped-def]
    port = broker.port
    broker.stop()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        pass
    broker.start()
    assert broker.port == port
    with socket.create_connection(("127.0.0.1", port), timeout=1):
        pass
