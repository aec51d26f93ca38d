"""A transport wrapper that appends every access to a JSONL trace (``spy+`` URLs).

One line per access, flushed as it happens:

    {"target": 0|1|2, "op": "r"|"w"|"cmd", "addr": int, "data": "hex"}

``r``: the bytes read; ``w``: the bytes written; ``cmd``: ``addr`` is the SX1250 opcode and
``data`` the parameters sent (the reply is not recorded).
"""

from __future__ import annotations

import json
from typing import Any

from drivers.transport import Transport


class SpyTransport(Transport):
    """Forward every call to ``inner`` and record it."""

    def __init__(self, inner: Transport, path: str) -> None:
        self.inner = inner
        self.path = path
        self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()

    def __getattr__(self, name: str) -> Any:
        # only called for attributes not found here: e.g. the simulator's ``sim``
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    @property
    def max_burst(self) -> int:  # type: ignore[override]
        """The inner transport's burst limit."""
        return self.inner.max_burst

    @property
    def url(self) -> str:  # type: ignore[override]
        """The inner transport's URL."""
        return self.inner.url

    @property
    def batched_reads(self) -> bool:  # type: ignore[override]
        """Whether the inner transport sends several reads in one round trip."""
        return self.inner.batched_reads

    @property
    def exhausted(self) -> bool:  # type: ignore[override]
        """Whether the inner (simulated) source has played everything."""
        return self.inner.exhausted

    def _record(self, target: int, op: str, addr: int, data: bytes) -> None:
        if self._file.closed:
            return
        line = {"target": int(target), "op": op, "addr": int(addr), "data": bytes(data).hex()}
        self._file.write(json.dumps(line) + "\n")
        self._file.flush()

    def read(self, target: int, address: int, length: int) -> bytes:
        """Read through the inner transport and record the bytes read."""
        data = self.inner.read(target, address, length)
        self._record(target, "r", address, data)
        return data

    def write(self, target: int, address: int, data: bytes) -> None:
        """Record the bytes, then write them through the inner transport."""
        self._record(target, "w", address, data)
        self.inner.write(target, address, data)

    def command(self, target: int, opcode: int, params: bytes, reply_length: int = 0) -> bytes:
        """Record the command and its parameters, then send it."""
        self._record(target, "cmd", opcode, params)
        return self.inner.command(target, opcode, params, reply_length)

    def reset(self) -> None:
        """Reset through the inner transport."""
        self.inner.reset()

    def flush(self) -> None:
        """Flush the inner transport."""
        self.inner.flush()

    def close(self) -> None:
        """Close the trace file and the inner transport. Idempotent."""
        if not self._file.closed:
            self._file.close()
        self.inner.close()
