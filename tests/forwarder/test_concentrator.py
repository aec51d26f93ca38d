"""The concentrator step with a fake chip that speaks the driver API."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pytest

from drivers.sx1302.plan import eu868_corecell_plan
from drivers.sx1302.rx_record import RxRecord, lora_payload_crc
from packet_forwarder.concentrator import DEFAULT_TEMPERATURE_C, Concentrator, RateLimitedLog
from packet_forwarder.errors import ForwardError
from packet_forwarder.model import CrcStatus
from tests.forwarder.test_uplink import hal_expand, records_of
from tests.vectors import rx_fifo_cases

PLAN = eu868_corecell_plan()


@dataclass
class FakeParse:
    records: tuple[RxRecord, ...] = ()
    errors: dict[str, int] = field(default_factory=dict)
    bytes_read: int = 0
    skipped_bytes: int = 0


class FakeChip:
    """The DRIVER_API surface of SX1302, answering from queued FIFO parses."""

    def __init__(self, transport: object, inst_ticks: int = 0) -> None:
        self.transport = transport
        self.fetches: list[FakeParse] = []
        self.inst_ticks = inst_ticks
        self.calls: list[str] = []

    def version(self) -> int:
        self.calls.append("version")
        return 0x10

    def model(self) -> str:
        return "SX1302"

    def eui(self) -> int:
        return 0x0016C001FF1A08F0

    def start(self, plan: object) -> None:
        self.calls.append("start")

    def stop(self) -> None:
        self.calls.append("stop")

    def read_counter(self) -> int:
        self.calls.append("read_counter")
        return (self.inst_ticks // 32) & 0xFFFF_FFFF

    def fetch_rx(self) -> FakeParse:
        self.calls.append("fetch_rx")
        return self.fetches.pop(0) if self.fetches else FakeParse()

    def expand_timestamp(self, ticks: int) -> int:
        return hal_expand(self.inst_ticks, ticks)


class FakeTransport:
    exhausted = False
    closes = 0

    def close(self) -> None:
        self.closes += 1


def record(**fields: object) -> RxRecord:
    payload = fields.pop("payload", b"\x40\x04\x03\x02\x01\x80\x05\x00\x01\xaa\xbb\xcc\xdd")
    values = {
        "payload": payload, "if_chain": 3, "sf": 9, "coding_rate": 1, "crc_en": True,
        "modem_id": 3, "freq_offset_raw": 0, "crc_error": False, "sync_error": False,
        "header_error": False, "timing_set": False, "snr_raw": 20, "rssi_chan_raw": 110,
        "rssi_sig_raw": 108, "timestamp": 64_000_000, "crc16": lora_payload_crc(payload),
    }  # fmt: skip
    values.update(fields)
    return RxRecord(**values)


def make(temperature=lambda: 25.0, clock=lambda: 1000.0, transport=None):
    chips: list[FakeChip] = []

    def factory(t: object) -> FakeChip:
        chips.append(FakeChip(t, inst_ticks=96_000_000))
        return chips[-1]

    conc = Concentrator(
        transport or FakeTransport(),
        PLAN,
        temperature_c=temperature,
        clock=clock,
        chip_factory=factory,
    )
    return conc, chips


def test_start_reads_identity_and_opens_a_nonzero_session() -> None:
    conc, chips = make()
    conc.start()
    assert (conc.version, conc.model, conc.eui) == (0x10, "SX1302", 0x0016C001FF1A08F0)
    assert 0 < conc.session_id <= 0xFFFF_FFFF
    assert chips[0].calls[:2] == ["version", "start"]


def test_each_start_opens_a_new_session() -> None:
    conc, _ = make()
    sessions = set()
    for _ in range(3):
        conc.start()
        sessions.add(conc.session_id)
        conc.stop()
    assert len(sessions) == 3


def test_poll_before_start_raises() -> None:
    conc, _ = make()
    with pytest.raises(ForwardError, match="not started"):
        conc.poll_once()


def test_stop_is_idempotent_and_stops_the_chip_once() -> None:
    conc, chips = make()
    conc.start()
    conc.stop()
    conc.stop()
    assert chips[0].calls.count("stop") == 1
    assert not conc.started


def test_poll_reads_the_counter_before_fetching() -> None:
    conc, chips = make()
    conc.start()
    conc.poll_once()
    assert chips[0].calls[-2:] == ["read_counter", "fetch_rx"]


def test_poll_converts_records_with_session_clock_and_temperature() -> None:
    conc, chips = make(temperature=lambda: 25.0, clock=lambda: 1234.5)
    conc.start()
    chips[0].fetches.append(FakeParse(records=(record(),), bytes_read=40))
    (up,) = conc.poll_once()
    assert up.freq_hz == 867_100_000
    assert (up.session_id, up.gw_time) == (conc.session_id, 1234.5)
    assert up.rssi_dbm == pytest.approx(110 - 215.4 + 1.02, abs=0.01)
    assert (
        up.count_us == 2_000_000 - 1958
    )  # 64e6 ticks / 32, minus the SF9/125 kHz/13 B decoder delay


def test_poll_reproduces_the_hal_for_a_multi_record_vector() -> None:
    case = next(c for c in rx_fifo_cases() if c["category"] == "multi_valid")
    rx = case["lgw_receive"]
    conc, chips = make(temperature=lambda: rx["temperature_c"])
    conc.start()
    chips[0].inst_ticks = rx["counter_inst_ticks"]
    chips[0].fetches.append(FakeParse(records=tuple(records_of(case)), bytes_read=1))
    uplinks = conc.poll_once()
    assert [u.count_us for u in uplinks] == [p["count_us"] for p in rx["packets"]]
    assert [u.freq_hz for u in uplinks] == [p["freq_hz"] for p in rx["packets"]]


def test_temperature_is_read_once_per_poll_with_records_only() -> None:
    reads = []
    conc, chips = make(temperature=lambda: reads.append(1) or 30.0)
    conc.start()
    conc.poll_once()
    chips[0].fetches.append(FakeParse(records=(record(), record()), bytes_read=80))
    conc.poll_once()
    assert len(reads) == 1


def test_failing_temperature_keeps_the_last_value() -> None:
    values = iter([40.0])

    def source() -> float:
        return next(values)  # StopIteration on the second call

    conc, chips = make(temperature=source)
    conc.start()
    chips[0].fetches += [FakeParse(records=(record(),), bytes_read=40)] * 2
    first = conc.poll_once()[0]
    second = conc.poll_once()[0]
    assert second.rssi_dbm == first.rssi_dbm
    assert conc.stats()["temperature_c"] == 40.0


def test_failing_temperature_before_any_reading_uses_the_default() -> None:
    def broken() -> float:
        raise OSError("i2c read failed")

    conc, chips = make(temperature=broken)
    ref, _ = make(temperature=lambda: DEFAULT_TEMPERATURE_C)
    for c in (conc, ref):
        c.start()
    chips[0].fetches.append(FakeParse(records=(record(),), bytes_read=40))
    ref._chip.fetches.append(FakeParse(records=(record(),), bytes_read=40))
    assert conc.poll_once()[0].rssi_dbm == ref.poll_once()[0].rssi_dbm


def test_stats_count_status_frequency_channel_and_sf() -> None:
    conc, chips = make(clock=lambda: 77.0)
    conc.start()
    recs = (
        record(),
        record(crc_error=True),
        record(crc_en=False, if_chain=0, sf=7),
    )
    chips[0].fetches.append(FakeParse(records=recs, bytes_read=120))
    conc.poll_once()
    stats = conc.stats()
    assert (stats["rx_received"], stats["rx_ok"], stats["rx_bad_crc"], stats["rx_no_crc"]) == (
        3, 1, 1, 1,
    )  # fmt: skip
    assert stats["rx_per_frequency"] == {867_100_000: 2, 868_100_000: 1}
    assert stats["rx_per_channel"] == {3: 2, 0: 1}
    assert stats["rx_per_sf"] == {"SF9": 2, "SF7": 1}
    assert stats["last_uplink"] == 77.0


def test_crc_mismatch_record_is_counted_bad_and_still_forwarded() -> None:
    conc, chips = make()
    conc.start()
    bad = record(crc16=0x1234)
    chips[0].fetches.append(FakeParse(records=(bad,), errors={"crc_mismatch": 1}, bytes_read=40))
    (up,) = conc.poll_once()
    assert up.crc_status is CrcStatus.BAD
    assert conc.stats()["bad_records"] == {"crc_mismatch": 1}


def test_parse_errors_accumulate_by_kind() -> None:
    conc, chips = make()
    conc.start()
    chips[0].fetches += [
        FakeParse(errors={"checksum": 1, "garbage": 3}, bytes_read=50),
        FakeParse(errors={"checksum": 2}, bytes_read=50),
    ]
    conc.poll_once()
    conc.poll_once()
    assert conc.stats()["bad_records"] == {"checksum": 3, "garbage": 3}


def test_unmappable_records_are_dropped_and_counted() -> None:
    conc, chips = make()
    conc.start()
    chips[0].fetches.append(FakeParse(records=(record(sf=3), record()), bytes_read=80))
    assert len(conc.poll_once()) == 1
    assert conc.stats()["bad_records"] == {"bad_sf": 1}


def test_bad_data_warnings_are_rate_limited(caplog: pytest.LogCaptureFixture) -> None:
    conc, chips = make()
    conc.start()
    chips[0].fetches += [FakeParse(errors={"checksum": 1}, bytes_read=50)] * 3
    with caplog.at_level(logging.WARNING, logger="packet_forwarder.concentrator"):
        for _ in range(3):
            conc.poll_once()
    assert len([r for r in caplog.records if "checksum" in r.getMessage()]) == 1


def test_rate_limited_log_reports_suppressed_count_after_the_interval(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    log = RateLimitedLog(logging.getLogger("t.rl"), interval_s=10, monotonic=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="t.rl"):
        assert log.warning("k", "bad %s", "x")
        assert not log.warning("k", "bad %s", "x")
        now[0] = 11.0
        assert log.warning("k", "bad %s", "x")
    assert caplog.records[-1].getMessage() == "bad x (1 similar suppressed)"


def test_exhausted_needs_an_exhausted_transport_and_an_empty_fetch() -> None:
    transport = FakeTransport()
    conc, chips = make(transport=transport)
    conc.start()
    transport.exhausted = True
    chips[0].fetches.append(FakeParse(records=(record(),), bytes_read=40))
    conc.poll_once()
    assert not conc.exhausted
    conc.poll_once()
    assert conc.exhausted


def test_counter_us_reads_the_chip_counter() -> None:
    conc, _ = make()
    conc.start()
    assert conc.counter_us() == 3_000_000


def test_failed_bring_up_leaves_the_concentrator_stopped() -> None:
    class NoChip(FakeChip):
        def version(self) -> int:
            raise OSError("chip version reads 0x00")

    conc = Concentrator(FakeTransport(), PLAN, temperature_c=lambda: 25.0, chip_factory=NoChip)
    with pytest.raises(OSError):
        conc.start()
    assert not conc.started and conc.session_id == 0


def test_lock_is_reentrant_so_callers_can_group_chip_accesses() -> None:
    conc, _ = make()
    conc.start()
    with conc.lock:
        assert conc.counter_us() == 3_000_000
        assert conc.poll_once() == []


def test_close_stops_the_chip_and_closes_the_transport_once() -> None:
    transport = FakeTransport()
    conc, chips = make(transport=transport)
    conc.start()
    conc.close()
    conc.close()
    assert chips[0].calls.count("stop") == 1
    assert not conc.started
    assert transport.closes == 1


def test_a_closed_concentrator_cannot_start_again() -> None:
    conc, chips = make()
    conc.close()
    with pytest.raises(ForwardError, match="closed"):
        conc.start()
    assert chips == []


def test_close_calls_on_close_once_after_the_transport() -> None:
    transport = FakeTransport()
    seen: list[int] = []
    conc = Concentrator(
        transport, PLAN, temperature_c=lambda: 25.0, on_close=lambda: seen.append(transport.closes)
    )
    conc.close()
    conc.close()
    assert seen == [1]
