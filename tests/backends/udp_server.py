"""A loopback GWMP server for the Semtech UDP backend's tests: acks, drops, downlinks, garbage."""

from __future__ import annotations

import queue
import socket
import threading
from dataclasses import dataclass

from packet_forwarder import gwmp
from packet_forwarder.errors import GwmpError


@dataclass(frozen=True)
class Got:
    """One datagram the server received, decoded, with its raw bytes."""

    datagram: gwmp.Datagram
    raw: bytes


class UdpServer:
    """Answers PUSH_DATA with PUSH_ACK and PULL_DATA with PULL_ACK, unless told otherwise."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.pushes: queue.Queue[Got] = queue.Queue()
        self.pulls: queue.Queue[Got] = queue.Queue()
        self.tx_acks: queue.Queue[Got] = queue.Queue()
        self.ack_pushes = True
        self.ack_pulls = True
        #: how many of the next PUSH_DATA carrying rxpk to leave unanswered
        self.drop_pushes = 0
        self.down_addr: tuple[str, int] | None = None
        self.pulled = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="udp-server", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"udp://127.0.0.1:{self.port}"

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data, addr = self.sock.recvfrom(65_535)
            except (TimeoutError, OSError):
                continue
            try:
                datagram = gwmp.parse_datagram(data)
            except GwmpError:
                continue
            if isinstance(datagram, gwmp.PushData):
                self.pushes.put(Got(datagram, data))
                if "rxpk" in datagram.payload and self.drop_pushes > 0:
                    self.drop_pushes -= 1
                elif self.ack_pushes:
                    self.sock.sendto(gwmp.PushAck(datagram.token).to_bytes(), addr)
            elif isinstance(datagram, gwmp.PullData):
                self.down_addr = addr
                self.pulls.put(Got(datagram, data))
                if self.ack_pulls:
                    self.sock.sendto(gwmp.PullAck(datagram.token).to_bytes(), addr)
                    self.pulled.set()
            elif isinstance(datagram, gwmp.TxAck):
                self.tx_acks.put(Got(datagram, data))

    def send_down(self, data: bytes) -> None:
        """Send raw bytes to the gateway's down socket (known from its last PULL_DATA)."""
        assert self.pulled.wait(10), "no PULL_DATA arrived"
        assert self.down_addr is not None
        self.sock.sendto(data, self.down_addr)

    def rxpk_pushes(self, count: int, timeout: float = 10.0) -> list[Got]:
        """The next ``count`` PUSH_DATA datagrams carrying rxpk (stat ones skipped)."""
        out: list[Got] = []
        while len(out) < count:
            got = self.pushes.get(timeout=timeout)
            if "rxpk" in got.datagram.payload:  # type: ignore[union-attr]
                out.append(got)
        return out

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()
