"""A daemon-shaped process that uses edge_agent.sdnotify the way the service does:
READY after start, WATCHDOG while healthy (unhealthy while the file argv[1] exists), and
STOPPING on SIGTERM, then exit 0. Run: python -m tests.ops.fake_daemon UNHEALTHY_FLAG."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

from edge_agent import sdnotify


def main() -> int:
    flag = Path(sys.argv[1])
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    watchdog = sdnotify.Watchdog(lambda: not flag.exists())
    watchdog.start()
    sdnotify.ready("running")
    while not stop.wait(0.05):
        pass
    sdnotify.stopping("draining")
    watchdog.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
