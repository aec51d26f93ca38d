"""``edge-agent firmware import PATH``: extract the SX1302 MCU images from an sx1302_hal checkout.

The images stay Semtech's: the operator points this command at their own copy of sx1302_hal; it
parses the C arrays of ``libloragw/src/agc_fw_sx1250.var`` and ``arb_fw.var`` into binary files,
checks size and the sha256 known for sx1302_hal 2.1.0, records the expected handshake versions
in ``manifest.json`` and writes the licence notice next to them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

from drivers.firmware import IMAGE_SIZE, KNOWN_IMAGES, LICENSE_FILE, MANIFEST_FILE, KnownImage

DEFAULT_DEST = "/var/lib/edge-agent/firmware"
_COMMENTS = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)

LICENSE_TEXT = """\
SX1302 MCU firmware images (AGC, arbiter)
==========================================

The files {files} in this directory were extracted by `edge-agent firmware import` from the
operator's own copy of Semtech's sx1302_hal ({source}).

They are Copyright (c) Semtech S.A. and are distributed by Semtech under the Revised (3-clause)
BSD licence of sx1302_hal (its LICENSE.TXT). They are present here in binary form by the
operator's own action; edge-agent does not ship them. If you redistribute them, the licence
requires reproducing Semtech's copyright notice, the licence conditions and its disclaimer:
see LICENSE.TXT of sx1302_hal, which you must keep with these files.
"""


class ImportFailed(Exception):
    """The images could not be imported; the message says why and what to do."""


def parse_c_array(text: str, name: str) -> bytes:
    """The bytes of ``name[] = { ... };`` in C source (hex or decimal, comments ignored)."""
    source = _COMMENTS.sub(" ", text)
    match = re.search(rf"\b{re.escape(name)}\s*\[[^\]]*\]\s*=\s*\{{(.*?)\}}", source, re.S)
    if match is None:
        raise ImportFailed(f"no array {name!r} found")
    values = bytearray()
    for index, token in enumerate(t.strip() for t in match.group(1).split(",")):
        if not token:
            continue  # trailing comma
        try:
            value = int(token, 16) if token.lower().startswith("0x") else int(token, 10)
        except ValueError:
            raise ImportFailed(f"{name}[{index}]: {token!r} is not a number") from None
        if not 0 <= value <= 0xFF:
            raise ImportFailed(f"{name}[{index}] = {value} is not a byte")
        values.append(value)
    return bytes(values)


def find_source_dir(path: Path) -> Path:
    """The directory holding the ``.var`` files: PATH, PATH/libloragw/src or PATH/src."""
    for candidate in (path, path / "libloragw" / "src", path / "src"):
        if (candidate / "arb_fw.var").is_file():
            return candidate
    raise ImportFailed(
        f"no arb_fw.var under {path}: give the sx1302_hal checkout or its libloragw/src "
        "(git clone https://github.com/Lora-net/sx1302_hal)"
    )


def extract_image(src: Path, image: KnownImage, *, allow_unknown_hash: bool) -> tuple[bytes, bool]:
    """Parse, size-check and hash-check one image; returns (bytes, hash known)."""
    var = src / image.var_file
    try:
        data = parse_c_array(var.read_text(errors="replace"), image.array)
    except OSError as exc:
        raise ImportFailed(f"cannot read {var}: {exc}") from exc
    except ImportFailed as exc:
        raise ImportFailed(f"{var}: {exc}") from None
    if len(data) != IMAGE_SIZE:
        raise ImportFailed(f"{var}: {image.array} has {len(data)} bytes, expected {IMAGE_SIZE}")
    digest = hashlib.sha256(data).hexdigest()
    known = image.matches(digest)
    if not known and not allow_unknown_hash:
        raise ImportFailed(
            f"{var}: sha256 {digest} is not the {image.key} image of sx1302_hal 2.1.0 "
            f"({image.sha256_hint}). Another HAL release or a modified file may load but fail "
            f"the version handshake (expected {image.version}); re-run with "
            "--allow-unknown-hash to import it anyway"
        )
    return data, known


def import_firmware(
    path: Path, dest: Path, *, allow_unknown_hash: bool = False, sx1257: bool = False
) -> dict:
    """Extract the images into ``dest``; returns the manifest written."""
    src = find_source_dir(path)
    keys = ["agc_sx1250", "arb"] + (["agc_sx1257"] if sx1257 else [])
    extracted = {
        key: extract_image(src, KNOWN_IMAGES[key], allow_unknown_hash=allow_unknown_hash)
        for key in keys
    }
    version_file = next(
        (p / "VERSION" for p in (path, src.parent.parent) if (p / "VERSION").is_file()), None
    )
    manifest = {
        "format": 1,
        "source": str(path.resolve()),
        "hal_version": version_file.read_text().strip() if version_file else None,
        "imported_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "images": {
            key: {
                "file": KNOWN_IMAGES[key].out_file,
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
                "known_hash": known,
                "expected_version": KNOWN_IMAGES[key].version,
            }
            for key, (data, known) in extracted.items()
        },
    }
    dest.mkdir(parents=True, exist_ok=True)
    for key, (data, _known) in extracted.items():
        (dest / KNOWN_IMAGES[key].out_file).write_bytes(data)
    (dest / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
    files = ", ".join(KNOWN_IMAGES[key].out_file for key in keys)
    (dest / LICENSE_FILE).write_text(LICENSE_TEXT.format(files=files, source=manifest["source"]))
    return manifest


def _run_import(args: argparse.Namespace) -> int:
    try:
        manifest = import_firmware(
            Path(args.path),
            Path(args.dest),
            allow_unknown_hash=args.allow_unknown_hash,
            sx1257=args.sx1257,
        )
    except (ImportFailed, OSError) as exc:
        print(f"firmware import failed: {exc}", file=sys.stderr)
        return 1
    for key, entry in manifest["images"].items():
        note = "" if entry["known_hash"] else "  (UNKNOWN sha256: not sx1302_hal 2.1.0)"
        print(f"{args.dest}/{entry['file']}: {key}, {entry['size']} bytes{note}")
    print(f'set [concentrator] firmware_dir = "{args.dest}"')
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``firmware import``."""
    parser = subparsers.add_parser("firmware", help="manage the SX1302 firmware images")
    sub = parser.add_subparsers(dest="firmware_command", metavar="ACTION", required=True)
    imp = sub.add_parser("import", help="extract the images from an sx1302_hal checkout")
    imp.add_argument("path", help="sx1302_hal checkout (or its libloragw/src directory)")
    imp.add_argument("--dest", default=DEFAULT_DEST, help=f"output directory ({DEFAULT_DEST})")
    imp.add_argument(
        "--allow-unknown-hash",
        action="store_true",
        help="import images whose sha256 is not that of sx1302_hal 2.1.0",
    )
    imp.add_argument("--sx1257", action="store_true", help="also import the SX1257 AGC image")
    imp.set_defaults(func=_run_import)
