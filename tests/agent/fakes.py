"""A fake concentrator for the daemon tests: plays a list of Uplinks, then is exhausted."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable

from edge_agent.backends.chirpstack import ChirpStackBackend, codec
from edge_agent.store.memory import MemoryUplinkStore
from packet_forwarder.model import CrcStatus, Modulation, TxAck, Uplink

SESSION_ID = 0x5E55_1011
EUI = 0x0016C001FF10A235


def make_uplink(
    n: int = 0,
    *,
    crc: CrcStatus = CrcStatus.OK,
    modulation: Modulation = Modulation.LORA,
    rssi_dbm: float = -57.6,
    gw_time: float = 1_700_000_000.25,
) -> Uplink:
    """Uplink number ``n``: a LoRaWAN unconfirmed data-up with FCnt ``n``."""
    payload = bytes([0x40, 0x04, 0x03, 0x02, 0x01, 0x80, n & 0xFF, n >> 8 & 0xFF, 0x01, 0xAA])
    payload += bytes(4)
    fsk = modulation is Modulation.FSK
    return Uplink(
        phy_payload=payload,
        freq_hz=868_100_000 + 200_000 * (n % 3),
        modulation=modulation,
        bandwidth_hz=125_000,
        sf=0 if fsk else 7 + n % 6,
        code_rate="" if fsk else "4/5",
        rssi_dbm=rssi_dbm,
        snr_db=9.25,
        channel=9 if fsk else n % 8,
        rf_chain=1,
        crc_status=crc,
        count_us=0x1000_0000 + 1000 * n,
        session_id=SESSION_ID,
        gw_time=gw_time + n,
        datarate_bps=50_000 if fsk else None,
    )


class FakeConcentrator:
    """Returns its uplinks ``per_poll`` at a time after ``start``; ``start`` may fail first."""

    def __init__(
        self,
        uplinks: Iterable[Uplink] = (),
        *,
        per_poll: int = 1,
        start_failures: int = 0,
        poll_errors: int = 0,
        hold: bool = False,
    ) -> None:
        self._uplinks = list(uplinks)
        self.per_poll = per_poll
        self.start_failures = start_failures
        self.poll_errors = poll_errors
        #: while set, polls return nothing and the source is not exhausted (a live radio)
        self.hold = threading.Event()
        if hold:
            self.hold.set()
        self.session_id = SESSION_ID
        self.eui = EUI
        self.started = 0
        self.stopped = False
        self.closed = False
        self.lock = threading.RLock()

    @property
    def exhausted(self) -> bool:
        return not self._uplinks and not self.hold.is_set()

    def feed(self, uplinks: Iterable[Uplink]) -> None:
        """Add uplinks to play (a live radio receiving more)."""
        with self.lock:
            self._uplinks.extend(uplinks)

    def start(self) -> None:
        self.started += 1
        if self.start_failures > 0:
            self.start_failures -= 1
            raise OSError("simulated SPI failure")

    def poll_once(self) -> list[Uplink]:
        if self.poll_errors > 0:
            self.poll_errors -= 1
            raise ValueError("simulated bad RX record")
        with self.lock:
            if self.hold.is_set() and not self._uplinks:
                return []
            out, self._uplinks = self._uplinks[: self.per_poll], self._uplinks[self.per_poll :]
            return out

    def counter_us(self) -> int:
        return 0

    def stop(self) -> None:
        self.stopped = True

    def close(self) -> None:
        self.stop()
        self.closed = True

    def stats(self) -> dict[str, int]:
        return {}


def chirpstack_backend_config(cfg: object) -> object:
    """The configuration's first chirpstack backend (the legacy ``[mqtt]`` table's)."""
    return next(b for b in cfg.backends if b.type == "chirpstack")  # type: ignore[attr-defined]


class AckRecordingBackend(ChirpStackBackend):
    """A ChirpStack backend that is never started: its encoded acks are recorded."""

    def __init__(
        self, cfg: object, name: str = "chirpstack", gateway_id: str = "0016c001ff10a235"
    ) -> None:
        backend_cfg = dataclasses.replace(chirpstack_backend_config(cfg), name=name)  # type: ignore[type-var]
        super().__init__(backend_cfg, MemoryUplinkStore())
        self.gateway_id = gateway_id
        self.acks: list[bytes] = []

    def _send_ack(self, ack: TxAck) -> None:
        self.acks.append(codec.tx_ack(ack, self.gateway_id or "", self.mqtt.marshaler))
