"""Starting the daemon in-process on a fake concentrator for the ChirpStack parity tests."""

from __future__ import annotations

from edge_agent.config import parse_config
from edge_agent.service import AgentService
from tests.agent.fakes import FakeConcentrator


def start_service(
    running: list[AgentService], text: str, conc: FakeConcentrator, **kwargs: object
) -> AgentService:
    """An ``AgentService`` for config ``text`` on ``conc``, started, stopped at teardown."""
    svc = AgentService(parse_config(text), concentrator_factory=lambda _cfg: conc, **kwargs)  # type: ignore[arg-type]
    running.append(svc)
    svc.start()
    return svc


def wire_fields(payload: bytes) -> list[int]:
    """The field numbers of a protobuf message's top-level fields, in wire order."""
    fields, pos = [], 0
    while pos < len(payload):
        key, pos = _varint(payload, pos)
        number, wire_type = key >> 3, key & 7
        fields.append(number)
        if wire_type == 0:
            _, pos = _varint(payload, pos)
        elif wire_type == 2:
            length, pos = _varint(payload, pos)
            pos += length
        elif wire_type == 1:
            pos += 8
        elif wire_type == 5:
            pos += 4
        else:
            raise ValueError(f"wire type {wire_type} at byte {pos}")
    return fields


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos
