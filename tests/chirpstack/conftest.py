"""Fixtures of the ChirpStack parity tests (issue 13): services stopped at teardown, and the
official JavaScript decoder (``tests/js``), installed once per session."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.agent.mqtt_helpers import running  # noqa: F401  (a fixture for the tests here)

JS_DIR = Path(__file__).resolve().parents[1] / "js"
JS_PACKAGE = JS_DIR / "node_modules" / "@chirpstack" / "chirpstack-api" / "gw" / "gw_pb.js"

#: decodes [(message type, protobuf bytes)] into google-protobuf ``toObject()`` dicts
JsDecoder = Callable[[Sequence[tuple[str, bytes]]], list[dict[str, Any]]]


@pytest.fixture(scope="session")
def js_decoder() -> JsDecoder:
    """``@chirpstack/chirpstack-api`` under Node: installed into tests/js/node_modules (ignored
    by git) on first use from tests/js/package-lock.json."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed to decode with @chirpstack/chirpstack-api")
    if not JS_PACKAGE.exists():
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=JS_DIR,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"npm ci in {JS_DIR} failed: {done.stderr[-2000:]}"

    def decode(messages: Sequence[tuple[str, bytes]]) -> list[dict[str, Any]]:
        stdin = json.dumps([{"type": kind, "hex": data.hex()} for kind, data in messages])
        done = subprocess.run(
            [node, str(JS_DIR / "decode.js")],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        decoded: list[dict[str, Any]] = json.loads(done.stdout)
        return decoded

    return decode
