"""Broker checks against a real mosquitto: unreachable, wrong password, ACL, expired certificate."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

import edge_agent.diag.core as core
from tests.broker import free_port
from tests.ops.pki import make_pki

pytestmark = pytest.mark.broker

BROKER_CHECKS = [
    "broker-dns",
    "broker-tcp",
    "client-cert",
    "broker-tls",
    "broker-auth",
    "broker-pubsub",
]


def run_broker_checks() -> dict[str, core.CheckResult]:
    ctx = core.DiagContext(config_path="test.toml", timeout_s=2.0)
    return {r.name: r for r in core.run_checks(ctx, BROKER_CHECKS)}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_pki(tmp_path_factory.mktemp("pki"))


# mosquitto started as root drops to user 'mosquitto', which cannot read pytest's 0700 tmp tree
KEEP_USER = "user root\n" if os.geteuid() == 0 else ""


def password_file(directory: Path, user: str, password: str) -> Path:
    path = directory / "passwords"
    subprocess.run(
        ["mosquitto_passwd", "-c", "-b", str(path), user, password], check=True, timeout=30
    )
    path.chmod(0o644)
    return path


def test_unknown_host_fails_dns_and_skips_the_rest(use_config) -> None:
    use_config(mqtt={"server": "tcp://broker.invalid:1883"})
    results = run_broker_checks()
    assert results["broker-dns"].status == "fail"
    assert "broker.invalid does not resolve" in results["broker-dns"].detail
    assert results["broker-tcp"].detail == "skipped: broker-dns failed"


def test_unreachable_broker_fails_tcp_with_a_hint(use_config) -> None:
    port = free_port()
    use_config(mqtt={"server": f"tcp://127.0.0.1:{port}"})
    results = run_broker_checks()
    assert results["broker-tcp"].status == "fail"
    assert (
        results["broker-tcp"].detail
        == f"chirpstack: cannot connect to 127.0.0.1:{port}: Connection refused"
    )
    assert "listens on that port" in results["broker-tcp"].hint
    assert results["broker-auth"].status == "warn"
    assert results["broker-pubsub"].status == "warn"


def test_reachable_anonymous_broker_passes_every_check(use_config, broker) -> None:
    use_config(mqtt={"server": broker.url})
    results = run_broker_checks()
    assert {r.status for r in results.values()} == {"pass"}, results
    assert results["broker-pubsub"].detail.startswith(
        "chirpstack: round trip on eu868/gateway/0016c001ff1e0001/diag/"
    )


def test_wrong_password_fails_auth_with_a_hint(use_config, broker_factory, tmp_path) -> None:
    broker = broker_factory(
        password_file=password_file(tmp_path, "gw1", "right"), extra_config=KEEP_USER
    ).start()
    use_config(mqtt={"server": broker.url, "username": "gw1", "password": "wrong"})
    results = run_broker_checks()
    assert results["broker-tcp"].status == "pass"
    auth = results["broker-auth"]
    assert auth.status == "fail"
    assert auth.detail.startswith("chirpstack: broker refused the connection: ")
    assert "Not authorized" in auth.detail or "Bad user name or password" in auth.detail
    assert "mosquitto_passwd" in auth.hint
    assert results["broker-pubsub"].detail == "skipped: broker-auth failed"


def test_right_password_passes_auth(use_config, broker_factory, tmp_path) -> None:
    broker = broker_factory(
        password_file=password_file(tmp_path, "gw1", "right"), extra_config=KEEP_USER
    ).start()
    use_config(mqtt={"server": broker.url, "username": "gw1", "password": "right"})
    results = run_broker_checks()
    assert results["broker-auth"].detail == "chirpstack: connected as 'gw1'"
    assert results["broker-pubsub"].status == "pass"


def test_acl_without_the_diag_topic_fails_the_round_trip(
    use_config, broker_factory, tmp_path
) -> None:
    acl = tmp_path / "acl"
    acl.write_text(
        "pattern write eu868/gateway/%u/event/#\npattern read eu868/gateway/%u/command/#\n"
    )
    acl.chmod(0o644)
    broker = broker_factory(
        password_file=password_file(tmp_path, "0016c001ff1e0001", "pw"),
        extra_config=f"{KEEP_USER}acl_file {acl}",
    ).start()
    use_config(mqtt={"server": broker.url, "username": "0016c001ff1e0001", "password": "pw"})
    result = run_broker_checks()["broker-pubsub"]
    assert result.status == "fail"
    assert "eu868/gateway/0016c001ff1e0001/diag/#" in result.hint


def tls_broker(broker_factory, pki: dict[str, Path]):
    return broker_factory(
        tls={
            "cafile": pki["ca"],
            "certfile": pki["server"],
            "keyfile": pki["server_key"],
            "require_certificate": True,
        },
        extra_config=KEEP_USER,
    ).start()


def test_valid_client_certificate_passes_tls_auth_and_round_trip(
    use_config, broker_factory, pki
) -> None:
    broker = tls_broker(broker_factory, pki)
    use_config(
        mqtt={
            "server": f"mqtts://127.0.0.1:{broker.port}",
            "ca_cert": str(pki["ca"]),
            "tls_cert": str(pki["client"]),
            "tls_key": str(pki["client_key"]),
        }
    )
    results = run_broker_checks()
    assert {r.status for r in results.values()} == {"pass"}, results
    assert "server certificate valid until" in results["broker-tls"].detail


def test_expired_client_certificate_fails_with_a_renew_hint(
    use_config, broker_factory, pki
) -> None:
    broker = tls_broker(broker_factory, pki)
    use_config(
        mqtt={
            "server": f"mqtts://127.0.0.1:{broker.port}",
            "ca_cert": str(pki["ca"]),
            "tls_cert": str(pki["expired"]),
            "tls_key": str(pki["expired_key"]),
        }
    )
    results = run_broker_checks()
    cert = results["client-cert"]
    assert cert.status == "fail"
    assert cert.detail.startswith(f"chirpstack: {pki['expired']} expired on ")
    assert "issue a new certificate" in cert.hint
    tls = results["broker-tls"]  # the broker refuses the handshake too
    assert (tls.status, tls.detail.endswith("CERTIFICATE_EXPIRED")) == ("fail", True)
    assert results["broker-auth"].detail == "skipped: broker-tls failed"


def test_missing_client_certificate_on_a_mtls_broker_fails_tls(
    use_config, broker_factory, pki
) -> None:
    broker = tls_broker(broker_factory, pki)
    use_config(mqtt={"server": f"mqtts://127.0.0.1:{broker.port}", "ca_cert": str(pki["ca"])})
    result = run_broker_checks()["broker-tls"]
    assert result.status == "fail"


def test_unknown_ca_fails_server_verification(use_config, broker_factory, pki) -> None:
    broker = tls_broker(broker_factory, pki)
    use_config(
        mqtt={
            "server": f"mqtts://127.0.0.1:{broker.port}",
            "tls_cert": str(pki["client"]),
            "tls_key": str(pki["client_key"]),
        }
    )
    result = run_broker_checks()["broker-tls"]
    assert result.status == "fail"
    assert result.detail.startswith("chirpstack: server certificate rejected: ")
    assert "ca_cert" in result.hint


def operator_guide_acl() -> str:
    """The Mosquitto ACL printed in docs/operator-guide.md (the block after its test marker)."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "operator-guide.md").read_text()
    after = text.split("<!-- test: mosquitto-acl", 1)[1]
    return after.split("```text\n", 1)[1].split("```", 1)[0]


def test_operator_guide_acl_allows_the_round_trip_on_the_gateways_own_topic(
    use_config, broker_factory, tmp_path
) -> None:
    acl = tmp_path / "acl"
    acl.write_text(operator_guide_acl())
    acl.chmod(0o644)
    broker = broker_factory(
        password_file=password_file(tmp_path, "0016c001ff1e0001", "pw"),
        extra_config=f"{KEEP_USER}acl_file {acl}",
    ).start()
    use_config(mqtt={"server": broker.url, "username": "0016c001ff1e0001", "password": "pw"})
    assert run_broker_checks()["broker-pubsub"].status == "pass"


def test_operator_guide_acl_keeps_a_gateway_out_of_another_gateways_topics(
    use_config, broker_factory, tmp_path
) -> None:
    acl = tmp_path / "acl"
    acl.write_text(operator_guide_acl())
    acl.chmod(0o644)
    broker = broker_factory(
        password_file=password_file(tmp_path, "0016c001ff1e0002", "pw"),
        extra_config=f"{KEEP_USER}acl_file {acl}",
    ).start()
    # authenticated as gateway ...0002 but configured with the id of gateway ...0001
    use_config(mqtt={"server": broker.url, "username": "0016c001ff1e0002", "password": "pw"})
    result = run_broker_checks()["broker-pubsub"]
    assert result.status == "fail"
