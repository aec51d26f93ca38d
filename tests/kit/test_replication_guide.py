"""docs/replication.md: every runnable shell block runs on the simulator in a temporary root.

Convention (documented at the top of the guide): each ```sh block is preceded by
``<!-- runnable -->`` or ``<!-- not-runnable: reason -->``. Runnable blocks run with ``sh -e``
after the substitutions of ``SUBSTITUTIONS``; non-runnable ones must be in ``NOT_RUNNABLE`` with
the same reason, so no command escapes silently. The real /etc and /var are never touched.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GUIDES = (REPO / "docs" / "replication.md", REPO / "docs" / "fr" / "replication.md")
BLOCK = re.compile(r"(?:<!-- (runnable|not-runnable: [^>]*?) -->\n)?```sh\n(.*?)```", re.S)

# first line of each non-runnable block -> the reason the guide gives
NOT_RUNNABLE = {
    "sudo raspi-config nonint do_spi 0": "raspi-config changes the Pi's boot configuration",
    "ls /dev/spidev0.0 /dev/i2c-1 /dev/ttyAMA0": "lists the Pi's device nodes, absent elsewhere",
    "sudo apt-get install -y python3-venv": (
        "apt and pip need root and the network; the suite installs from the checkout"
    ),
    "sudo systemctl enable --now edge-agent": (
        "systemd and the running service exist only on the installed gateway"
    ),
    "edge-agent --version\nsudo": "pip and systemd need root and the installed gateway",
    "sudo /opt/edge-agent/bin/pip install --force-reinstall": (
        "pip and systemd need root and the installed gateway"
    ),
}


def substitutions(root: Path, broker_url: str) -> list[tuple[str, str]]:
    """What the test changes in a runnable block, in order (the guide's top section says it)."""
    return [
        ("mqtts://lns.example.org:8883 --ca /etc/edge-agent/ca.crt", broker_url),
        # the same broker by another name: config init names identical servers alike
        (
            "mqtts://lns.partner.example.org:8883 --ca /etc/edge-agent/partner-ca.crt",
            broker_url.replace("127.0.0.1", "localhost"),
        ),
        ("--board rak2287", "--board rak2287 --url sim://"),
        ("sudo -u edge-agent ", ""),
        ("sudo ", ""),
        ("/etc/edge-agent", f"{root}/etc/edge-agent"),
        ("/var/lib/edge-agent", f"{root}/var/lib/edge-agent"),
    ]


def blocks(path: Path) -> list[tuple[str | None, str]]:
    """(marker, body) of every ```sh block of ``path``."""
    return [(m.group(1), m.group(2)) for m in BLOCK.finditer(path.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_shell_block_is_marked_and_non_runnable_ones_are_allowed(guide: Path) -> None:
    found = blocks(guide)
    assert sum(marker == "runnable" for marker, _ in found) >= 5
    for marker, body in found:
        assert marker is not None, f"unmarked sh block in {guide}:\n{body}"
        if marker == "runnable":
            continue
        keys = [k for k in NOT_RUNNABLE if body.startswith(k)]
        assert keys, f"non-runnable block not in the allowlist:\n{body}"
        if guide.name == "replication.md" and guide.parent.name == "docs":
            assert marker == f"not-runnable: {NOT_RUNNABLE[keys[0]]}"


def test_the_runnable_blocks_run_on_the_simulator(tmp_path: Path, broker: object) -> None:
    root = tmp_path / "root"
    (root / "etc" / "edge-agent").mkdir(parents=True)
    (root / "var" / "lib" / "edge-agent").mkdir(parents=True)
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    outputs = []
    for marker, body in blocks(GUIDES[0]):
        if marker != "runnable":
            continue
        script = body
        for old, new in substitutions(root, broker.url):  # type: ignore[attr-defined]
            script = script.replace(old, new)
        outside = script.replace(f"{root}/", "$ROOT/")
        assert " /etc/" not in outside and " /var/" not in outside and "sudo" not in script, script
        done = subprocess.run(
            ["sh", "-e", "-c", script],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, f"{script}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
        outputs.append(done.stdout + done.stderr)
    text = "\n".join(outputs)
    # what the guide tells the technician to expect
    assert "edge-agent 0.1.0" in text
    assert "configuration OK" in text
    assert re.search(r"PASS  concentrator +SX1302 version 0x10, EUI [0-9a-f]{16}", text)
    assert "PASS  broker-auth" in text, text
    assert "WARN  broker-pubsub  chirpstack: gateway id unknown" in text
    assert re.search(r"\d+ passed, \d+ warnings?, 0 failed", text)
    assert "WARN  gps            aucun démon ne répond" in text
    assert 'dev_addr_prefixes = ["00800000/10"]' in text
    config = (root / "etc" / "edge-agent" / "config.toml").read_text()
    assert config.count("[[backend]]") == 2
