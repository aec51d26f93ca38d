"""Per-backend filters: CRC status, LoRaWAN only, DevAddr and JoinEUI prefixes, NetIDs."""

from __future__ import annotations

from dataclasses import replace

from edge_agent.config import parse_config
from edge_agent.router import UplinkFilter, parse_header
from packet_forwarder.lorawan import MType, PhyHeader, dev_addr_in_net_id, dev_addr_nwk_id
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


# -- LoRaWAN filters (issue 10) ----------------------------------------------------------------

TTN_DEV_ADDR = 0x2601_2345  # NetID 000013 (type 0, NwkID 0x13): DevAddr 26000000/7
TYPE3_DEV_ADDR = 0xE05A_0001  # NetID 60002D (type 3, NwkID 0x02D)
JOIN_EUI = 0x70B3_D57E_D000_0001


def frame(header: PhyHeader) -> object:
    return replace(make_uplink(), phy_payload=header.to_bytes())


def data_up(dev_addr: int) -> object:
    return frame(PhyHeader(MType.UNCONFIRMED_DATA_UP, dev_addr=dev_addr, fcnt=1, fport=1))


def join(join_eui: int = JOIN_EUI) -> object:
    return frame(PhyHeader(MType.JOIN_REQUEST, join_eui=join_eui, dev_eui=1, dev_nonce=2))


PROPRIETARY = replace(make_uplink(), phy_payload=b"\xe0\x01\x02\x03\x04\x05")
NOT_LORAWAN = replace(make_uplink(), phy_payload=b"\x01\x02")


def verdict(filt: UplinkFilter, uplink: object) -> str | None:
    return filt.reason(uplink, parse_header(uplink.phy_payload))  # type: ignore[attr-defined]


def backend_filter(text: str) -> UplinkFilter:
    cfg = parse_config(
        '[[backend]]\nname = "b"\ntype = "chirpstack"\nserver = "tcp://h:1883"\n'
        f"[backend.filters]\n{text}"
    )
    return UplinkFilter.from_config(cfg.backends[0].filters)


def test_dev_addr_net_id_follows_the_backend_interfaces_types() -> None:
    assert dev_addr_nwk_id(TTN_DEV_ADDR) == (0, 0x13)
    assert dev_addr_nwk_id(TYPE3_DEV_ADDR) == (3, 0x2D)
    assert dev_addr_in_net_id(TTN_DEV_ADDR, 0x000013)
    assert dev_addr_in_net_id(TYPE3_DEV_ADDR, 0x60002D)
    assert not dev_addr_in_net_id(TTN_DEV_ADDR, 0x000014)
    assert not dev_addr_in_net_id(TYPE3_DEV_ADDR, 0x00002D)  # same low bits, other type


def test_dev_addr_prefixes_select_data_frames() -> None:
    filt = backend_filter('dev_addr_prefixes = ["26000000/7"]')
    assert verdict(filt, data_up(TTN_DEV_ADDR)) is None
    assert verdict(filt, data_up(0x2801_0000)) == "dev_addr"


def test_net_ids_select_data_frames_by_their_dev_addr() -> None:
    filt = backend_filter('net_ids = ["60002D"]')
    assert verdict(filt, data_up(TYPE3_DEV_ADDR)) is None
    assert verdict(filt, data_up(TTN_DEV_ADDR)) == "dev_addr"


def test_prefixes_and_net_ids_admit_either() -> None:
    filt = backend_filter('dev_addr_prefixes = ["26000000/7"]\nnet_ids = ["60002D"]')
    assert [verdict(filt, data_up(a)) for a in (TTN_DEV_ADDR, TYPE3_DEV_ADDR, 0x0)] == [
        None,
        None,
        "dev_addr",
    ]


def test_joins_go_where_the_join_eui_filter_admits_them() -> None:
    town = backend_filter('join_eui_prefixes = ["70b3d57ed0000000/32"]')
    other = backend_filter('join_eui_prefixes = ["0000000000000000/8"]')
    open_filter = backend_filter("")
    assert verdict(town, join()) is None
    assert verdict(other, join()) == "join_eui"
    assert verdict(open_filter, join()) is None  # no JoinEUI list: every join
    assert verdict(town, data_up(TTN_DEV_ADDR)) is None  # no DevAddr list: every data frame


def test_proprietary_and_non_lorawan_frames_only_where_lorawan_only_is_false() -> None:
    strict = backend_filter("lorawan_only = true")
    lax = backend_filter('dev_addr_prefixes = ["26000000/7"]')
    assert (verdict(strict, PROPRIETARY), verdict(strict, NOT_LORAWAN)) == (
        "proprietary",
        "not_lorawan",
    )
    assert (verdict(lax, PROPRIETARY), verdict(lax, NOT_LORAWAN)) == (None, None)
    assert verdict(strict, data_up(TTN_DEV_ADDR)) is None


def test_crc_is_checked_before_the_header() -> None:
    filt = backend_filter('dev_addr_prefixes = ["26000000/7"]\nforward_crc_invalid = true')
    bad = replace(data_up(TTN_DEV_ADDR), crc_status=CrcStatus.BAD)  # type: ignore[type-var]
    assert verdict(filt, bad) is None  # the alias of forward_crc_bad
    assert verdict(backend_filter(""), bad) == "crc_bad"


def test_rejoin_type_0_goes_by_net_id() -> None:
    rejoin = frame(PhyHeader(MType.REJOIN_REQUEST, rejoin_type=0, net_id=0x13, dev_eui=5))
    assert verdict(backend_filter('net_ids = ["000013"]'), rejoin) is None
    assert verdict(backend_filter('net_ids = ["60002D"]'), rejoin) == "net_id"


def test_lorawan_only_holds_back_downlinks_heard_from_other_gateways() -> None:
    down = frame(PhyHeader(MType.UNCONFIRMED_DATA_DOWN, dev_addr=TTN_DEV_ADDR, fcnt=1))
    assert verdict(backend_filter("lorawan_only = true"), down) == "downlink"
    assert verdict(backend_filter('dev_addr_prefixes = ["26000000/7"]'), down) is None
