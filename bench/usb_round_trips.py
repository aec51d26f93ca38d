"""USB Corecell round trips: per bring-up and per downlink, on the simulated bridge MCU.

    PYTHONPATH=. .venv/bin/python bench/usb_round_trips.py [--downlinks 20] [--latency-us 1000]

The simulated MCU (drivers/sim_mcu.py) counts every request/ack round trip and adds
``--latency-us`` per round trip to the simulated chip's virtual clock, so the "virtual ms" columns
are what the same sequence would take on a real USB link at that latency. A downlink is what the
radio thread does for one packet: read the counter, read the TX status, program the TX.
"""

from __future__ import annotations

import argparse

from drivers.sim_mcu import open_sim_usb_transport
from drivers.sx1302.chip import SX1302
from drivers.sx1302.plan import eu868_corecell_plan
from drivers.sx1302.tx import TxRequest, program


def _no_wait(_s: float) -> None:
    return None


def main() -> int:
    """Print round trips and virtual time of one bring-up and of ``--downlinks`` downlinks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--downlinks", type=int, default=20)
    parser.add_argument("--latency-us", type=int, default=1000)
    args = parser.parse_args()
    plan = eu868_corecell_plan()
    # no scenario: the FIFO is never polled here, so no traffic plays
    transport = open_sim_usb_transport(clock="virtual", plan=plan, latency_us=args.latency_us)
    try:
        mcu, clock = transport.mcu, transport.sim.clock
        chip = SX1302(transport, sleep=_no_wait)
        trips, t0 = mcu.transactions, clock.elapsed_us()
        chip.version()
        chip.start(plan)
        chip.model()
        chip.eui()
        up_trips, up_us = mcu.transactions - trips, clock.elapsed_us() - t0
        per_downlink = []
        for _ in range(args.downlinks):
            trips, t0 = mcu.transactions, clock.elapsed_us()
            now_us = chip.read_counter()
            chip.tx_status(0)
            chip.send(program(TxRequest(0, 868_100_000, bytes(20), count_us=now_us + 30_000)))
            per_downlink.append((mcu.transactions - trips, clock.elapsed_us() - t0))
            transport.sim.advance_us(200_000)
    finally:
        transport.close()
    print(f"latency per round trip: {args.latency_us} µs")
    print(f"bring-up: {up_trips} round trips, {up_us / 1000:.0f} virtual ms")
    trips_set = sorted({n for n, _ in per_downlink})
    worst_us = max(us for _, us in per_downlink)
    print(f"downlink: {trips_set} round trips, at most {worst_us / 1000:.1f} virtual ms "
          f"({args.downlinks} downlinks)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
