"""``python -m edge_agent.demo`` (``make demo``): the agent on the simulated SX1302, uplinks live.

Starts its own mosquitto on a free loopback port (never 127.0.0.1:1883), writes a temporary
configuration with ``url = "sim://"``, runs ``edge-agent run`` as a subprocess, subscribes to
``+/gateway/+/event/up`` and prints every uplink decoded, for ``--duration`` seconds or until
Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import queue
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import paho.mqtt.client as mqtt
from chirpstack_api import gw

from edge_agent.testing_broker import Broker, mosquitto_binary
from packet_forwarder.errors import PhyError
from packet_forwarder.lorawan import MType, PhyHeader

#: short names of the LoRaWAN message types, as the demo prints them
MTYPE_NAMES = {
    MType.JOIN_REQUEST: "JoinRequest",
    MType.JOIN_ACCEPT: "JoinAccept",
    MType.UNCONFIRMED_DATA_UP: "UnconfDataUp",
    MType.UNCONFIRMED_DATA_DOWN: "UnconfDataDown",
    MType.CONFIRMED_DATA_UP: "ConfDataUp",
    MType.CONFIRMED_DATA_DOWN: "ConfDataDown",
    MType.REJOIN_REQUEST: "RejoinRequest",
    MType.PROPRIETARY: "Proprietary",
}


def describe_phy(phy: bytes) -> str:
    """A short LoRaWAN header summary: message type, DevAddr and FCnt or the join EUIs."""
    if not phy:
        return "empty"
    try:
        header = PhyHeader.from_bytes(phy)
    except (PhyError, ValueError):
        return f"not LoRaWAN ({len(phy)} bytes)"
    name = MTYPE_NAMES[header.mtype]
    if header.dev_addr is not None and header.is_uplink:
        return f"{name:<12} DevAddr {header.dev_addr_hex} FCnt {header.fcnt:5d}"
    if header.mtype is MType.JOIN_REQUEST:
        return f"{name:<12} JoinEUI {header.join_eui_hex} DevEUI {header.dev_eui_hex}"
    return name


def describe_uplink(frame: gw.UplinkFrame) -> str:
    """One demo line for a received ``gw.UplinkFrame``."""
    rx, tx = frame.rx_info, frame.tx_info
    when = rx.gw_time.ToDatetime().strftime("%H:%M:%S.%f")[:-3]
    mod = tx.modulation
    if mod.WhichOneof("parameters") == "lora":
        radio = f"SF{mod.lora.spreading_factor:<2d} BW{mod.lora.bandwidth // 1000}"
    else:
        radio = f"FSK {mod.fsk.datarate // 1000} kb/s"
    buffered = "  (buffered)" if rx.metadata.get("buffered") == "true" else ""
    return (
        f"{when}  {tx.frequency / 1e6:8.3f} MHz  {radio:<9} RSSI {rx.rssi:4d} dBm  "
        f"SNR {rx.snr:5.1f} dB  {describe_phy(frame.phy_payload)}  "
        f"{len(frame.phy_payload):3d} B{buffered}"
    )


def demo_config(server: str, extra_sim: str = "", spool_path: str = "spool.db") -> str:
    """The temporary agent configuration: simulated radio, local broker, spool in the temp dir."""
    return (
        '[concentrator]\nurl = "sim://"\nregion = "EU868"\n'
        f"[concentrator.sim]\n{extra_sim}\n"
        f'[mqtt]\nserver = "{server}"\nreconnect_min_s = 0.2\nreconnect_max_s = 2\n'
        "[gateway]\nstats_interval_s = 10\n"
        f'[spool]\npath = "{spool_path}"\n'
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; returns 0 when at least one uplink arrived."""
    parser = argparse.ArgumentParser(prog="python -m edge_agent.demo", description=__doc__)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds to run (20)")
    parser.add_argument("--scenario", help="a simulator scenario file (default: generated)")
    parser.add_argument("--devices", type=int, default=8, help="simulated devices (8)")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between uplinks")
    args = parser.parse_args(argv)
    if mosquitto_binary() is None:
        print("mosquitto is not installed: sudo apt-get install mosquitto", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="edge-agent-demo-") as tmp:
        return _run(Path(tmp), args)


def _run(tmp: Path, args: argparse.Namespace) -> int:
    # as root, mosquitto drops to user "mosquitto", which cannot write our private temp dir
    broker = Broker(tmp / "broker", extra_config="user root" if os.geteuid() == 0 else "")
    broker.start()
    if args.scenario:
        sim = f'scenario = "{Path(args.scenario).resolve()}"'
    else:
        sim = f"devices = {args.devices}\nuplink_interval_s = {args.interval}"
    config = tmp / "agent.toml"
    config.write_text(
        demo_config(broker.url, sim, str(tmp / "spool.db"))
        + f'[status]\nsocket = "{tmp / "status.sock"}"\n'
    )
    log_path = tmp / "agent.log"
    messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="edge-agent-demo")
    client.on_message = lambda _c, _u, msg: messages.put(msg)
    client.on_connect = lambda c, _u, _f, _rc, _p: c.subscribe(
        [("+/gateway/+/event/up", 1), ("+/gateway/+/state/conn", 1)]
    )
    client.connect(broker.host, broker.port)
    client.loop_start()
    print(f"edge-agent demo: mosquitto on {broker.url}, config {config}")
    print(f"subscribed to +/gateway/+/event/up for {args.duration:.0f} s (Ctrl-C to stop)\n")
    count = 0
    with log_path.open("w") as log:
        agent = subprocess.Popen(
            [sys.executable, "-m", "edge_agent.cli", "run", "-c", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + args.duration
            while time.monotonic() < deadline and agent.poll() is None:
                try:
                    msg = messages.get(timeout=0.2)
                except queue.Empty:
                    continue
                if msg.topic.endswith("/state/conn"):
                    state = gw.ConnState.FromString(msg.payload)
                    print(f"gateway {state.gateway_id}: {gw.ConnState.State.Name(state.state)}")
                    continue
                count += 1
                print(describe_uplink(gw.UplinkFrame.FromString(msg.payload)), flush=True)
        except KeyboardInterrupt:
            print()
        finally:
            agent.terminate()
            try:
                agent.wait(timeout=10)
            except subprocess.TimeoutExpired:
                agent.kill()
                agent.wait()
            client.disconnect()
            client.loop_stop()
            broker.stop()
    print(f"\n{count} uplinks received from the agent.")
    if count == 0:
        print("No uplink arrived. Agent log (tail):", file=sys.stderr)
        print(log_path.read_text()[-3000:], file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
