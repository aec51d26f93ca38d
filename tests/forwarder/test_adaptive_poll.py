"""The concentrator's adaptive poll: an empty poll reads only the FIFO byte count, the delay to
the next poll is short while packets arrive and longer once the air has been quiet."""

from __future__ import annotations

from packet_forwarder.concentrator import (
    ACTIVE_POLL_S,
    COUNTER_REFRESH_S,
    QUIET_AFTER_S,
    QUIET_POLL_S,
    Concentrator,
)
from tests.forwarder.test_concentrator import PLAN, FakeChip, FakeParse, FakeTransport, record


def make(now: list[float]) -> tuple[Concentrator, list[FakeChip]]:
    chips: list[FakeChip] = []

    def factory(transport: object) -> FakeChip:
        chips.append(FakeChip(transport, inst_ticks=96_000_000))
        return chips[-1]

    conc = Concentrator(FakeTransport(), PLAN, temperature_c=lambda: 25.0, chip_factory=factory,
                        monotonic=lambda: now[0])  # fmt: skip
    conc.start()
    chips[0].calls.clear()
    return conc, chips


def test_empty_polls_read_the_counter_only_every_refresh_interval() -> None:
    now = [100.0]
    conc, chips = make(now)
    for _ in range(5):
        conc.poll_once()
        now[0] += 0.01
    assert chips[0].calls == ["read_counter"] + ["fetch_rx"] * 5
    now[0] += COUNTER_REFRESH_S
    conc.poll_once()
    assert chips[0].calls[-2:] == ["read_counter", "fetch_rx"]


def test_delay_is_the_quiet_one_until_a_packet_then_active_until_quiet_again() -> None:
    now = [100.0]
    conc, chips = make(now)
    conc.poll_once()
    assert conc.next_poll_delay_s() == QUIET_POLL_S
    chips[0].fetches.append(FakeParse(records=(record(),), bytes_read=36))
    assert len(conc.poll_once()) == 1
    assert conc.next_poll_delay_s() == ACTIVE_POLL_S
    now[0] += QUIET_AFTER_S - 0.01
    conc.poll_once()
    assert conc.next_poll_delay_s() == ACTIVE_POLL_S
    now[0] += 0.02
    assert conc.next_poll_delay_s() == QUIET_POLL_S


def test_both_delays_keep_the_wait_below_the_c_forwarder_latency_bound() -> None:
    # issue 15: p99 uplink latency <= 10.2 ms at 50 and 400 uplinks/s; the wait for the next
    # poll is at most ACTIVE_POLL_S under traffic
    assert ACTIVE_POLL_S < QUIET_POLL_S and ACTIVE_POLL_S <= 0.008
