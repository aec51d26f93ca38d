"""Per-backend uplink filters: which received packets a backend forwards."""

from __future__ import annotations

from dataclasses import dataclass, field

from packet_forwarder.model import CrcStatus, Uplink


@dataclass(slots=True)
class UplinkFilter:
    """CRC-status filter of one backend, with counters of what it let through or held back."""

    forward_crc_ok: bool = True
    forward_crc_bad: bool = False
    forward_crc_none: bool = False
    forwarded: int = 0
    filtered: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_config(cls, filters: object) -> UplinkFilter:
        """Build from ``edge_agent.config.FilterConfig``."""
        return cls(
            forward_crc_ok=filters.forward_crc_ok,  # type: ignore[attr-defined]
            forward_crc_bad=filters.forward_crc_bad,  # type: ignore[attr-defined]
            forward_crc_none=filters.forward_crc_none,  # type: ignore[attr-defined]
        )

    def reason(self, uplink: Uplink) -> str | None:
        """Why ``uplink`` is filtered out (``"crc_bad"``...), or None when it is forwarded."""
        allowed = {
            CrcStatus.OK: self.forward_crc_ok,
            CrcStatus.BAD: self.forward_crc_bad,
            CrcStatus.NONE: self.forward_crc_none,
        }[uplink.crc_status]
        return None if allowed else f"crc_{uplink.crc_status.value}"

    def accept(self, uplink: Uplink) -> bool:
        """True when the uplink is forwarded; counts either way."""
        reason = self.reason(uplink)
        if reason is None:
            self.forwarded += 1
            return True
        self.filtered[reason] = self.filtered.get(reason, 0) + 1
        return False

    @property
    def filtered_total(self) -> int:
        """Uplinks held back by this filter."""
        return sum(self.filtered.values())
