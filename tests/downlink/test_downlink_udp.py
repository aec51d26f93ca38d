"""A Semtech UDP downlink end to end: PULL_RESP -> the shared JIT queue -> on air -> TX_ACK.

The daemon runs on the simulated SX1302 with a virtual clock (tests/downlink/harness.py), with
its ChirpStack backend and a Semtech UDP backend on a loopback GWMP server. The server answers
the uplink's ``rxpk`` with a ``txpk`` at ``tmst`` + 1 s, as a network server does for RX1.
"""

from __future__ import annotations

import base64

import pytest

from packet_forwarder import gwmp
from tests.backends.udp_server import UdpServer
from tests.downlink.harness import PHY_DOWN, running_agent

pytestmark = [pytest.mark.broker]

WRAP = 1 << 32


def txpk(tmst: int) -> dict[str, object]:
    return {"tmst": tmst, "freq": 868.1, "rfch": 0, "powe": 14, "modu": "LORA",
            "datr": "SF7BW125", "codr": "4/5", "ipol": True, "size": len(PHY_DOWN),
            "data": base64.b64encode(PHY_DOWN).decode()}  # fmt: skip


def test_pull_resp_leaves_at_tmst_plus_1s_and_answers_tx_ack(broker, tmp_path) -> None:
    server = UdpServer()
    udp = (
        f'[[backend]]\nname = "community"\ntype = "semtech_udp"\nserver = "{server.url}"\n'
        "keepalive_interval_s = 0.2\n"
    )
    try:
        with running_agent(tmp_path, broker, extra=udp) as agent:
            community = agent.svc.backends[1]
            assert community.connected.wait(10)
            agent.next_uplink()  # the MQTT copy; the UDP one carries the same counter
            (got,) = server.rxpk_pushes(1)
            (rxpk,) = got.datagram.payload["rxpk"]  # type: ignore[union-attr]
            tmst = (rxpk["tmst"] + 1_000_000) % WRAP
            server.send_down(gwmp.PullResp(0x0BAD, {"txpk": txpk(tmst)}).to_bytes())
            ack = server.tx_acks.get(timeout=10).datagram
            assert isinstance(ack, gwmp.TxAck) and ack.token == 0x0BAD
            assert ack.payload == {"txpk_ack": {"error": "NONE"}}
            sent = agent.play_until_sent(tmst)
            assert [t.count_us for t in sent] == [tmst]
            [line] = agent.tx_log_lines()
            assert (line["count_us"], line["freq_hz"], line["sf"], line["phy"]) == (
                tmst, 868_100_000, 7, PHY_DOWN.hex())  # fmt: skip
            # the ChirpStack side hears nothing of the other network's downlink
            heard = list(agent.events.messages.queue)
            assert not any(m.topic.endswith("/event/ack") for m in heard)
    finally:
        server.close()
