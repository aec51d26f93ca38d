"""The radio path alone, per uplink: simulator, FIFO parse, the rest of the host side.

    PYTHONPATH=. .venv/bin/python bench/radio_path.py [--uplinks 4000]

The real driver and ``Concentrator`` on ``sim://`` with a virtual clock (no threads, no MQTT):
4 SF7 uplinks per ms of virtual time, 10 ms of virtual time per 10 polls (so batches of about
40 records, and 9 empty polls per batch as the radio loop does between packets). CPU is this
thread's ``time.thread_time_ns``; the simulator's share is the time inside the simulated
``spidev.xfer2`` (its fault schedule and the chip: what a real chip does, plus the SPI
emulation), the parse's the time inside ``parse_fifo`` (split, struct unpack, checks, payload
CRC). The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import drivers.sx1302.chip as chip_module
from drivers import open_transport
from packet_forwarder.concentrator import Concentrator
from packet_forwarder.regions import region_preset

CHANNELS_HZ = (868_100_000, 868_300_000, 868_500_000, 867_100_000,
               867_300_000, 867_500_000, 867_700_000, 867_900_000)  # fmt: skip


def timed(fn: Callable[..., Any], totals: dict[str, int], key: str) -> Callable[..., Any]:
    """``fn``, adding its thread CPU time to ``totals[key]``."""

    def wrapper(*args: Any) -> Any:
        t0 = time.thread_time_ns()
        try:
            return fn(*args)
        finally:
            totals[key] += time.thread_time_ns() - t0

    return wrapper


def main() -> int:
    """Play the uplinks through the radio path and print the split."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uplinks", type=int, default=4000)
    args = parser.parse_args()
    n = args.uplinks
    with tempfile.TemporaryDirectory(prefix="bench-radio-") as tmp:
        scenario = Path(tmp) / "s.jsonl"
        with open(scenario, "w") as f:
            for i in range(n):
                phy = bytes([0x40, 4, 3, 2, 1, 0x80, i & 0xFF, 0, 1]) + bytes(14)
                line = {"at_ms": 10 + i // 4, "freq_hz": CHANNELS_HZ[i % 8], "sf": 7,
                        "bw_hz": 125_000, "cr": "4/5", "rssi_dbm": -60.0, "snr_db": 8.5,
                        "crc": "ok", "phy": phy.hex()}  # fmt: skip
                f.write(json.dumps(line) + "\n")
        transport = open_transport(f"sim://?clock=virtual&scenario={scenario}")
        conc = Concentrator(transport, region_preset("EU868").plan, temperature_c=lambda: 25.0)
        conc.start()
        totals = {"sim": 0, "parse": 0}
        sim = transport.sim
        # the whole simulated bus (the scenario's fault schedule plays due packets into the FIFO
        # before each transfer, then the chip answers the frame): what a real chip does
        bus = transport._spi
        bus.xfer2 = timed(bus.xfer2, totals, "sim")
        original_parse = chip_module.parse_fifo
        chip_module.parse_fifo = timed(original_parse, totals, "parse")  # type: ignore[assignment]
        try:
            got = polls = 0
            t0 = time.thread_time_ns()
            while got < n and polls < n * 10:
                if polls % 10 == 0:
                    sim.advance_us(10_000)
                got += len(conc.poll_once())
                polls += 1
            total = time.thread_time_ns() - t0
        finally:
            chip_module.parse_fifo = original_parse
            conc.close()
    per = {k: round(v / got / 1000, 1) for k, v in totals.items()}
    per["rest_of_host"] = round((total - sum(totals.values())) / got / 1000, 1)
    per["total"] = round(total / got / 1000, 1)
    print(f"{got} uplinks, {polls} polls; µs per uplink: {per}")
    print(json.dumps({"bench": "radio_path", "uplinks": got, "polls": polls, "us_per_uplink": per}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
