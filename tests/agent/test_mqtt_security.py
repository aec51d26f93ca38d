"""TLS (server and client certificates) and username/password against a real mosquitto."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from chirpstack_api import gw

from edge_agent.config import parse_config
from edge_agent.service import AgentService
from tests.agent.fakes import FakeConcentrator, make_uplink
from tests.agent.mqtt_helpers import GW_ID, Subscriber, config_text
from tests.waiting import wait_until

pytestmark = pytest.mark.broker

# as root, mosquitto drops to user "mosquitto", which cannot read pytest's 0700 tmp dir
AS_ROOT = "user root" if os.geteuid() == 0 else ""


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def pki(tmp_path: Path) -> Path:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    d = tmp_path / "pki"
    d.mkdir()
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
            "-subj", "/CN=edge-agent test CA", cwd=d)  # fmt: skip
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    for name in ("server", "client"):
        subj = "/CN=127.0.0.1" if name == "server" else f"/CN={GW_ID}"
        openssl("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subj, cwd=d)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", f"{name}.crt", "-days", "2",
                "-extfile", "san.ext", cwd=d)  # fmt: skip
    return d


def run_until_delivered(made: list[AgentService], text: str) -> AgentService:
    svc = AgentService(parse_config(text), concentrator_factory=lambda _c: FakeConcentrator(
        [make_uplink(5)]))  # fmt: skip
    made.append(svc)
    svc.start()
    wait_until(lambda: svc.done, 15, "the broker to confirm the uplink")
    return svc


def test_mqtts_with_ca_cert(broker_factory, pki: Path, running) -> None:
    tls = {"cafile": pki / "ca.crt", "certfile": pki / "server.crt", "keyfile": pki / "server.key"}
    broker = broker_factory(tls=tls, extra_config=AS_ROOT).start()
    sub = Subscriber(broker.port, "+/gateway/+/event/up", ca_cert=str(pki / "ca.crt"))
    text = config_text(f"mqtts://127.0.0.1:{broker.port}", extra_mqtt=f'ca_cert = "{pki}/ca.crt"')
    run_until_delivered(running, text)
    frame = gw.UplinkFrame.FromString(sub.collect("/event/up", 1)[0].payload)
    assert frame.phy_payload == make_uplink(5).phy_payload
    sub.close()


def test_mqtts_with_client_certificate(broker_factory, pki: Path, running) -> None:
    tls = {"cafile": pki / "ca.crt", "certfile": pki / "server.crt", "keyfile": pki / "server.key",
           "require_certificate": True}  # fmt: skip
    broker = broker_factory(tls=tls, extra_config=AS_ROOT).start()
    extra = (f'ca_cert = "{pki}/ca.crt"\ntls_cert = "{pki}/client.crt"\n'
             f'tls_key = "{pki}/client.key"')  # fmt: skip
    svc = run_until_delivered(running, config_text(f"mqtts://127.0.0.1:{broker.port}",
                                                          extra_mqtt=extra))  # fmt: skip
    assert svc.backend.counters.uplinks_acked == 1


def test_wrong_ca_is_refused_and_retried(broker_factory, pki: Path, running, tmp_path) -> None:
    tls = {"cafile": pki / "ca.crt", "certfile": pki / "server.crt", "keyfile": pki / "server.key"}
    broker = broker_factory(tls=tls, extra_config=AS_ROOT).start()
    other = tmp_path / "other"
    other.mkdir()
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    openssl("req", "-x509", *ec, "-keyout", "o.key", "-out", "o.crt", "-days", "2",
            "-subj", "/CN=other", cwd=other)  # fmt: skip
    text = config_text(f"mqtts://127.0.0.1:{broker.port}", extra_mqtt=f'ca_cert = "{other}/o.crt"')
    svc = AgentService(parse_config(text), concentrator_factory=lambda _c: FakeConcentrator())
    running.append(svc)
    svc.start()
    wait_until(lambda: svc.backend.counters.connect_failures >= 2, 10, "two refused connects")
    assert not svc.backend.connected.is_set()


@pytest.fixture
def password_file(tmp_path: Path) -> Path:
    tool = shutil.which("mosquitto_passwd")
    if tool is None:
        pytest.skip("mosquitto_passwd is not installed (package mosquitto)")
    path = tmp_path / "passwd"
    subprocess.run([tool, "-b", "-c", str(path), "gateway", "s3cret"], check=True,
                   capture_output=True)  # fmt: skip
    return path


def test_username_and_password(broker_factory, password_file: Path, running) -> None:
    broker = broker_factory(password_file=password_file, extra_config=AS_ROOT).start()
    sub = Subscriber(broker.port, "+/gateway/+/event/up", username="gateway", password="s3cret")
    text = config_text(broker.url, extra_mqtt='username = "gateway"\npassword = "s3cret"')
    run_until_delivered(running, text)
    assert len(sub.collect("/event/up", 1)) == 1
    sub.close()


def test_wrong_password_is_refused(broker_factory, password_file: Path, running) -> None:
    broker = broker_factory(password_file=password_file, extra_config=AS_ROOT).start()
    text = config_text(broker.url, extra_mqtt='username = "gateway"\npassword = "wrong"')
    svc = AgentService(parse_config(text), concentrator_factory=lambda _c: FakeConcentrator())
    running.append(svc)
    svc.start()
    wait_until(lambda: svc.backend.counters.connect_failures >= 1, 10, "a refused connect")
    assert svc.backend.counters.connects == 0
