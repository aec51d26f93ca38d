"""The ``udp`` check: each Semtech UDP backend's server answers a keep-alive (PULL_DATA).

It sends one PULL_DATA with the gateway's EUI from a fresh socket and waits for the PULL_ACK
with the same token: the server is reachable, speaks GWMP and knows this gateway's address now.
"""

from __future__ import annotations

import random
import socket
import time
from typing import Any

from edge_agent.diag.broker import per_backend
from edge_agent.diag.core import CheckResult, DiagContext, check, failed, passed, warned
from packet_forwarder import gwmp
from packet_forwarder.errors import GwmpError


@check("udp", "each Semtech UDP server answers a keep-alive", requires=("config",))
def check_udp(ctx: DiagContext) -> CheckResult:
    """PULL_DATA to each ``semtech_udp`` backend's down port; PULL_ACK expected."""
    return per_backend("udp", ctx, lambda b: _one(ctx, b.udp), kind="semtech_udp")


def _one(ctx: DiagContext, udp: Any) -> CheckResult:
    gateway_id = ctx.config.gateway.id or (ctx.daemon_status() or {}).get("gateway_id")
    if not gateway_id:
        return warned(
            "udp",
            "gateway id unknown (not in the config and no daemon answers)",
            "set [gateway] id, or start the daemon so it reads the chip EUI",
        )
    host, port = udp.host, udp.port_down_or_up
    token = random.getrandbits(16)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except socket.gaierror as exc:
        return failed("udp", f"{host} does not resolve: {exc.strerror}", "check the server URL")
    family, kind, proto, _name, address = infos[0]
    started = time.monotonic()
    try:
        with socket.socket(family, kind, proto) as sock:
            sock.settimeout(ctx.timeout_s)
            sock.connect(address)
            sock.send(gwmp.PullData(token, int(gateway_id, 16)).to_bytes())
            while True:
                reply = gwmp.parse_datagram(sock.recv(65_535))
                if isinstance(reply, gwmp.PullAck) and reply.token == token:
                    break
    except TimeoutError:
        return failed(
            "udp",
            f"no PULL_ACK from {host}:{port} within {ctx.timeout_s:.0f} s",
            "check the server runs and listens on that UDP port, that no firewall drops UDP, "
            "and that the server knows this gateway's EUI",
        )
    except GwmpError as exc:
        return failed("udp", f"{host}:{port} answered something not GWMP: {exc}", "check the port")
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return failed("udp", f"{host}:{port}: {reason}", "check the server and the port")
    elapsed_ms = (time.monotonic() - started) * 1000
    return passed("udp", f"{host}:{port} answered PULL_DATA in {elapsed_ms:.0f} ms")
