"""One gateway, three networks: two ChirpStack brokers and a Semtech UDP server, split by filters.

The daemon runs in-process on a fake radio. ``metro`` (broker A) owns DevAddr 26000000/7 and
JoinEUI 70b3d57ed0000000/32; ``town`` (broker B) owns NetID 60002D and JoinEUI
0011223300000000/32; ``community`` (a GWMP server written here) owns DevAddr fc00ac00/24,
JoinEUI a000000000000000/4, and takes the proprietary frames the others refuse
(``lorawan_only``). Each server must receive exactly its share; stopping broker A delays only
metro's traffic, which arrives after the restart, in order, marked buffered.
"""

from __future__ import annotations

import base64
import time
from dataclasses import replace

import pytest
from chirpstack_api import gw

from edge_agent.config import parse_config
from edge_agent.service import AgentService
from edge_agent.supervision import Supervisor
from packet_forwarder.lorawan import MType, PhyHeader
from packet_forwarder.model import Uplink
from tests.agent.fakes import FakeConcentrator, make_uplink
from tests.agent.mqtt_helpers import GW_ID, Subscriber, persistent_broker
from tests.backends.udp_server import UdpServer
from tests.waiting import wait_until

pytestmark = [pytest.mark.broker, pytest.mark.timeout(120)]

METRO_ADDR, TOWN_ADDR, COMMUNITY_ADDR, STRANGER_ADDR = (
    0x2600_0000, 0xE05A_0000, 0xFC00_AC00, 0x4800_0000)  # fmt: skip
METRO_JOIN, TOWN_JOIN, COMMUNITY_JOIN, STRANGER_JOIN = (
    0x70B3_D57E_D000_0001, 0x0011_2233_0000_0001, 0xA000_0000_0000_0001,
    0x5555_0000_0000_0000)  # fmt: skip


def config(metro: str, town: str, community: str, spool: str) -> str:
    return f"""
[gateway]
id = "{GW_ID}"
stats_interval_s = 600
[concentrator]
url = "sim://"
region = "EU868"
[spool]
path = "{spool}"

[[backend]]
name = "metro"
type = "chirpstack"
server = "{metro}"
reconnect_min_s = 0.1
reconnect_max_s = 0.5
[backend.filters]
lorawan_only = true
dev_addr_prefixes = ["26000000/7"]
join_eui_prefixes = ["70b3d57ed0000000/32"]

[[backend]]
name = "town"
type = "chirpstack"
server = "{town}"
reconnect_min_s = 0.1
reconnect_max_s = 0.5
[backend.filters]
lorawan_only = true
net_ids = ["60002D"]
join_eui_prefixes = ["0011223300000000/32"]

[[backend]]
name = "community"
type = "semtech_udp"
server = "{community}"
keepalive_interval_s = 0.5
push_timeout_ms = 100
stat_interval_s = 600
[backend.filters]
dev_addr_prefixes = ["fc00ac00/24"]
join_eui_prefixes = ["a000000000000000/4"]
"""


def data_up(dev_addr: int, fcnt: int) -> Uplink:
    header = PhyHeader(MType.UNCONFIRMED_DATA_UP, dev_addr=dev_addr + fcnt, fcnt=fcnt, fport=1)
    return replace(make_uplink(fcnt), phy_payload=header.to_bytes(), gw_time=time.time())


def join(join_eui: int, dev_eui: int) -> Uplink:
    header = PhyHeader(MType.JOIN_REQUEST, join_eui=join_eui, dev_eui=dev_eui, dev_nonce=1)
    return replace(make_uplink(dev_eui), phy_payload=header.to_bytes(), gw_time=time.time())


def proprietary(n: int) -> Uplink:
    phy = bytes([0xE0, n, 1, 2, 3, 4, 5])
    return replace(make_uplink(n), phy_payload=phy, gw_time=time.time())


def label(phy: bytes) -> str:
    """What a server got, as a short name: d<fcnt>, j<dev_eui>, p<n>."""
    header = PhyHeader.from_bytes(phy)
    if header.mtype is MType.JOIN_REQUEST:
        return f"j{header.dev_eui}"
    if header.mtype is MType.PROPRIETARY:
        return f"p{phy[1]}"
    return f"d{header.fcnt}"


def mqtt_labels(sub: Subscriber, count: int, timeout: float = 15.0) -> list[tuple[str, bool]]:
    frames = [
        gw.UplinkFrame.FromString(m.payload) for m in sub.collect("/event/up", count, timeout)
    ]
    return [(label(f.phy_payload), f.rx_info.metadata.get("buffered") == "true") for f in frames]


def udp_labels(server: UdpServer, count: int) -> list[str]:
    out: list[str] = []
    while len(out) < count:
        for got in server.rxpk_pushes(1):
            out += [label(base64.b64decode(r["data"])) for r in got.datagram.payload["rxpk"]]
    return out


def nothing_more(sub: Subscriber) -> bool:
    time.sleep(0.5)
    return sub.messages.empty()


def test_three_networks_share_one_gateway_and_one_outage_delays_only_its_own(
    broker_factory, running, tmp_path
) -> None:
    broker_a = persistent_broker(broker_factory)
    broker_b = broker_factory().start()
    udp = UdpServer()
    sub_a = Subscriber(broker_a.port, "+/gateway/+/event/up", persistent=True)
    sub_b = Subscriber(broker_b.port, "+/gateway/+/event/up")
    conc = FakeConcentrator(hold=True, per_poll=4)
    text = config(broker_a.url, broker_b.url, udp.url, str(tmp_path / "spool.db"))
    svc = AgentService(parse_config(text), concentrator_factory=lambda _cfg: conc)
    running.append(svc)
    try:
        svc.start()
        wait_until(lambda: all(b.connected.is_set() for b in svc.backends), 15)
        # the mixed scenario: every network's data and joins, strangers, proprietary frames
        conc.feed([
            data_up(METRO_ADDR, 1), data_up(TOWN_ADDR, 2), data_up(COMMUNITY_ADDR, 3),
            data_up(STRANGER_ADDR, 4), join(METRO_JOIN, 5), join(TOWN_JOIN, 6),
            join(COMMUNITY_JOIN, 7), join(STRANGER_JOIN, 8), proprietary(9),
            data_up(METRO_ADDR, 10), data_up(TOWN_ADDR, 11),
        ])  # fmt: skip
        assert mqtt_labels(sub_a, 3) == [("d1", False), ("j5", False), ("d10", False)]
        assert mqtt_labels(sub_b, 3) == [("d2", False), ("j6", False), ("d11", False)]
        assert udp_labels(udp, 3) == ["d3", "j7", "p9"]
        assert nothing_more(sub_a) and nothing_more(sub_b) and udp.pushes.empty()
        assert svc.counters.filtered == 2  # the stranger's data frame and join: nobody's

        broker_a.stop()  # metro's broker goes away; the others must not notice
        wait_until(lambda: not svc.backends[0].connected.is_set())
        conc.feed([data_up(METRO_ADDR, 20), data_up(TOWN_ADDR, 21), data_up(COMMUNITY_ADDR, 22),
                   data_up(METRO_ADDR, 23), data_up(TOWN_ADDR, 24)])  # fmt: skip
        assert mqtt_labels(sub_b, 2, timeout=5) == [("d21", False), ("d24", False)]
        assert udp_labels(udp, 1) == ["d22"]
        wait_until(lambda: svc.backends[1].store.pending() == svc.backends[2].store.pending() == 0)
        metro, town, community = (svc.backends[i].status() for i in range(3))
        assert (metro["connected"], metro["queue"]["pending"]) == (False, 2)
        assert (town["connected"], town["queue"]["pending"], town["delivered"]) == (True, 0, 5)
        assert community["delivered"] == 4 and community["rtt_ms"] is not None

        broker_a.start()  # metro's two held uplinks arrive now, in order, marked buffered
        assert mqtt_labels(sub_a, 2) == [("d20", True), ("d23", True)]
        wait_until(lambda: svc.uplinks.pending() == 0)
        document = Supervisor(svc).document()
        assert set(document["backends"]) == {"metro", "town", "community"}
        doc_metro = document["backends"]["metro"]
        assert (doc_metro["connected"], doc_metro["delivered"]) == (True, 5)
        assert doc_metro["last_ack_age_s"] is not None and doc_metro["rtt_ms"] is not None
        assert doc_metro["queue"] == {"pending": 0, "bytes": 0, "oldest_age_s": 0.0, "dropped": 0}
        assert document["spool"]["backends"]["town"]["delivered"] == 5
    finally:
        sub_a.close()
        sub_b.close()
        svc.stop()
        udp.close()
