"""Client keys made with the ``openssl`` CLI: plain, PKCS#8-encrypted and legacy-encrypted PEM."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

PASSWORD = "correct horse battery"


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=30)


def make_keys(directory: Path) -> dict[str, Path]:
    """``plain`` key, ``pkcs8`` and ``legacy`` encryptions of it (``PASSWORD``), and ``cert``."""
    if shutil.which("openssl") is None:
        raise RuntimeError("the openssl CLI is not installed")
    directory.mkdir(parents=True, exist_ok=True)
    out = {name: directory / f"{name}.key" for name in ("plain", "pkcs8", "legacy")}
    _openssl(
        "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-out", str(out["plain"]),
    )  # fmt: skip
    _openssl(
        "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", str(out["plain"]),
        "-out", str(out["pkcs8"]), "-passout", f"pass:{PASSWORD}",
    )  # fmt: skip
    _openssl(
        "ec", "-aes256", "-in", str(out["plain"]), "-out", str(out["legacy"]),
        "-passout", f"pass:{PASSWORD}",
    )  # fmt: skip
    out["cert"] = directory / "client.crt"
    _openssl(
        "req", "-new", "-x509", "-key", str(out["plain"]), "-subj", "/CN=0016c001ff1e0001",
        "-days", "2", "-out", str(out["cert"]),
    )  # fmt: skip
    for path in out.values():
        path.chmod(0o600)
    return out
