"""Firmware import from a synthetic sx1302_hal tree (random bytes, not Semtech's) and loading."""

from __future__ import annotations

import hashlib
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from drivers.errors import FirmwareError
from drivers.firmware import IMAGE_SIZE, KNOWN_IMAGES, load_firmware, stand_in_images
from edge_agent.cmd_firmware import ImportFailed, import_firmware, parse_c_array


def var_text(name: str, data: bytes, *, decimal: bool = False) -> str:
    """A .var file in the HAL's layout: a static const array with comments."""
    values = [str(b) if decimal else f"0x{b:02X}" for b in data]
    rows = [", ".join(values[i : i + 16]) for i in range(0, len(values), 16)]
    body = ",\n    ".join(rows)
    return f"/* generated for tests */\nstatic uint8_t {name}[{len(data)}] = {{\n    {body},\n}};\n"


def fake_hal(root: Path, *, agc_size: int = IMAGE_SIZE, seed: int = 1) -> tuple[bytes, bytes]:
    rng = random.Random(seed)
    agc = bytes(rng.randrange(256) for _ in range(agc_size))
    arb = bytes(rng.randrange(256) for _ in range(IMAGE_SIZE))
    src = root / "libloragw" / "src"
    src.mkdir(parents=True)
    (src / "agc_fw_sx1250.var").write_text(var_text("agc_firmware_sx1250", agc))
    (src / "arb_fw.var").write_text(var_text("arb_firmware", arb, decimal=True))
    (root / "VERSION").write_text("2.1.0\n")
    return agc, arb


def test_parser_reads_hex_decimal_and_skips_comments() -> None:
    text = "// x\nconst uint8_t a[] = { 0x0A, /* 99, */ 11 , 0xff, // 7\n 255, };"
    assert parse_c_array(text, "a") == b"\x0a\x0b\xff\xff"


def test_parser_rejects_values_above_a_byte() -> None:
    with pytest.raises(ImportFailed, match=r"a\[1\] = 256"):
        parse_c_array("uint8_t a[2] = {1, 256};", "a")


def test_parser_reports_a_missing_array() -> None:
    with pytest.raises(ImportFailed, match="arb_firmware"):
        parse_c_array("uint8_t other[1] = {1};", "arb_firmware")


def test_random_images_are_refused_with_the_expected_hash(tmp_path: Path) -> None:
    fake_hal(tmp_path / "hal")
    with pytest.raises(ImportFailed, match=r"8f612e87…aae0d4.*--allow-unknown-hash"):
        import_firmware(tmp_path / "hal", tmp_path / "fw")
    assert not (tmp_path / "fw").exists()


def test_allow_unknown_hash_writes_images_manifest_and_licence(tmp_path: Path) -> None:
    agc, arb = fake_hal(tmp_path / "hal")
    manifest = import_firmware(tmp_path / "hal", tmp_path / "fw", allow_unknown_hash=True)
    assert (tmp_path / "fw" / "agc_sx1250.bin").read_bytes() == agc
    assert (tmp_path / "fw" / "arb.bin").read_bytes() == arb
    on_disk = json.loads((tmp_path / "fw" / "manifest.json").read_text())
    assert on_disk == manifest
    assert manifest["hal_version"] == "2.1.0"
    assert manifest["images"]["agc_sx1250"]["expected_version"] == 10
    assert manifest["images"]["arb"]["expected_version"] == 2
    assert manifest["images"]["arb"]["known_hash"] is False
    assert "Semtech S.A." in (tmp_path / "fw" / "LICENSE-semtech.txt").read_text()


def test_a_short_image_is_refused_with_its_size(tmp_path: Path) -> None:
    fake_hal(tmp_path / "hal", agc_size=8000)
    with pytest.raises(ImportFailed, match="8000 bytes, expected 8192"):
        import_firmware(tmp_path / "hal", tmp_path / "fw", allow_unknown_hash=True)


def test_the_src_directory_itself_is_accepted(tmp_path: Path) -> None:
    fake_hal(tmp_path / "hal")
    src = tmp_path / "hal" / "libloragw" / "src"
    assert import_firmware(src, tmp_path / "fw", allow_unknown_hash=True)["images"]["arb"]


def test_a_directory_without_var_files_names_sx1302_hal(tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match="sx1302_hal"):
        import_firmware(tmp_path, tmp_path / "fw")


def test_known_hash_matches_by_prefix_and_suffix() -> None:
    image = KNOWN_IMAGES["arb"]
    assert image.matches("a6f54239" + "0" * 50 + "f80fd0")
    assert not image.matches(hashlib.sha256(b"x").hexdigest())


def test_load_firmware_reads_what_import_wrote(tmp_path: Path) -> None:
    agc, arb = fake_hal(tmp_path / "hal")
    import_firmware(tmp_path / "hal", tmp_path / "fw", allow_unknown_hash=True)
    firmware = load_firmware(tmp_path / "fw")
    assert (firmware.agc, firmware.arb) == (agc, arb)
    assert (firmware.agc_version, firmware.arb_version) == (10, 2)


def test_load_firmware_without_a_directory_explains_the_import() -> None:
    with pytest.raises(FirmwareError, match="edge-agent firmware import"):
        load_firmware(None)


def test_load_firmware_with_a_missing_image_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "agc_sx1250.bin").write_bytes(bytes(IMAGE_SIZE))
    with pytest.raises(FirmwareError, match=r"arb\.bin is missing"):
        load_firmware(tmp_path)


def test_load_firmware_detects_an_image_changed_after_import(tmp_path: Path) -> None:
    fake_hal(tmp_path / "hal")
    import_firmware(tmp_path / "hal", tmp_path / "fw", allow_unknown_hash=True)
    (tmp_path / "fw" / "arb.bin").write_bytes(bytes(IMAGE_SIZE))
    with pytest.raises(FirmwareError, match="changed since it was imported"):
        load_firmware(tmp_path / "fw")


def test_stand_in_images_are_deterministic_and_sized() -> None:
    first, second = stand_in_images(), stand_in_images()
    assert first == second
    assert len(first.agc) == len(first.arb) == IMAGE_SIZE
    assert first.agc != first.arb


def test_cli_import_exit_codes(tmp_path: Path) -> None:
    fake_hal(tmp_path / "hal")
    cmd = [sys.executable, "-m", "edge_agent.cli", "firmware", "import", str(tmp_path / "hal")]
    cmd += ["--dest", str(tmp_path / "fw")]
    refused = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert refused.returncode == 1
    assert "sha256" in refused.stderr
    accepted = subprocess.run([*cmd, "--allow-unknown-hash"], capture_output=True, text=True)
    assert accepted.returncode == 0
    assert "UNKNOWN sha256" in accepted.stdout
