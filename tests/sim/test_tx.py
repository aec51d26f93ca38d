"""The simulated transmitter: the real driver programs a TX, the simulator decodes and plays it."""

from __future__ import annotations

import json

import pytest

from drivers.sim import SimUnsupportedError, open_sim_transport
from drivers.sim.tx import decode_frequency
from drivers.sx1302.chip import SX1302
from drivers.sx1302.plan import eu868_corecell_plan
from drivers.sx1302.tx import TxRequest, freq_to_reg, program

PLAN = eu868_corecell_plan()
PHY = bytes.fromhex("60010203040001000aabbccd")


def started_chip(tmp_path=None, **options):  # type: ignore[no-untyped-def]
    """A started SX1302 driver on a virtual-clock simulator (returns driver, sim)."""
    options.setdefault("plan", PLAN)
    if tmp_path is not None:
        options["tx_log"] = str(tmp_path / "tx.jsonl")
    transport = open_sim_transport("sim://", clock="virtual", **options)
    chip = SX1302(transport, sleep=lambda _s: None)
    chip.start(PLAN)
    return chip, transport.sim


def request(count_us: int, **overrides: object) -> TxRequest:
    fields: dict[str, object] = dict(rf_chain=0, freq_hz=868_100_000, payload=PHY,
                                     count_us=count_us, sf=9, pa_gain=0, pwr_idx=17)  # fmt: skip
    fields.update(overrides)
    return TxRequest(**fields)  # type: ignore[arg-type]


def now_us(sim) -> int:  # type: ignore[no-untyped-def]
    return (sim.clock.start_ticks // 32 + sim.clock.elapsed_us()) & 0xFFFF_FFFF


@pytest.mark.parametrize("freq_hz", [863_000_000, 868_100_000, 868_300_000, 868_500_000,
                                     869_525_000, 867_100_000, 923_300_000, 927_500_000,
                                     864_862_500 - 500])  # fmt: skip
def test_frequency_round_trips_exactly_for_khz_multiples(freq_hz: int) -> None:
    assert decode_frequency(freq_to_reg(freq_hz)) == freq_hz


def test_any_frequency_comes_back_within_one_register_step() -> None:
    for freq_hz in range(868_100_001, 868_100_001 + 50_000, 977):
        assert abs(freq_hz - decode_frequency(freq_to_reg(freq_hz))) < 123  # one 122.07 Hz step


def test_delayed_tx_goes_scheduled_emitting_free_and_is_logged(tmp_path) -> None:
    chip, sim = started_chip(tmp_path)
    start = now_us(sim) + 30_000
    chip.send(program(request(start)))
    assert chip.tx_status(0) == "SCHEDULED"
    sim.advance_us(30_000)
    assert chip.tx_status(0) == "EMITTING"
    sim.advance_us(1_000_000)
    assert chip.tx_status(0) == "FREE"
    assert json.loads((tmp_path / "tx.jsonl").read_text()) == {
        "count_us": start, "freq_hz": 868_100_000, "power_dbm": 14.0, "sf": 9,
        "bw_hz": 125_000, "cr": "4/5", "iq_inverted": True, "phy": PHY.hex(),
    }  # fmt: skip


def test_transmission_is_recorded_only_once_it_starts() -> None:
    chip, sim = started_chip()
    chip.send(program(request(now_us(sim) + 20_000)))
    sim.advance_us(19_999)
    assert sim.transmissions == []
    sim.advance_us(1)
    assert len(sim.transmissions) == 1


def test_abort_before_start_cancels_the_transmission() -> None:
    chip, sim = started_chip()
    chip.send(program(request(now_us(sim) + 20_000)))
    assert chip.abort_tx(0)
    sim.advance_us(1_000_000)
    assert sim.transmissions == []


def test_a_new_program_replaces_a_scheduled_one() -> None:
    chip, sim = started_chip()
    first, second = now_us(sim) + 20_000, now_us(sim) + 30_000
    chip.send(program(request(first)))
    chip.send(program(request(second, sf=7)))
    sim.advance_us(2_000_000)
    assert [(t.count_us, t.sf) for t in sim.transmissions] == [(second, 7)]


def test_radio_busy_injection_reads_emitting() -> None:
    chip, sim = started_chip()
    sim.set_radio_busy(1, True)
    assert (chip.tx_status(0), chip.tx_status(1)) == ("FREE", "EMITTING")
    sim.set_radio_busy(1, False)
    assert chip.tx_status(1) == "FREE"


def test_radio_b_is_decoded_from_its_own_block() -> None:
    chip, sim = started_chip()
    start = now_us(sim) + 25_000
    chip.send(program(request(start, rf_chain=1, invert_pol=False, coding_rate=4, sf=12)))
    assert (chip.tx_status(0), chip.tx_status(1)) == ("FREE", "SCHEDULED")
    sim.advance_us(25_000)
    tx = sim.transmissions[0]
    assert (tx.rf_chain, tx.count_us, tx.sf, tx.cr, tx.iq_inverted) == (1, start, 12, "4/8", False)


def test_power_comes_from_the_plan_lut_and_is_none_without_plan() -> None:
    chip, sim = started_chip()
    chip.send(program(request(now_us(sim) + 20_000, pa_gain=1, pwr_idx=14)))
    sim.advance_us(20_000)
    assert sim.transmissions[0].power_dbm == 27.0
    chip, sim = started_chip(plan=None)
    chip.send(program(request(now_us(sim) + 20_000)))
    sim.advance_us(20_000)
    assert sim.transmissions[0].power_dbm is None


def test_immediate_tx_starts_after_the_start_delay() -> None:
    chip, sim = started_chip()
    before = now_us(sim)
    chip.send(program(request(0, mode="IMMEDIATE")))
    sim.advance_us(2_000)
    assert sim.transmissions[0].count_us == before + 47413 // 32


def test_delayed_trigger_across_the_tick_wrap_lands_in_the_extended_domain() -> None:
    chip, sim = started_chip(counter_start_ticks=(1 << 32) - 32 * 10_000)
    chip.read_counter()
    start = now_us(sim) + 25_000  # 15 ms after the 2^32-tick wrap
    assert start == (1 << 27) + 15_000
    chip.send(program(request(start)))
    sim.advance_us(25_000)
    assert sim.transmissions[0].count_us == start


def test_gps_trigger_is_refused_without_pps() -> None:
    chip, _sim = started_chip()
    with pytest.raises(SimUnsupportedError, match="PPS"):
        chip.send(program(request(0, mode="ON_GPS")))


def test_fsk_payload_is_read_after_the_length_byte() -> None:
    chip, sim = started_chip()
    chip.send(program(request(now_us(sim) + 20_000, modulation="FSK")))
    sim.advance_us(20_000)
    tx = sim.transmissions[0]
    assert (tx.modulation, tx.phy, tx.freq_hz) == ("FSK", PHY.hex(), 868_100_000)


def test_start_programs_the_static_tx_configuration_of_both_radios() -> None:
    _chip, sim = started_chip()
    # TX_MODE 1 + IF_DST 1 at +0x20, PLL_DIV_CTRL_AGC 1 at +0x21 (sx1302_tx_configure, SX1250)
    assert [sim.mem[a] for a in (0x5220, 0x5221, 0x5420, 0x5421)] == [0x0C, 0x01, 0x0C, 0x01]
