"""``config init`` on a terminal: a real pseudo-terminal, prompts with defaults, a wrong answer
asked again, detection reported, the file written and valid."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

from edge_agent.config import load_config
from edge_agent.config_init import candidates


class Terminal:
    """A child process on a pty; ``expect`` reads until a text shows, ``send`` types a line."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        self.master, slave = pty.openpty()
        env = dict(os.environ, TERM="dumb")
        self.proc = subprocess.Popen(
            args, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env, close_fds=True
        )
        os.close(slave)
        self.seen = ""

    def expect(self, text: str, timeout_s: float = 20.0) -> str:
        deadline = time.monotonic() + timeout_s
        while text not in self.seen:
            left = deadline - time.monotonic()
            assert left > 0, f"never saw {text!r}; screen:\n{self.seen}"
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # the child closed the terminal
                    chunk = b""
                assert chunk, f"terminal closed before {text!r}; screen:\n{self.seen}"
                self.seen += chunk.decode(errors="replace")
        found, self.seen = self.seen, self.seen[self.seen.index(text) + len(text) :]
        return found

    def send(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\r")

    def close(self) -> int:
        try:
            return self.proc.wait(timeout=20)
        finally:
            os.close(self.master)


def test_interactive_init_asks_reasks_and_writes_a_valid_file(tmp_path: Path) -> None:
    out = tmp_path / "config.toml"
    term = Terminal(
        [sys.executable, "-m", "edge_agent.cli", "config", "init", "-o", str(out)], tmp_path
    )
    try:
        screen = term.expect("Board [")
        if not candidates():  # no concentrator device here: detection says so, default none
            assert "No concentrator device" in screen
        term.expect("]: ")
        term.send("not-a-board")
        term.expect("unknown board 'not-a-board'")
        term.expect("Board [")
        term.send("rak2287")
        term.expect("Region [EU868]: ")
        term.send("")
        term.expect("Gateway id (empty: the chip's EUI): ")
        term.send("0016c001ff1e0042")
        term.expect("Network server: ")
        term.send("")
        term.expect("at least one network server is needed")
        term.send("mqtt://broker.example.org:1883")
        term.expect("MQTT username (empty: none): ")
        term.send("")
        term.expect("Network server: ")
        term.send("udp://ns.example.org:1700")
        term.expect("Network server: ")
        term.send("")
        term.expect("Spool file [/var/lib/edge-agent/spool.db]: ")
        term.send("spool.db")
        term.expect("wrote")
    finally:
        code = term.close()
    assert code == 0
    cfg = load_config(out)
    assert (cfg.concentrator.board, cfg.concentrator.region) == ("rak2287", "EU868")
    assert cfg.gateway.id == "0016c001ff1e0042"
    assert [(b.type, (b.mqtt or b.udp).server) for b in cfg.backends] == [  # type: ignore[union-attr]
        ("chirpstack", "mqtt://broker.example.org:1883"),
        ("semtech_udp", "udp://ns.example.org:1700"),
    ]
    assert cfg.spool.path == str(tmp_path / "spool.db")
    assert out.stat().st_mode & 0o777 == 0o640
