"""Reception: what the programmed plan receives, the records it writes, FIFO and exhaustion."""

from __future__ import annotations

import json

import pytest

from drivers.sx1302.convert import legacy_timestamp_correction_us as _legacy_correction_us
from drivers.sx1302.convert import rssi_temperature_offset_db as _rssi_temperature_offset_db
from drivers.sx1302.rx_record import RxRecord, lora_payload_crc
from tests import vectors

PHY = "40" + "11223344" + "80" + "0100" + "01" + "deadbeef" + "cafebabe"


def pkt(**changes: object) -> str:
    obj = {
        "at_ms": 1000,
        "freq_hz": 867_100_000,
        "sf": 9,
        "bw_hz": 125_000,
        "cr": "4/5",
        "rssi_dbm": -97.0,
        "snr_db": -3.25,
        "crc": "ok",
        "phy": PHY,
    }
    obj.update(changes)
    return json.dumps(obj)


def records(data: bytes) -> list[RxRecord]:
    out = []
    while data:
        rec = RxRecord.from_bytes(data)
        out.append(rec)
        data = data[rec.size :]
    return out


def play(bus, ms: int) -> list[RxRecord]:
    bus.chip.advance_us(ms * 1000)
    return records(bus.fetch())


@pytest.mark.parametrize("row", vectors.rows("legacy_timestamp_correction"))
def test_legacy_correction_matches_the_hal(row):
    got = _legacy_correction_us(
        row["sf"], row["bandwidth_hz"], row["coding_rate"], bool(row["crc_en"]), row["payload_len"]
    )
    assert got == row["correction_us"]


@pytest.mark.parametrize("row", vectors.rows("rssi_temperature_offset"))
def test_rssi_temperature_offset_matches_the_hal(row):
    tcomp = (0.0, 0.0, 20.41, 2162.56, 0.0)
    assert _rssi_temperature_offset_db(tcomp, row["temperature_c"]) == pytest.approx(
        row["offset_db"], abs=1e-5
    )


@pytest.mark.parametrize(
    ("freq_hz", "if_chain"),
    [(868_100_000, 0), (868_500_000, 2), (867_100_000, 3), (867_900_000, 7)],
)
def test_packet_on_a_multi_sf_channel_is_received_on_that_chain(eu868_bus, freq_hz, if_chain):
    (rec,) = play(eu868_bus([pkt(freq_hz=freq_hz)]), 1100)
    assert rec.if_chain == if_chain


def test_packet_off_the_plan_is_not_received(eu868_bus):
    bus = eu868_bus([pkt(freq_hz=869_525_000)])
    assert play(bus, 1100) == []
    assert bus.chip.stats["not_received"] == 1


def test_packet_2_khz_off_a_channel_is_not_received(eu868_bus):
    assert play(eu868_bus([pkt(freq_hz=867_102_000)]), 1100) == []


def test_packet_1_khz_off_a_channel_is_received(eu868_bus):
    assert len(play(eu868_bus([pkt(freq_hz=867_101_000)]), 1100)) == 1


def test_multi_sf_channel_does_not_receive_250_khz(eu868_bus):
    assert play(eu868_bus([pkt(freq_hz=867_100_000, bw_hz=250_000)]), 1100) == []


def test_disabled_sf_is_not_received(eu868_bus):
    bus = eu868_bus([pkt(sf=9)])
    bus.write(0x5822, 0xFF & ~(1 << (9 - 5)))
    assert play(bus, 1100) == []


def test_radio_not_in_rx_receives_nothing(eu868_bus):
    bus = eu868_bus([pkt(freq_hz=867_100_000)])
    bus.command(0, 0x80, b"\x01")  # radio A back to standby
    assert play(bus, 1100) == []


def test_unprogrammed_chip_receives_nothing():
    from tests.sim.conftest import make_chip
    from tests.sim.frames import Bus

    bus = Bus(make_chip([pkt()]))
    bus.fifo_count()
    assert play(bus, 1100) == []


def test_lora_service_channel_receives_its_bw_and_sf_with_modem_16(eu868_bus):
    (rec,) = play(eu868_bus([pkt(freq_hz=868_300_000, bw_hz=250_000, sf=7)]), 1100)
    assert (rec.if_chain, rec.modem_id, rec.sf) == (8, 16, 7)


def test_lora_service_channel_ignores_other_sfs(eu868_bus):
    assert play(eu868_bus([pkt(freq_hz=868_300_000, bw_hz=250_000, sf=8)]), 1100) == []


def test_multi_sf_demodulators_are_used_round_robin(eu868_bus):
    lines = [pkt(at_ms=100 * i, sf=7) for i in range(18)]
    got = play(eu868_bus(lines), 2000)
    assert [r.modem_id for r in got] == [*range(16), 0, 1]


def test_record_carries_the_scenario_values(eu868_bus):
    (rec,) = play(eu868_bus([pkt(cr="4/7", snr_db=-3.25)]), 1100)
    assert rec.payload == bytes.fromhex(PHY)
    assert (rec.sf, rec.coding_rate, rec.snr_raw) == (9, 3, -13)
    assert (rec.crc_en, rec.crc_error, rec.crc16) == (True, False, lora_payload_crc(rec.payload))


def test_rssi_decodes_back_within_half_a_db(eu868_bus):
    bus = eu868_bus([pkt(rssi_dbm=-97.3)], temperature_c=40.0)
    (rec,) = play(bus, 1100)
    tcomp = (0.0, 0.0, 20.41, 2162.56, 0.0)
    rssi = rec.rssi_sig_raw - 215.4 + _rssi_temperature_offset_db(tcomp, 40.0)
    assert abs(rssi - -97.3) <= 0.5


def test_crc_bad_sets_the_error_flag_and_a_wrong_crc16(eu868_bus):
    (rec,) = play(eu868_bus([pkt(crc="bad")]), 1100)
    assert rec.crc_en and rec.crc_error
    assert rec.crc16 != lora_payload_crc(rec.payload)


def test_crc_none_clears_crc_enable(eu868_bus):
    (rec,) = play(eu868_bus([pkt(crc="none")]), 1100)
    assert (rec.crc_en, rec.crc_error) == (False, False)


@pytest.mark.parametrize("start_ticks", [0, 0xFFFF_FFFF - 32 * 500_000])
def test_timestamp_after_legacy_correction_is_the_counter_at_at_ms(eu868_bus, start_ticks):
    bus = eu868_bus([pkt(at_ms=1000, sf=12)], counter_start_ticks=start_ticks)
    (rec,) = play(bus, 1100)
    corr = _legacy_correction_us(12, 125_000, 1, True, len(rec.payload))
    count_us = (rec.timestamp // 32 + corr) % (1 << 27)
    expected = ((start_ticks + 1000 * 1000 * 32) % (1 << 32)) // 32
    assert count_us == expected


def test_record_is_not_in_the_fifo_before_the_end_of_the_packet(eu868_bus):
    bus = eu868_bus([pkt(at_ms=1000, sf=12)])
    bus.chip.advance_us(1000 * 1000)  # count_us of the packet; the chip latches ~15 ms later
    assert bus.fifo_count() == 0
    bus.chip.advance_us(20_000)
    assert bus.fifo_count() > 0


def test_packet_timestamp_is_not_ahead_of_the_counter_when_it_appears(eu868_bus):
    bus = eu868_bus([pkt(at_ms=1000, sf=12)])
    bus.chip.advance_us(1_016_000)
    (rec,) = records(bus.fetch())
    counter = int.from_bytes(bus.read(0x6105, 4), "big")
    assert rec.timestamp <= counter


def test_fifo_count_register_reports_msb_5_bits_and_lsb(eu868_bus):
    bus = eu868_bus([pkt(at_ms=i, phy="00" * 255) for i in range(10)])
    bus.chip.advance_us(200_000)
    assert bus.read(0x58C8, 2) == (10 * 278).to_bytes(2, "big")


def test_fifo_reads_at_0x4000_pop_in_chunks_without_advancing(eu868_bus):
    bus = eu868_bus([pkt(at_ms=i, phy=bytes([i]).hex() * 255) for i in range(10)])
    bus.chip.advance_us(200_000)
    data = bus.fetch()  # 2780 bytes in chunks of 1024, 1024, 732
    assert len(data) == 2780
    assert [r.payload[0] for r in records(data)] == list(range(10))
    assert bus.fifo_count() == 0


def test_full_fifo_drops_the_record_that_does_not_fit(eu868_bus):
    bus = eu868_bus([pkt(at_ms=i, phy="00" * 255) for i in range(16)])
    bus.chip.advance_us(300_000)
    assert bus.fifo_count() == 14 * 278
    assert bus.chip.stats["overruns"] == 2


def test_fifo_hex_line_is_appended_verbatim(eu868_bus):
    raw = "a5c0ff0102030405"
    bus = eu868_bus([json.dumps({"at_ms": 10, "fifo_hex": raw})])
    bus.chip.advance_us(10_000)
    assert bus.fetch() == bytes.fromhex(raw)


def test_reference_buffer_replays_to_the_same_records(eu868_bus):
    case = next(c for c in vectors.rx_fifo_cases() if c["name"] == "single_len_004")
    bus = eu868_bus([json.dumps({"at_ms": 0, "fifo_hex": case["buffer_hex"]})])
    (rec,) = records(bus.fetch())
    assert rec.payload.hex() == case["records"][0]["payload_hex"]
    assert rec.timestamp == case["records"][0]["timestamp"]


def test_nothing_plays_before_the_first_fifo_poll():
    from tests.sim.conftest import make_chip

    sim = make_chip([json.dumps({"at_ms": 0, "fifo_hex": "a5c0"})])
    sim.advance_us(5_000_000)
    assert sim.fifo_count == 0


def test_exhausted_only_after_every_line_played_and_fifo_read(eu868_bus):
    bus = eu868_bus([pkt(at_ms=10, sf=7), pkt(at_ms=20, freq_hz=869_000_000)])
    assert not bus.chip.exhausted
    bus.chip.advance_us(15_000)
    assert not bus.chip.exhausted  # first played, second not yet
    bus.chip.advance_us(10_000)
    assert not bus.chip.exhausted  # both played, the record is still in the FIFO
    bus.fetch()
    assert bus.chip.exhausted


def test_exhausted_when_the_last_line_is_off_plan(eu868_bus):
    bus = eu868_bus([pkt(at_ms=10, freq_hz=869_000_000)])
    bus.chip.advance_us(20_000)
    assert bus.chip.exhausted


def test_population_is_never_exhausted(eu868_bus):
    bus = eu868_bus(None, seed=1)
    bus.chip.advance_us(60_000_000)
    bus.fetch()
    assert not bus.chip.exhausted


def test_documented_example_scenario_plays_as_described(eu868_bus):
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "docs" / "scenario-example.jsonl"
    bus = eu868_bus(example.read_text().splitlines())
    got = play(bus, 7000)
    assert [r.if_chain for r in got] == [0, 1, 5, 7, 8, 1]
    assert [r.crc_error for r in got] == [False, False, False, True, False, False]
    assert bus.chip.stats["not_received"] == 1
    assert bus.chip.exhausted
