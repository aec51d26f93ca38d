"""LoRaWAN PHY header parsing, prefixes, and round trips through the same schema."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from packet_forwarder.errors import PhyError
from packet_forwarder.lorawan import (
    FCtrl,
    MType,
    PhyHeader,
    dev_addr_matches,
    eui_matches,
    parse_prefix,
)

# the unconfirmed data-up example of the lora-packet library's README (public LoRaWAN 1.0 frame)
DATA_UP = bytes.fromhex("40F17DBE4900020001954378762B11FF0D")
# a join request built by hand: JoinEUI 70B3D57ED0000001, DevEUI 0004A30B001C0530 (LE on air)
JOIN_REQUEST = (
    b"\x00"
    + bytes.fromhex("70B3D57ED0000001")[::-1]
    + bytes.fromhex("0004A30B001C0530")[::-1]
    + b"\x34\x12"
    + b"\xde\xad\xbe\xef"
)


def test_data_up_example_header_fields() -> None:
    hdr = PhyHeader.from_bytes(DATA_UP)
    assert hdr.mtype is MType.UNCONFIRMED_DATA_UP
    assert hdr.major == 0
    assert hdr.dev_addr_hex == "49be7df1"
    assert hdr.fctrl == FCtrl()
    assert (hdr.fcnt, hdr.fport) == (2, 1)
    assert hdr.frm_payload == bytes.fromhex("95437876")
    assert hdr.mic == bytes.fromhex("2B11FF0D")
    assert hdr.is_uplink


def test_join_request_euis_display_big_endian() -> None:
    hdr = PhyHeader.from_bytes(JOIN_REQUEST)
    assert hdr.mtype is MType.JOIN_REQUEST
    assert hdr.join_eui_hex == "70b3d57ed0000001"
    assert hdr.dev_eui_hex == "0004a30b001c0530"
    assert hdr.dev_nonce == 0x1234
    assert hdr.dev_addr is None and hdr.fcnt is None


def test_fctrl_bits_and_fopts_are_decoded() -> None:
    phy = bytes.fromhex("80 04030201 a3 0a00 020304 05 aa 11223344".replace(" ", ""))
    hdr = PhyHeader.from_bytes(phy)
    assert hdr.mtype is MType.CONFIRMED_DATA_UP
    assert hdr.fctrl == FCtrl(adr=True, adr_ack_req=False, ack=True, fpending=False, fopts_len=3)
    assert (hdr.dev_addr, hdr.fcnt, hdr.fopts, hdr.fport) == (0x01020304, 10, b"\x02\x03\x04", 5)


def test_data_frame_without_fport_has_fport_none() -> None:
    hdr = PhyHeader.from_bytes(bytes.fromhex("40010203040001000a0b0c0d"))
    assert hdr.fport is None and hdr.frm_payload == b""


def test_join_accept_keeps_the_encrypted_body() -> None:
    phy = bytes([0x20]) + bytes(range(12)) + b"\x01\x02\x03\x04"
    hdr = PhyHeader.from_bytes(phy)
    assert hdr.mtype is MType.JOIN_ACCEPT and hdr.payload == bytes(range(12))
    assert not hdr.is_uplink


def test_proprietary_frame_has_no_fields_beyond_mtype() -> None:
    hdr = PhyHeader.from_bytes(bytes([0xE0, 1, 2, 3, 4, 5, 6]))
    assert hdr.mtype is MType.PROPRIETARY
    assert (hdr.dev_addr, hdr.join_eui, hdr.dev_eui) == (None, None, None)


def test_rejoin_type_1_carries_join_and_dev_eui() -> None:
    phy = bytes([0xC0, 1]) + (7).to_bytes(8, "little") + (9).to_bytes(8, "little") + b"\x02\x00"
    hdr = PhyHeader.from_bytes(phy + b"\x00" * 4)
    assert (hdr.rejoin_type, hdr.join_eui, hdr.dev_eui, hdr.rj_count) == (1, 7, 9, 2)


@pytest.mark.parametrize(
    "phy",
    ["", "40", "40010203", "4001020304000100", "400102030403010001020304", "00" + "11" * 20],
    ids=["empty", "mhdr", "5-bytes-no-mic", "data-short", "fopts-short", "join-short"],
)
def test_too_short_frames_raise_phy_error(phy: str) -> None:
    with pytest.raises(PhyError):
        PhyHeader.from_bytes(bytes.fromhex(phy))


def test_phy_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        PhyHeader.from_bytes(b"\x40")


@pytest.mark.parametrize(
    ("addr", "prefix", "expected"),
    [
        (0x0000FF12, "0000ff00/24", True),
        (0x0001FF12, "0000ff00/24", False),
        (0x26011234, "26000000/7", True),
        (0x28011234, "26000000/7", False),
        (0xFFFFFFFF, "00000000/0", True),
        (0x01020304, "01020304/32", True),
        (0x01020305, "01020304/32", False),
    ],
)
def test_dev_addr_prefix(addr: int, prefix: str, expected: bool) -> None:
    assert dev_addr_matches(addr, prefix) is expected


def test_eui_prefix() -> None:
    assert eui_matches(0x0000FF0012345678, "0000ff0000000000/24")
    assert not eui_matches(0x0000FE0012345678, "0000ff0000000000/24")


@pytest.mark.parametrize("prefix", ["0000ff00/33", "00ff/8", "zz00ff00/8", "0000ff00/x"])
def test_bad_prefixes_are_refused(prefix: str) -> None:
    with pytest.raises(ValueError):
        parse_prefix(prefix, 32)


def test_prefix_without_length_is_exact() -> None:
    assert parse_prefix("0000ff00", 32) == (0xFF00, 32)


u32 = st.integers(0, 2**32 - 1)
u16 = st.integers(0, 2**16 - 1)
u64 = st.integers(0, 2**64 - 1)
mic = st.binary(min_size=4, max_size=4)


@given(
    mtype=st.sampled_from(
        [
            MType.UNCONFIRMED_DATA_UP,
            MType.UNCONFIRMED_DATA_DOWN,
            MType.CONFIRMED_DATA_UP,
            MType.CONFIRMED_DATA_DOWN,
        ]
    ),
    dev_addr=u32,
    bits=st.tuples(st.booleans(), st.booleans(), st.booleans(), st.booleans()),
    fcnt=u16,
    fopts=st.binary(max_size=15),
    fport=st.none() | st.integers(0, 255),
    frm=st.binary(max_size=64),
    mic=mic,
)
def test_data_frames_round_trip(mtype, dev_addr, bits, fcnt, fopts, fport, frm, mic) -> None:
    hdr = PhyHeader(
        mtype=mtype,
        mic=mic,
        dev_addr=dev_addr,
        fctrl=FCtrl(*bits, fopts_len=len(fopts)),
        fcnt=fcnt,
        fopts=fopts,
        fport=fport,
        frm_payload=frm if fport is not None else b"",
    )
    assert PhyHeader.from_bytes(hdr.to_bytes()) == hdr


@given(join_eui=u64, dev_eui=u64, nonce=u16, mic=mic, major=st.integers(0, 3))
def test_join_requests_round_trip(join_eui, dev_eui, nonce, mic, major) -> None:
    hdr = PhyHeader(
        MType.JOIN_REQUEST, major=major, mic=mic, join_eui=join_eui, dev_eui=dev_eui,
        dev_nonce=nonce,
    )  # fmt: skip
    raw = hdr.to_bytes()
    assert len(raw) == 23
    assert PhyHeader.from_bytes(raw) == hdr


@given(phy=st.binary(max_size=40))
def test_arbitrary_bytes_parse_or_raise_phy_error(phy: bytes) -> None:
    try:
        hdr = PhyHeader.from_bytes(phy)
    except PhyError:
        return
    assert hdr.to_bytes() == phy
