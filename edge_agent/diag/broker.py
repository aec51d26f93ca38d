"""Checks of each ChirpStack backend's MQTT broker: DNS, TCP, TLS and certificates,
authentication, a round trip; and of each Semtech UDP backend's server (``udp``).

Every ``broker-*`` check runs once per ``type = "chirpstack"`` backend and reports the worst
result, each backend's detail prefixed with its name (``town: connected as 'gw1'``).

The round trip subscribes and publishes on ``<prefix>/gateway/<id>/diag/<nonce>``: a topic of
the gateway's own, so an ACL confining each gateway to ``<prefix>/gateway/<id>/#`` allows it
(docs/operator-guide.md). The diagnostic client id is ``<client id>-diag-<nonce>`` so it never
kicks the running daemon's session off the broker.
"""

from __future__ import annotations

import queue
import secrets
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

from edge_agent.diag.core import (
    CheckResult,
    DiagContext,
    check,
    combine,
    failed,
    needs_config,
    passed,
    warned,
)
from edge_agent.tls import TlsSetupError

CERT_WARN_DAYS = 30
TLS_SCHEMES = ("mqtts", "ssl", "tls", "wss")
#: default ports of the websocket schemes (MQTT's are 1883 and 8883)
_WS_PORTS = {"ws": 80, "wss": 443}


@dataclass(frozen=True)
class BrokerTarget:
    """Where the broker is and how to reach it, from ``[mqtt]``."""

    host: str
    port: int
    tls: bool


def broker_target(server: str) -> BrokerTarget:
    """Parse ``tcp://HOST:PORT`` / ``mqtts://HOST:PORT`` / ``ws[s]://HOST:PORT/PATH`` (default
    ports 1883 / 8883 / 80 / 443)."""
    parts = urlsplit(server)
    tls = parts.scheme in TLS_SCHEMES
    default_port = _WS_PORTS.get(parts.scheme, 8883 if tls else 1883)
    return BrokerTarget(parts.hostname or "127.0.0.1", parts.port or default_port, tls)


class _BackendContext:
    """A DiagContext whose ``config.mqtt`` is one backend's ``[mqtt]`` keys."""

    def __init__(self, ctx: DiagContext, mqtt: Any) -> None:
        self._ctx = ctx
        self.config = _ConfigView(ctx.config, mqtt)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ctx, name)


class _ConfigView:
    """The configuration with ``mqtt`` replaced by one backend's."""

    def __init__(self, cfg: Any, mqtt: Any) -> None:
        self._cfg = cfg
        self.mqtt = mqtt

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cfg, name)


def _for(ctx: DiagContext, backend: Any) -> DiagContext:
    """``ctx`` as seen by the checks of one chirpstack backend."""
    return cast(DiagContext, _BackendContext(ctx, backend.mqtt))


def per_backend(
    name: str, ctx: DiagContext, one: Callable[[Any], CheckResult], kind: str = "chirpstack"
) -> CheckResult:
    """Run ``one`` for each backend of type ``kind``; the worst status, every detail named."""
    if skip := needs_config(name, ctx):
        return skip
    backends = [b for b in ctx.config.backends if b.type == kind]
    if not backends:
        return passed(name, f"no {kind} backend configured")
    return combine(name, [(b.name, one(b)) for b in backends])


def _target(ctx: DiagContext) -> BrokerTarget:
    return broker_target(ctx.config.mqtt.server)


def cert_not_after(path: str) -> float:
    """Expiry (epoch seconds) of the PEM certificate at ``path``."""
    decoded = ssl._ssl._test_decode_cert(path)  # type: ignore[attr-defined]
    return ssl.cert_time_to_seconds(decoded["notAfter"])


def _days(seconds: float) -> float:
    return seconds / 86400.0


def _tls_context(ctx: DiagContext) -> ssl.SSLContext:
    from edge_agent.tls import client_context  # the daemon's: never a passphrase prompt

    return client_context(ctx.config.mqtt)


@check("broker-dns", "the broker's host name resolves", requires=("config",))
def check_dns(ctx: DiagContext) -> CheckResult:
    """The broker host name resolves to at least one address."""
    return per_backend("broker-dns", ctx, lambda b: _check_dns(_for(ctx, b)))


def _check_dns(ctx: DiagContext) -> CheckResult:
    if skip := needs_config("broker-dns", ctx):
        return skip
    target = _target(ctx)
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return failed(
            "broker-dns",
            f"{target.host} does not resolve: {exc.strerror}",
            "check [mqtt] server for typos and the DNS servers (resolvectl status, resolv.conf)",
        )
    addresses = sorted({str(info[4][0]) for info in infos})
    return passed("broker-dns", f"{target.host} → {', '.join(addresses)}")


@check("broker-tcp", "a TCP connection to the broker", requires=("broker-dns",))
def check_tcp(ctx: DiagContext) -> CheckResult:
    """A TCP connection to the broker's port opens."""
    return per_backend("broker-tcp", ctx, lambda b: _check_tcp(_for(ctx, b)))


def _check_tcp(ctx: DiagContext) -> CheckResult:
    if skip := needs_config("broker-tcp", ctx):
        return skip
    target = _target(ctx)
    started = time.monotonic()
    try:
        with socket.create_connection((target.host, target.port), timeout=ctx.timeout_s):
            pass
    except OSError as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        return failed(
            "broker-tcp",
            f"cannot connect to {target.host}:{target.port}: {reason}",
            "check the broker runs and listens on that port, and that no firewall blocks it "
            f"(e.g. 'nc -vz {target.host} {target.port}')",
        )
    elapsed_ms = (time.monotonic() - started) * 1000
    return passed("broker-tcp", f"{target.host}:{target.port} connected in {elapsed_ms:.0f} ms")


@check("client-cert", "the gateway's own TLS client certificate is valid", requires=("config",))
def check_client_cert(ctx: DiagContext) -> CheckResult:
    """The configured client certificate exists, matches its key and has not expired."""
    return per_backend("client-cert", ctx, lambda b: _check_client_cert(_for(ctx, b)))


def _check_client_cert(ctx: DiagContext) -> CheckResult:
    if skip := needs_config("client-cert", ctx):
        return skip
    mqtt = ctx.config.mqtt
    if not mqtt.tls_cert:
        return passed("client-cert", "no client certificate configured (password or anonymous)")
    renew = (
        "issue a new certificate for this gateway from your CA and install it at "
        f"{mqtt.tls_cert} (key at {mqtt.tls_key}), then 'systemctl restart edge-agent'"
    )
    try:
        not_after = cert_not_after(mqtt.tls_cert)
    except (OSError, ssl.SSLError, ValueError, KeyError) as exc:
        return failed(
            "client-cert", f"{mqtt.tls_cert} is not a readable PEM certificate: {exc}", renew
        )
    try:
        ssl.create_default_context().load_cert_chain(mqtt.tls_cert, mqtt.tls_key or None)
    except (OSError, ssl.SSLError) as exc:
        return failed(
            "client-cert",
            f"{mqtt.tls_cert} and key {mqtt.tls_key} do not load together: {exc}",
            "the key must be the certificate's own, readable by the service user",
        )
    left = _days(not_after - time.time())
    expiry = time.strftime("%Y-%m-%d", time.gmtime(not_after))
    if left < 0:
        return failed("client-cert", f"{mqtt.tls_cert} expired on {expiry}", renew)
    if left < CERT_WARN_DAYS:
        return warned(
            "client-cert", f"{mqtt.tls_cert} expires on {expiry} ({left:.0f} days)", renew
        )
    return passed("client-cert", f"{mqtt.tls_cert} valid until {expiry} ({left:.0f} days)")


@check("broker-tls", "TLS handshake and the server certificate's expiry", requires=("broker-tcp",))
def check_tls(ctx: DiagContext) -> CheckResult:
    """With ``mqtts://``: the handshake succeeds, the server certificate verifies and is in date."""
    return per_backend("broker-tls", ctx, lambda b: _check_tls(_for(ctx, b)))


def _check_tls(ctx: DiagContext) -> CheckResult:
    if skip := needs_config("broker-tls", ctx):
        return skip
    target = _target(ctx)
    if not target.tls:
        return passed("broker-tls", "plain tcp:// (no TLS configured)")
    try:
        context = _tls_context(ctx)
        with (
            socket.create_connection((target.host, target.port), timeout=ctx.timeout_s) as raw,
            context.wrap_socket(raw, server_hostname=target.host) as tls,
        ):
            cert = tls.getpeercert() or {}
            version = tls.version()
            # TLS 1.3: the server's verdict on our certificate arrives with the first read.
            tls.settimeout(0.5)
            try:
                tls.recv(1)
            except (TimeoutError, ssl.SSLWantReadError):
                pass
    except ssl.SSLCertVerificationError as exc:
        return failed(
            "broker-tls",
            f"server certificate rejected: {exc.verify_message}",
            "set [mqtt] ca_cert to the CA that signed the broker's certificate, and use the host "
            "name the certificate was issued for in [mqtt] server",
        )
    except TlsSetupError as exc:
        return failed(
            "broker-tls",
            str(exc),
            "an encrypted key needs [mqtt] tls_key_password or tls_key_password_file",
        )
    except ssl.SSLError as exc:
        reason = exc.reason or str(exc)
        hint = "check the broker's TLS listener settings and [mqtt] ca_cert/tls_cert/tls_key"
        if "EXPIRED" in reason.upper():
            hint = "the broker refused our client certificate as expired: renew it (client-cert)"
        elif "CERTIFICATE_REQUIRED" in reason.upper() or "HANDSHAKE_FAILURE" in reason.upper():
            hint = "the broker wants a client certificate: set [mqtt] tls_cert and tls_key"
        return failed(
            "broker-tls", f"TLS handshake with {target.host}:{target.port}: {reason}", hint
        )
    except OSError as exc:
        return failed("broker-tls", f"TLS connection failed: {exc}", "see broker-tcp")
    not_after = ssl.cert_time_to_seconds(str(cert["notAfter"])) if "notAfter" in cert else None
    if not_after is None:
        return warned("broker-tls", f"{version}, server certificate not inspected", "")
    left = _days(not_after - time.time())
    expiry = time.strftime("%Y-%m-%d", time.gmtime(not_after))
    if left < CERT_WARN_DAYS:
        return warned(
            "broker-tls",
            f"{version}; server certificate expires on {expiry} ({left:.0f} days)",
            "renew the broker's certificate before it expires",
        )
    return passed("broker-tls", f"{version}; server certificate valid until {expiry}")


def _client(ctx: DiagContext, nonce: str) -> tuple[Any, queue.Queue[tuple[str, Any]]]:
    """A paho client whose callbacks only put events on the returned queue."""
    import paho.mqtt.client as mqtt

    cfg = ctx.config
    base = cfg.mqtt.client_id or cfg.gateway.id or "edge-agent"
    events: queue.Queue[tuple[str, Any]] = queue.Queue()
    ws_path = getattr(cfg.mqtt, "websocket_path", None)  # ws:// and wss:// servers
    client = mqtt.Client(
        callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
        client_id=f"{base}-diag-{nonce}",
        protocol=mqtt.MQTTv311,
        transport="tcp" if ws_path is None else "websockets",
    )
    if ws_path is not None:
        client.ws_set_options(path=ws_path)
    if cfg.mqtt.username:
        client.username_pw_set(cfg.mqtt.username, cfg.mqtt.password)
    if _target(ctx).tls:
        client.tls_set_context(_tls_context(ctx))
    client.on_connect = lambda _c, _u, _f, rc, _p: events.put(("connect", rc))
    client.on_subscribe = lambda _c, _u, _m, rcs, _p: events.put(("subscribe", rcs))
    client.on_message = lambda _c, _u, msg: events.put(("message", msg.payload))
    client.on_disconnect = lambda _c, _u, _f, rc, _p: events.put(("disconnect", rc))
    return client, events


def _wait(events: queue.Queue[tuple[str, Any]], kind: str, timeout_s: float) -> Any:
    """The value of the next ``kind`` event; ConnectionError when the broker hangs up first."""
    deadline = time.monotonic() + timeout_s
    while (left := deadline - time.monotonic()) > 0:
        try:
            got, value = events.get(timeout=left)
        except queue.Empty:
            break
        if got == kind:
            return value
        if got == "disconnect":
            raise ConnectionError(str(value))
    raise TimeoutError(kind)


def _connect(
    ctx: DiagContext, nonce: str
) -> tuple[Any, queue.Queue[tuple[str, Any]], CheckResult | None]:
    """Connect a diagnostic client; the third item is a FAIL result when that did not work."""
    target = _target(ctx)
    client, events = _client(ctx, nonce)
    try:
        client.connect(target.host, target.port, keepalive=30)
    except (OSError, ssl.SSLError) as exc:
        return (
            client,
            events,
            failed(
                "broker-auth",
                f"connect to {target.host}:{target.port}: {exc}",
                "see broker-tcp / broker-tls",
            ),
        )
    client.loop_start()
    try:
        rc = _wait(events, "connect", ctx.timeout_s)
    except ConnectionError as exc:
        return (
            client,
            events,
            failed(
                "broker-auth",
                f"{target.host}:{target.port} closed the connection before CONNACK ({exc})",
                "the broker refused the TLS session or the client: see client-cert and broker-tls, "
                "and the broker's log",
            ),
        )
    except TimeoutError:
        return (
            client,
            events,
            failed(
                "broker-auth",
                f"no CONNACK from {target.host}:{target.port} within {ctx.timeout_s:.0f} s",
                "the broker accepted TCP but did not answer MQTT: is the port an MQTT listener?",
            ),
        )
    if rc.is_failure:
        user = ctx.config.mqtt.username
        who = f"user {user!r}" if user else "anonymous access"
        return (
            client,
            events,
            failed(
                "broker-auth",
                f"broker refused the connection: {rc} ({who})",
                "check [mqtt] username and password against the broker's password file "
                "(mosquitto_passwd), or that this gateway's client certificate is allowed",
            ),
        )
    return client, events, None


def _close(client: Any) -> None:
    try:
        client.disconnect()
    finally:
        client.loop_stop()


@check(
    "broker-auth",
    "the broker accepts the gateway's credentials",
    requires=("broker-tcp", "broker-tls"),
)
def check_auth(ctx: DiagContext) -> CheckResult:
    """An MQTT CONNECT with the configured credentials is accepted (CONNACK 0)."""
    return per_backend("broker-auth", ctx, lambda b: _check_auth(_for(ctx, b)))


def _check_auth(ctx: DiagContext) -> CheckResult:
    if skip := needs_config("broker-auth", ctx):
        return skip
    client, _events, failure = _connect(ctx, secrets.token_hex(4))
    _close(client)
    if failure:
        return failure
    user = ctx.config.mqtt.username
    return passed("broker-auth", f"connected as {user!r}" if user else "connected (anonymous)")


@check(
    "broker-pubsub",
    "publish/subscribe round trip on the gateway's own topic",
    requires=("broker-auth",),
)
def check_pubsub(ctx: DiagContext) -> CheckResult:
    """Subscribe to ``<prefix>/gateway/<id>/diag/<nonce>``, publish there, receive it back."""
    return per_backend("broker-pubsub", ctx, lambda b: _check_pubsub(_for(ctx, b)))


def _check_pubsub(ctx: DiagContext) -> CheckResult:
    if skip := needs_config("broker-pubsub", ctx):
        return skip
    cfg = ctx.config
    gateway_id = cfg.gateway.id or (ctx.daemon_status() or {}).get("gateway_id")
    if not gateway_id:
        return warned(
            "broker-pubsub",
            "gateway id unknown (not in the config and no daemon answers)",
            "set [gateway] id, or start the daemon so it reads the chip EUI",
        )
    nonce = secrets.token_hex(4)
    prefix = cfg.mqtt.topic_prefix
    topic = (
        f"{prefix}/gateway/{gateway_id}/diag/{nonce}"
        if prefix
        else f"gateway/{gateway_id}/diag/{nonce}"
    )
    client, events, failure = _connect(ctx, nonce)
    try:
        if failure:
            return CheckResult("broker-pubsub", failure.status, failure.detail, failure.hint)
        acl_hint = (
            f"the broker's ACL must let this gateway read and write {topic.rsplit('/', 1)[0]}/# "
            "(see the Mosquitto ACL in docs/operator-guide.md)"
        )
        client.subscribe(topic, qos=1)
        try:
            granted = _wait(events, "subscribe", ctx.timeout_s)
        except (TimeoutError, ConnectionError) as exc:
            why = "connection closed" if isinstance(exc, ConnectionError) else "timeout"
            return failed("broker-pubsub", f"no SUBACK for {topic} ({why})", acl_hint)
        if any(rc.is_failure for rc in granted):
            return failed("broker-pubsub", f"subscription to {topic} refused", acl_hint)
        started = time.monotonic()
        client.publish(topic, nonce.encode(), qos=1)
        try:
            payload = _wait(events, "message", ctx.timeout_s)
        except ConnectionError as exc:
            return failed(
                "broker-pubsub", f"broker hung up after publish on {topic}: {exc}", acl_hint
            )
        except TimeoutError:
            return failed(
                "broker-pubsub",
                f"published on {topic} but nothing came back within {ctx.timeout_s:.0f} s",
                acl_hint,
            )
        if payload != nonce.encode():
            return failed(
                "broker-pubsub", f"{topic} returned {payload!r}", "another client uses this topic"
            )
        elapsed_ms = (time.monotonic() - started) * 1000
        return passed("broker-pubsub", f"round trip on {topic} in {elapsed_ms:.0f} ms")
    finally:
        _close(client)
