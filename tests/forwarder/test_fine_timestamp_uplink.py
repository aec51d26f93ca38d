"""Fine-timestamp mode (SX1303) in record -> Uplink: correction, ftime, dual-demod merge, order."""

from __future__ import annotations

from dataclasses import replace

from drivers.sx1302 import fine_timestamp as ft
from drivers.sx1302.counter import CounterTracker
from drivers.sx1302.plan import eu868_corecell_plan
from drivers.sx1302.rx_record import RxRecord, lora_payload_crc
from packet_forwarder.concentrator import Concentrator
from packet_forwarder.model import CrcStatus
from packet_forwarder.uplink import merge_dual_demod, record_to_uplink, sort_by_count_us
from tests.forwarder.test_concentrator import FakeChip, FakeParse, FakeTransport

LEGACY = eu868_corecell_plan()
FINE = replace(LEGACY, fine_timestamp=True)
PAYLOAD = bytes(range(20))
#: a PPS edge every second; the latest at 15 s + 1000 ticks
FIRST_PPS = 1_000
LATEST_PPS = FIRST_PPS + 15 * ft.TICKS_PER_SECOND
#: end of header of an SF7 packet whose preamble ended 250 ms after the latest PPS
TICKS = LATEST_PPS + 8_000_000 + 401_152 - 2138


def _history() -> ft.PpsHistory:
    history = ft.PpsHistory()
    for second in range(ft.PPS_HISTORY_SIZE):
        history.save(FIRST_PPS + second * ft.TICKS_PER_SECOND)
    return history


def _record(**fields: object) -> RxRecord:
    base = {
        "payload": PAYLOAD,
        "if_chain": 0,
        "sf": 7,
        "coding_rate": 1,
        "crc_en": True,
        "modem_id": 0,
        "freq_offset_raw": 0,
        "crc_error": False,
        "sync_error": False,
        "header_error": False,
        "timing_set": True,
        "snr_raw": 40,
        "rssi_chan_raw": 100,
        "rssi_sig_raw": 100,
        "timestamp": TICKS,
        "crc16": lora_payload_crc(PAYLOAD),
        "ts_metrics": (2, -2) * 16,
    }
    base.update(fields)
    return RxRecord(**base)


def _convert(record: RxRecord, plan=FINE, history=None, count_us=1_000_000):
    return record_to_uplink(
        record,
        plan,
        count_us=count_us,
        session_id=1,
        gw_time=0.0,
        temperature_c=25.0,
        pps_history=history if history is not None else _history(),
    )


def test_fine_mode_uses_the_fine_correction() -> None:
    # SF7/125/CR4-5/CRC/20 bytes: 35 payload symbols x 1024 us - 18.53 us
    assert _convert(_record()).count_us == 1_000_000 + 35_821


def test_legacy_mode_keeps_the_legacy_correction() -> None:
    assert _convert(_record(), plan=LEGACY).count_us == 1_000_000 - 456


def test_fine_timestamp_is_ns_since_the_last_pps() -> None:
    # metrics (2, -2) x 16: running sum alternates 2, 0 -> mean 1 tick = 31.25 ns
    assert _convert(_record()).fine_timestamp_ns == 250_000_000 + 31


def test_fine_timestamp_takes_the_packets_frequency_error() -> None:
    # 868.1 MHz: raw 100000 -> 11920 Hz, IF -400 kHz rounding -98 Hz: error 11822 / 868.1e6;
    # the SF7 header shift 401152 x (1 + 1.3618e-5) + 0.5 -> 401157 ticks: 5 ticks earlier
    uplink = _convert(_record(freq_offset_raw=100_000))
    assert uplink.fine_timestamp_ns == (8_000_000 - 5 + 1) * 31.25
    assert uplink.freq_offset_hz == 11_822


def test_no_fine_timestamp_in_legacy_mode() -> None:
    assert _convert(_record(), plan=LEGACY).fine_timestamp_ns is None


def test_no_fine_timestamp_without_timing_set() -> None:
    assert _convert(_record(timing_set=False)).fine_timestamp_ns is None


def test_no_fine_timestamp_on_a_crc_error() -> None:
    assert _convert(_record(crc_error=True)).fine_timestamp_ns is None


def test_no_fine_timestamp_before_sixteen_pps_edges() -> None:
    history = ft.PpsHistory()
    history.save(LATEST_PPS)
    assert _convert(_record(), history=history).fine_timestamp_ns is None


def test_dual_demod_copies_keep_the_crc_ok_one() -> None:
    bad = _convert(_record(crc_error=True, modem_id=1))
    good = _convert(_record(timing_set=False), count_us=1_000_010)
    assert merge_dual_demod([bad, good]) == [good]


def test_dual_demod_copies_keep_the_one_with_a_fine_timestamp() -> None:
    plain = _convert(_record(timing_set=False))
    fine = _convert(_record(modem_id=1), count_us=1_000_020)
    assert merge_dual_demod([plain, fine]) == [fine]


def test_packets_further_apart_than_24_us_are_not_merged() -> None:
    first = _convert(_record())
    second = _convert(_record(), count_us=1_000_025)
    assert merge_dual_demod([first, second]) == [first, second]


def test_different_payloads_are_not_merged() -> None:
    other = bytes(20)
    first = _convert(_record())
    second = _convert(_record(payload=other, crc16=lora_payload_crc(other)))
    assert len(merge_dual_demod([first, second])) == 2


def test_different_channels_are_not_merged() -> None:
    first = _convert(_record())
    second = _convert(_record(if_chain=1))
    assert len(merge_dual_demod([first, second])) == 2


def test_merge_keeps_crc_status_of_the_kept_copy() -> None:
    bad = _convert(_record(crc_error=True))
    good = _convert(_record())
    (kept,) = merge_dual_demod([bad, good])
    assert kept.crc_status is CrcStatus.OK


def test_sort_by_count_us() -> None:
    late = _convert(_record(), count_us=2_000_000)
    early = _convert(_record(), count_us=1_000_000)
    assert sort_by_count_us([late, early]) == [early, late]


class _FineChip(FakeChip):
    """A fake SX1303 driver in fine-timestamp mode, with the driver's counter tracker."""

    def __init__(self, transport: object) -> None:
        super().__init__(transport, inst_ticks=96_000_000)
        self.counter = CounterTracker()

    def model(self) -> str:
        return "SX1303"


def test_poll_merges_duplicates_and_sorts_in_fine_mode() -> None:
    chips: list[_FineChip] = []
    conc = Concentrator(
        FakeTransport(),
        FINE,
        temperature_c=lambda: 25.0,
        chip_factory=lambda t: chips.append(_FineChip(t)) or chips[-1],
    )
    conc.start()
    late = _record(timestamp=80_000_000, timing_set=False)
    first = _record(timestamp=70_000_000, crc_error=True)
    copy = _record(timestamp=70_000_000 + 10 * 32, modem_id=1, timing_set=False)
    chips[0].fetches.append(FakeParse(records=(late, first, copy)))
    uplinks = conc.poll_once()
    assert [(u.count_us, u.crc_status) for u in uplinks] == [
        (70_000_000 // 32 + 10 + 35_821, CrcStatus.OK),
        (80_000_000 // 32 + 35_821, CrcStatus.OK),
    ]
    assert conc.stats()["rx_received"] == 2
