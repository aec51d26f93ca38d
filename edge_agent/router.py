"""Per-backend uplink filters: which received packets each backend forwards.

A backend's filter looks at the CRC status, then at the LoRaWAN header (parsed once per uplink
by ``parse_header``, shared by every backend):

- data frames (up, and downlinks heard from other gateways): with ``dev_addr_prefixes`` and/or
  ``net_ids`` set, the DevAddr must start with one of the prefixes or belong to one of the NetIDs;
- join requests (and type-1 rejoins): with ``join_eui_prefixes`` set, the JoinEUI must match one;
- type-0/2 rejoins: with ``net_ids`` set, their NetID must be one of them;
- join-accepts (no clear identifier) go only to backends without identifier filters;
- proprietary frames, downlink frames heard from other gateways and anything that does not
  parse as LoRaWAN R1 go only where ``lorawan_only`` is false.
An empty filter list admits everything of its kind. docs/shared-network.md shows it at work.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from edge_agent.config import BackendFilters
from packet_forwarder.errors import PhyError
from packet_forwarder.lorawan import (
    DATA_MTYPES,
    DEV_ADDR_BITS,
    EUI_BITS,
    MType,
    PhyHeader,
    dev_addr_in_net_id,
    parse_prefix,
)
from packet_forwarder.model import CrcStatus, Uplink

#: LoRaWAN R1, the only major version (MHDR bits 1..0)
LORAWAN_R1 = 0


def parse_header(phy_payload: bytes) -> PhyHeader | None:
    """The LoRaWAN header of a PHYPayload, or None when it is not a LoRaWAN R1 frame."""
    try:
        header = PhyHeader.from_bytes(phy_payload)
    except (PhyError, ValueError):
        return None
    return header if header.major == LORAWAN_R1 else None


def _matches(value: int, prefixes: tuple[tuple[int, int], ...], width_bits: int) -> bool:
    for expected, bits in prefixes:
        shift = width_bits - bits
        if value >> shift == expected >> shift:
            return True
    return False


@dataclass(slots=True)
class UplinkFilter:
    """One backend's filter, with counters of what it let through or held back (by reason)."""

    forward_crc_ok: bool = True
    forward_crc_bad: bool = False
    forward_crc_none: bool = False
    lorawan_only: bool = False
    #: (value, bits) pairs parsed from "26000000/7"
    dev_addr_prefixes: tuple[tuple[int, int], ...] = ()
    join_eui_prefixes: tuple[tuple[int, int], ...] = ()
    net_ids: tuple[int, ...] = ()
    forwarded: int = 0
    filtered: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_config(cls, filters: BackendFilters) -> UplinkFilter:
        """Build from ``edge_agent.config.BackendFilters`` (prefix strings already validated)."""
        return cls(
            forward_crc_ok=filters.forward_crc_ok,
            forward_crc_bad=filters.forward_crc_bad,
            forward_crc_none=filters.forward_crc_none,
            lorawan_only=filters.lorawan_only,
            dev_addr_prefixes=tuple(
                parse_prefix(p, DEV_ADDR_BITS) for p in filters.dev_addr_prefixes
            ),
            join_eui_prefixes=tuple(parse_prefix(p, EUI_BITS) for p in filters.join_eui_prefixes),
            net_ids=tuple(int(n) for n in filters.net_ids),
        )

    @property
    def identifies(self) -> bool:
        """True when the filter selects devices (DevAddr, JoinEUI or NetID lists)."""
        return bool(self.dev_addr_prefixes or self.join_eui_prefixes or self.net_ids)

    def reason(self, uplink: Uplink, header: PhyHeader | None = None) -> str | None:
        """Why ``uplink`` is filtered out (``"crc_bad"``, ``"dev_addr"``...), or None when it is
        forwarded. ``header`` is ``parse_header(uplink.phy_payload)``, parsed once by the caller."""
        allowed = {
            CrcStatus.OK: self.forward_crc_ok,
            CrcStatus.BAD: self.forward_crc_bad,
            CrcStatus.NONE: self.forward_crc_none,
        }[uplink.crc_status]
        if not allowed:
            return f"crc_{uplink.crc_status.value}"
        if header is None:
            return "not_lorawan" if self.lorawan_only else None
        return self._lorawan_reason(header)

    def _lorawan_reason(self, header: PhyHeader) -> str | None:
        mtype = header.mtype
        if mtype is MType.PROPRIETARY:
            return "proprietary" if self.lorawan_only else None
        if self.lorawan_only and not header.is_uplink:  # another gateway's downlink, heard
            return "downlink"
        if mtype in DATA_MTYPES:
            return None if self._address_admits(header.dev_addr or 0) else "dev_addr"
        if mtype is MType.JOIN_REQUEST or (
            mtype is MType.REJOIN_REQUEST and header.join_eui is not None
        ):
            if not self.join_eui_prefixes:
                return None
            ok = _matches(header.join_eui or 0, self.join_eui_prefixes, EUI_BITS)
            return None if ok else "join_eui"
        if mtype is MType.REJOIN_REQUEST:
            return None if not self.net_ids or header.net_id in self.net_ids else "net_id"
        # a join-accept heard from another gateway: encrypted, nothing to select it by
        return "join_accept" if self.identifies else None

    def _address_admits(self, dev_addr: int) -> bool:
        if not self.dev_addr_prefixes and not self.net_ids:
            return True
        if _matches(dev_addr, self.dev_addr_prefixes, DEV_ADDR_BITS):
            return True
        return any(dev_addr_in_net_id(dev_addr, net_id) for net_id in self.net_ids)

    def accept(self, uplink: Uplink, header: PhyHeader | None = None) -> bool:
        """True when the uplink is forwarded; counts either way."""
        reason = self.reason(uplink, header)
        if reason is None:
            self.forwarded += 1
            return True
        self.filtered[reason] = self.filtered.get(reason, 0) + 1
        return False

    @property
    def filtered_total(self) -> int:
        """Uplinks held back by this filter."""
        return sum(self.filtered.values())
