"""A throw-away PKI made with the ``openssl`` CLI: CA, broker certificate, client certificates
(one valid, one already expired: ``-days -1`` puts notAfter one day before notBefore)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=30)


def _key_and_csr(directory: Path, name: str, subject: str) -> tuple[Path, Path]:
    key, csr = directory / f"{name}.key", directory / f"{name}.csr"
    _openssl(
        "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", str(key), "-out", str(csr), "-subj", subject,
    )  # fmt: skip
    return key, csr


def _sign(directory: Path, csr: Path, name: str, days: int, serial: int, ext: str = "") -> Path:
    crt = directory / f"{name}.crt"
    args = [
        "x509", "-req", "-in", str(csr), "-CA", str(directory / "ca.crt"),
        "-CAkey", str(directory / "ca.key"), "-set_serial", str(serial),
        "-days", str(days), "-out", str(crt),
    ]  # fmt: skip
    if ext:
        ext_file = directory / f"{name}.ext"
        ext_file.write_text(ext + "\n")
        args += ["-extfile", str(ext_file)]
    _openssl(*args)
    return crt


def make_pki(directory: Path) -> dict[str, Path]:
    """CA, ``server`` (127.0.0.1/localhost), ``client`` (valid) and ``expired`` client certs."""
    if shutil.which("openssl") is None:
        raise RuntimeError("the openssl CLI is not installed")
    directory.mkdir(parents=True, exist_ok=True)
    ca_key = directory / "ca.key"
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", str(ca_key), "-out", str(directory / "ca.crt"), "-subj", "/CN=test CA",
        "-days", "365",
    )  # fmt: skip
    out = {"ca": directory / "ca.crt"}
    key, csr = _key_and_csr(directory, "server", "/CN=localhost")
    out["server_key"] = key
    out["server"] = _sign(
        directory, csr, "server", 365, 1, "subjectAltName=IP:127.0.0.1,DNS:localhost"
    )
    key, csr = _key_and_csr(directory, "client", "/CN=0016c001ff1e0001")
    out["client_key"], out["client"] = key, _sign(directory, csr, "client", 365, 2)
    key, csr = _key_and_csr(directory, "expired", "/CN=0016c001ff1e0001")
    out["expired_key"], out["expired"] = key, _sign(directory, csr, "expired", -1, 3)
    for path in directory.iterdir():
        path.chmod(0o644)  # mosquitto may drop to its own user before reading them
    directory.chmod(0o755)
    return out
