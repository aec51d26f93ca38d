"""The SX1302's two MCU images (AGC and arbiter), loaded from the operator's ``firmware_dir``.

The images are Semtech's (sx1302_hal ``libloragw/src/*.var``, Revised BSD) and are not shipped:
``edge-agent firmware import`` extracts them from the operator's copy of sx1302_hal into
``agc_sx1250.bin``, ``arb.bin`` and ``manifest.json``. Each image is 8192 bytes (4096 14-bit
words); the handshake versions the running firmware must report are AGC 10 and ARB 2
(ref/sx1302.md §6). ``stand_in_images()`` gives placeholder bytes for the simulator only.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from drivers.errors import FirmwareError

IMAGE_SIZE = 8192
AGC_FILE = "agc_sx1250.bin"
ARB_FILE = "arb.bin"
AGC_SX1257_FILE = "agc_sx1257.bin"
MANIFEST_FILE = "manifest.json"
LICENSE_FILE = "LICENSE-semtech.txt"
AGC_VERSION = 10
ARB_VERSION = 2
AGC_SX1257_VERSION = 6


@dataclass(frozen=True)
class KnownImage:
    """An image of sx1302_hal 2.1.0: where it is, what it is called, how to recognise it."""

    key: str
    var_file: str
    array: str
    out_file: str
    version: int
    sha256_prefix: str
    sha256_suffix: str

    def matches(self, digest: str) -> bool:
        """True when ``digest`` (hex sha256) has the recorded prefix and suffix."""
        return digest.startswith(self.sha256_prefix) and digest.endswith(self.sha256_suffix)

    @property
    def sha256_hint(self) -> str:
        """The abbreviated digest, as printed in messages."""
        return f"{self.sha256_prefix}…{self.sha256_suffix}"


# ref/sx1302.md §6 (sha256 of the byte arrays, sx1302_hal 2.1.0)
KNOWN_IMAGES = {
    image.key: image
    for image in (
        KnownImage(
            "agc_sx1250",
            "agc_fw_sx1250.var",
            "agc_firmware_sx1250",
            AGC_FILE,
            AGC_VERSION,
            "8f612e87",
            "aae0d4",
        ),
        KnownImage(
            "arb", "arb_fw.var", "arb_firmware", ARB_FILE, ARB_VERSION, "a6f54239", "f80fd0"
        ),
        KnownImage(
            "agc_sx1257",
            "agc_fw_sx1257.var",
            "agc_firmware_sx125x",
            AGC_SX1257_FILE,
            AGC_SX1257_VERSION,
            "28d05612",
            "d400ae66",
        ),
    )
}


@dataclass(frozen=True)
class Firmware:
    """The AGC and ARB images and the versions their handshakes must report."""

    agc: bytes
    arb: bytes
    agc_version: int = AGC_VERSION
    arb_version: int = ARB_VERSION
    source: str = ""


def missing_firmware_help(firmware_dir: str | Path | None) -> str:
    """Operator instructions for getting the images (used by errors and ``diag``)."""
    where = str(firmware_dir) if firmware_dir else "/var/lib/edge-agent/firmware"
    return (
        "The SX1302 firmware images are Semtech's and are not shipped with edge-agent. "
        "Get them from your own copy of sx1302_hal:\n"
        "  git clone https://github.com/Lora-net/sx1302_hal\n"
        f"  edge-agent firmware import sx1302_hal --dest {where}\n"
        f'and set [concentrator] firmware_dir = "{where}".'
    )


def _read_image(directory: Path, name: str) -> bytes:
    path = directory / name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FirmwareError(
            f"firmware image {path} is missing.\n{missing_firmware_help(directory)}"
        ) from None
    except OSError as exc:
        raise FirmwareError(f"cannot read firmware image {path}: {exc}") from exc
    if len(data) != IMAGE_SIZE:
        raise FirmwareError(
            f"firmware image {path} has {len(data)} bytes, expected {IMAGE_SIZE}; "
            "re-run 'edge-agent firmware import'"
        )
    return data


def _manifest(directory: Path) -> dict:
    path = directory / MANIFEST_FILE
    if not path.exists():
        return {}
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise FirmwareError(f"cannot read {path}: {exc}") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("images", {}), dict):
        raise FirmwareError(f"{path} is not an edge-agent firmware manifest")
    return manifest


def load_firmware(firmware_dir: str | Path | None) -> Firmware:
    """Load and check ``agc_sx1250.bin`` and ``arb.bin`` (and the manifest, if present)."""
    if not firmware_dir:
        raise FirmwareError(
            f"[concentrator] firmware_dir is not set.\n{missing_firmware_help(None)}"
        )
    directory = Path(firmware_dir)
    if not directory.is_dir():
        raise FirmwareError(
            f"firmware_dir {directory} does not exist.\n{missing_firmware_help(directory)}"
        )
    images = {
        "agc_sx1250": _read_image(directory, AGC_FILE),
        "arb": _read_image(directory, ARB_FILE),
    }
    versions = {"agc_sx1250": AGC_VERSION, "arb": ARB_VERSION}
    for key, entry in _manifest(directory).get("images", {}).items():
        if key not in images:
            continue
        digest = hashlib.sha256(images[key]).hexdigest()
        if entry.get("sha256") not in (None, digest):
            raise FirmwareError(
                f"{directory / KNOWN_IMAGES[key].out_file} changed since it was imported "
                f"(sha256 {digest[:12]}…, manifest says {str(entry['sha256'])[:12]}…)"
            )
        versions[key] = int(entry.get("expected_version", versions[key]))
    return Firmware(
        agc=images["agc_sx1250"],
        arb=images["arb"],
        agc_version=versions["agc_sx1250"],
        arb_version=versions["arb"],
        source=str(directory),
    )


def _placeholder(label: str) -> bytes:
    out = bytearray()
    counter = 0
    while len(out) < IMAGE_SIZE:
        out += hashlib.sha256(f"edge-agent stand-in {label} {counter}".encode()).digest()
        counter += 1
    return bytes(out[:IMAGE_SIZE])


def stand_in_images() -> Firmware:
    """Deterministic 8192-byte placeholders for the simulator (not Semtech's content)."""
    return Firmware(agc=_placeholder("agc"), arb=_placeholder("arb"), source="stand-in")
