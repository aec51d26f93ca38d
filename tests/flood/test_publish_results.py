"""Issue 14.1: every ``publish()`` result is checked; a refused uplink batch is kept, in order,
and published again at once (no disconnect awaited); acks wait behind uplinks within a budget."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import paho.mqtt.client as mqtt

from edge_agent.backends.chirpstack import backend as cs
from edge_agent.config import parse_config
from edge_agent.store.memory import MemoryUplinkStore
from packet_forwarder.model import TxAck, TxStatus

GW_ID = "0016c001ff10a235"


class FakeClient:
    """paho's ``publish()`` only: refuses the calls whose index is in ``refuse``."""

    def __init__(self, refuse: set[int]) -> None:
        self.refuse = refuse
        self.calls = 0
        self.published: list[tuple[str, bytes]] = []

    def publish(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> Any:
        index, self.calls = self.calls, self.calls + 1
        if index in self.refuse:
            return SimpleNamespace(rc=mqtt.MQTT_ERR_QUEUE_SIZE, mid=0)
        self.published.append((topic, payload))
        return SimpleNamespace(rc=mqtt.MQTT_ERR_SUCCESS, mid=index + 1)


def backend_with(client: FakeClient) -> cs.ChirpStackBackend:
    cfg = parse_config(
        f'[gateway]\nid = "{GW_ID}"\n[concentrator]\nurl = "sim://"\nregion = "EU868"\n'
        '[mqtt]\nserver = "tcp://127.0.0.1:1"\n'
    )
    backend = cs.ChirpStackBackend(cfg.backends[0], MemoryUplinkStore())
    backend.gateway_id = GW_ID
    backend._client = client  # type: ignore[assignment]
    backend.connected.set()
    return backend


def uplink_seqs(backend: cs.ChirpStackBackend) -> list[int]:
    return [seq for seq, _sent in backend._inflight.values()]


def test_refused_uplink_and_the_rest_of_its_batch_go_first_next_step_in_order() -> None:
    client = FakeClient(refuse={2})
    backend = backend_with(client)
    seqs = [backend.store.append(b"up%d" % i, received_at=0.0, buffered=False) for i in range(5)]
    backend._publish_pending()
    assert uplink_seqs(backend) == seqs[:2]
    assert backend.counters.publish_failures == 1
    assert backend.stats()["publish_failures"] == 1
    backend.store.append(b"newer", received_at=0.0, buffered=False)
    backend._publish_pending()  # at once: no disconnect, no rewind
    assert uplink_seqs(backend) == [*seqs, seqs[-1] + 1]
    assert backend.counters.uplinks_published == 6


def test_acks_go_after_uplinks_within_window_and_queue_bound() -> None:
    client = FakeClient(refuse=set())
    backend = backend_with(client)
    for i in range(cs.ACK_QUEUE_MAX + 5):
        backend.publish_ack(TxAck(i, (TxStatus.OK,)))
    assert backend.link.acks_dropped == 5 and not backend.ack_room()
    backend.store.append(b"up", received_at=0.0, buffered=False)
    backend._publish_pending()
    backend._publish_acks()
    topics = [topic.rsplit("/", 1)[-1] for topic, _p in client.published]
    assert topics == ["up"] + ["ack"] * cs.ACK_WINDOW  # QoS 1: the window holds the rest
    assert len(backend._acks) == cs.ACK_QUEUE_MAX - cs.ACK_WINDOW
