"""Built-in virtual devices: deterministic with a seed, realistic LoRaWAN data-up frames."""

from __future__ import annotations

import itertools
import struct

from drivers.sim.population import DEFAULT_CHANNELS_HZ, Population
from drivers.sx1302.rx_record import RxRecord


def uplinks(population: Population, n: int):
    return [population.pop() for _ in range(n)]


def test_same_seed_gives_the_same_traffic():
    assert uplinks(Population(seed=7), 30) == uplinks(Population(seed=7), 30)


def test_different_seeds_give_different_traffic():
    assert uplinks(Population(seed=1), 10) != uplinks(Population(seed=2), 10)


def test_default_is_five_devices_with_distinct_devaddrs():
    population = Population(seed=3)
    assert len({d.dev_addr for d in population.devices}) == 5


def test_uplinks_come_in_time_order():
    times = [p.at_ms for p in uplinks(Population(seed=4), 50)]
    assert times == sorted(times)


def test_phy_payload_is_unconfirmed_data_up_with_devaddr_le_and_fcnt_counting_up():
    population = Population(devices=1, seed=5)
    device = population.devices[0]
    first, second = uplinks(population, 2)
    mhdr, dev_addr, _fctrl, fcnt1 = struct.unpack_from("<BIBH", first.phy)
    assert (mhdr, dev_addr) == (0x40, device.dev_addr)
    assert struct.unpack_from("<H", second.phy, 6)[0] == fcnt1 + 1
    assert len(first.phy) >= 1 + 4 + 1 + 2 + 1 + 4 + 4  # MHDR..FPort, FRMPayload, MIC


def test_each_device_sends_every_interval_plus_minus_20_percent():
    population = Population(devices=1, uplink_interval_s=10.0, seed=6)
    times = [p.at_ms for p in uplinks(population, 20)]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(8000 <= gap <= 12000 for gap in gaps)


def test_uplinks_use_the_given_channels_and_sf7_to_12_at_125_khz():
    channels = (868_100_000, 868_300_000)
    packets = uplinks(Population(seed=8, channels=lambda: channels), 40)
    assert {p.freq_hz for p in packets} <= set(channels)
    assert all(7 <= p.sf <= 12 and p.bw_hz == 125_000 and p.crc == "ok" for p in packets)


def test_default_channels_are_the_eu868_multi_sf_channels():
    packets = uplinks(Population(seed=9), 40)
    assert {p.freq_hz for p in packets} <= set(DEFAULT_CHANNELS_HZ)


def test_chip_without_scenario_receives_the_population_on_the_programmed_plan(eu868_bus):
    bus = eu868_bus(None, seed=11, devices=3, uplink_interval_s=5.0)
    bus.chip.advance_us(31_000_000)
    data, recs = bus.fetch(), []
    while data:
        recs.append(RxRecord.from_bytes(data))
        data = data[recs[-1].size :]
    assert len(recs) >= 3 * 5
    assert all(r.payload[0] == 0x40 and r.if_chain < 8 for r in recs)
    assert bus.chip.stats["not_received"] == 0


def test_chip_population_is_deterministic_with_a_seed(eu868_bus):
    def run() -> bytes:
        bus = eu868_bus(None, seed=12)
        bus.chip.advance_us(40_000_000)
        return bus.fetch()

    assert run() == run()
