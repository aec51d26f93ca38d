"""Per-backend CRC filters."""

from __future__ import annotations

from edge_agent.config import parse_config
from edge_agent.router import UplinkFilter
from packet_forwarder.model import CrcStatus
from tests.agent.fakes import make_uplink


def test_default_forwards_only_crc_ok() -> None:
    filt = UplinkFilter.from_config(parse_config("").mqtt.filters)
    results = [filt.accept(make_uplink(crc=c)) for c in CrcStatus]
    assert results == [True, False, False]
    assert filt.filtered == {"crc_bad": 1, "crc_none": 1}
    assert (filt.forwarded, filt.filtered_total) == (1, 2)


def test_bad_crc_forwarded_when_enabled() -> None:
    filt = UplinkFilter.from_config(
        parse_config("[mqtt.filters]\nforward_crc_bad = true").mqtt.filters
    )
    assert filt.accept(make_uplink(crc=CrcStatus.BAD)) is True


def test_crc_ok_can_be_held_back() -> None:
    filt = UplinkFilter(forward_crc_ok=False)
    assert filt.reason(make_uplink()) == "crc_ok"
