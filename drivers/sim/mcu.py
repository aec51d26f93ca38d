"""The simulated AGC and arbiter MCUs: firmware memory, start, mailboxes (ref/vectors/README.md).

Behaviour, as the emulator Semtech's HAL ran against:

- MCU memory (AGC 0x0000, ARB 0x2000, 8 KiB each) is writable only while the MCU's HOST_PROG is
  1 (the real chip ignores it otherwise; the simulator refuses loudly when enforcing).
- ``*_MCU_CTRL`` MCU_CLEAR going 1 → 0 while HOST_PROG is 0 starts the firmware: AGC status
  0x5781 = 1 and read-mailbox 0 = the AGC version; ARB status 0x6081 = 1 and STS_0 = the ARB
  version. MCU_CLEAR = 1 stops it again (status 0).
- Each write of AGC write-mailbox byte 3 (0x5789) copies write-mailboxes 0..2 to read-mailboxes
  0..2, then sets the status: 0x80 → 2, 0x20 → 3, 3..0x0A → v + 1, 0x0B → 0x0F; 0x0F after status
  0x0F finishes the AGC configuration.
- Writing 1 to ARB_DEBUG_CFG_1 (0x608A) while the arbiter is started sets its status to 0.

Faults for tests: a wrong version, a read-back error at one address, a parity error, or a
handshake that never completes (``hang``).
"""

from __future__ import annotations

from dataclasses import dataclass

AGC_CTRL, AGC_STATUS = 0x5780, 0x5781
ARB_CTRL, ARB_STATUS = 0x6080, 0x6081
AGC_MB_WR3 = 0x5789
AGC_MB_WR = (0x578C, 0x578B, 0x578A)  # write-mailboxes 0..2
AGC_MB_RD = (0x5790, 0x578F, 0x578E, 0x578D)  # read-mailboxes 0..3
ARB_CFG_1, ARB_STS_0 = 0x608A, 0x608D
MCU_CLEAR, HOST_PROG, PARITY_ERROR = 0x04, 0x02, 0x01
AGC_MEM = range(0x0000, 0x2000)
ARB_MEM = range(0x2000, 0x4000)
#: registers only the firmware writes (the host's writes are ignored)
FIRMWARE_OWNED = frozenset({AGC_STATUS, ARB_STATUS, *AGC_MB_RD, *range(ARB_STS_0, ARB_STS_0 + 16)})
HANG_POINTS = ("agc_start", "agc_mailbox", "arb_start", "arb_resume")
PARITY_TARGETS = ("agc", "arb")


def agc_status_after(command: int) -> int | None:
    """The AGC status a mailbox-3 command leads to (None: no change)."""
    if command == 0x80:
        return 0x02
    if command == 0x20:
        return 0x03
    if 0x03 <= command <= 0x0A:
        return command + 1
    if command == 0x0B:
        return 0x0F
    return None


@dataclass
class McuState:
    """What the two simulated MCUs are doing."""

    agc_running: bool = False
    agc_configured: bool = False
    arb_running: bool = False
    arb_resumed: bool = False

    @property
    def ready(self) -> bool:
        """Both handshakes completed: the chip may receive."""
        return self.agc_configured and self.arb_resumed


class SimMcus:
    """The AGC and ARB firmware model on a SimChip's memory."""

    def __init__(
        self,
        mem: bytearray,
        *,
        agc_version: int = 10,
        arb_version: int = 2,
        hang: str | None = None,
        parity_error: str | None = None,
        readback_error_at: int | None = None,
    ) -> None:
        self.mem = mem
        self.agc_version = agc_version
        self.arb_version = arb_version
        self.hang = hang
        self.parity_error = parity_error
        self.readback_error_at = readback_error_at
        self.state = McuState()

    def host_may_write(self, addr: int) -> bool:
        """True if the host holds the MCU that owns memory address ``addr`` (HOST_PROG = 1)."""
        ctrl = AGC_CTRL if addr in AGC_MEM else ARB_CTRL
        return bool(self.mem[ctrl] & HOST_PROG)

    def read_memory(self, addr: int, length: int) -> bytes:
        """MCU memory as the host reads it back (with the injected read-back error, if any)."""
        data = bytearray(self.mem[addr : addr + length])
        bad = self.readback_error_at
        if bad is not None and addr <= bad < addr + length:
            data[bad - addr] ^= 0xFF
        return bytes(data)

    def on_write(self, addr: int, old: int, new: int) -> None:
        """React to the host writing ``new`` over ``old`` at ``addr``."""
        if addr == AGC_CTRL:
            self._control(new, old, agc=True)
        elif addr == ARB_CTRL:
            self._control(new, old, agc=False)
        elif addr == AGC_MB_WR3:
            self._agc_mailbox(new)
        elif addr == ARB_CFG_1 and new == 1:
            self._arb_resume()

    def _arb_resume(self) -> None:
        if self.state.arb_running and self.hang != "arb_resume":
            self.mem[ARB_STATUS] = 0x00
            self.state.arb_resumed = True

    def _control(self, new: int, old: int, *, agc: bool) -> None:
        ctrl, status = (AGC_CTRL, AGC_STATUS) if agc else (ARB_CTRL, ARB_STATUS)
        name = "agc" if agc else "arb"
        parity = PARITY_ERROR if self.parity_error == name else 0
        self.mem[ctrl] = (new & ~PARITY_ERROR & 0xFF) | (old & PARITY_ERROR)  # bit 0 is RO
        if new & MCU_CLEAR:
            self.mem[status] = 0
            self.mem[ctrl] &= ~PARITY_ERROR & 0xFF
            if agc:
                self.state.agc_running = self.state.agc_configured = False
            else:
                self.state.arb_running = self.state.arb_resumed = False
            return
        if not old & MCU_CLEAR or new & HOST_PROG:
            return
        self.mem[ctrl] |= parity
        if agc:
            self.state.agc_running = True
            if self.hang != "agc_start":
                self.mem[AGC_STATUS] = 0x01
                self.mem[AGC_MB_RD[0]] = self.agc_version
        else:
            self.state.arb_running = True
            if self.hang != "arb_start":
                self.mem[ARB_STATUS] = 0x01
                self.mem[ARB_STS_0] = self.arb_version

    def _agc_mailbox(self, command: int) -> None:
        if not self.state.agc_running:
            return
        if command == 0x0F and self.mem[AGC_STATUS] == 0x0F:
            self.state.agc_configured = True
            return
        if self.hang == "agc_mailbox":
            return
        for wr, rd in zip(AGC_MB_WR, AGC_MB_RD, strict=False):
            self.mem[rd] = self.mem[wr]
        status = agc_status_after(command)
        if status is not None:
            self.mem[AGC_STATUS] = status
