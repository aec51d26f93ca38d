"""The SX1302's two MCUs: AGC and arbiter firmware load and start handshakes (ref/sx1302.md §6,
steps 16-19).

The HAL waits on every status without a timeout; here each wait polls at most
``timeout_s / POLL_INTERVAL_S`` times through the chip's injectable ``sleep`` and raises
``HandshakeTimeout`` naming the step and the last status read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from drivers.errors import FirmwareError, HandshakeTimeout
from drivers.firmware import IMAGE_SIZE

if TYPE_CHECKING:
    from drivers.sx1302.chip import SX1302

POLL_INTERVAL_S = 0.001
DEFAULT_TIMEOUT_S = 0.1
AGC_MEM_ADDR = 0x0000
ARB_MEM_ADDR = 0x2000
#: AGC mailbox 3 values announcing the radio A / radio B gains
AGC_RADIO_A_INIT_DONE = 0x80
AGC_RADIO_B_INIT_DONE = 0x20
#: mailbox 0/1 = 0xFF: automatic analog and decimator gain
AGC_GAIN_AUTO = 0xFF
#: ARB_DEBUG_CFG_0: the SF whose detect/allocation statistics the arbiter keeps
ARB_STATS_SF = 7
#: ARB_DEBUG_CFG_2: double-detect packet filtering threshold
ARB_DOUBLE_DETECT_FILTER = 3
#: ARB_DEBUG_CFG_3: dual demodulation off (legacy timestamps); 0xFF all SF (fine timestamps)
ARB_DUAL_DEMOD_OFF, ARB_DUAL_DEMOD_ALL_SF = 0x00, 0xFF


@dataclass(frozen=True)
class AgcStep:
    """One AGC parameter handshake: mailbox values, the mb3 command, the status it answers."""

    name: str
    values: tuple[int, ...]
    command: int
    status: int


def agc_steps(lbt_enable: bool = False) -> tuple[AgcStep, ...]:
    """The SX1250 AGC parameter handshakes after the two radio gain steps (k = 3..0x0B)."""
    return (
        AgcStep("analog gain min/max", (1, 13), 0x03, 0x04),
        AgcStep("analog thresholds", (3, 12), 0x04, 0x05),
        AgcStep("decimator attenuation min/max", (4, 15), 0x05, 0x06),
        AgcStep("decimator thresholds", (40, 80, 90), 0x06, 0x07),
        AgcStep("channel attenuation min/max", (4, 14), 0x07, 0x08),
        AgcStep("channel thresholds", (52, 132), 0x08, 0x09),
        AgcStep("SX1250 PA config", (0, 7, 4), 0x09, 0x0A),
        AgcStep("PA start delay", (8,), 0x0A, 0x0B),
        AgcStep("LBT enable", (int(lbt_enable),), 0x0B, 0x0F),
    )


def wait_status(chip: SX1302, register: str, expected: int, step: str, timeout_s: float) -> None:
    """Poll ``register`` until it reads ``expected``; HandshakeTimeout after ``timeout_s``."""
    polls = max(1, round(timeout_s / POLL_INTERVAL_S))
    status = -1
    for attempt in range(polls):
        status = chip.read_reg(register)
        if status == expected:
            return
        if attempt + 1 < polls:
            chip._sleep(POLL_INTERVAL_S)
    raise HandshakeTimeout(
        f"{step}: timed out after {timeout_s * 1000:.0f} ms waiting for status {expected:#04x} "
        f"({register}), last read {status:#04x}"
    )


def load_firmware(chip: SX1302, mcu: str, image: bytes) -> None:
    """Steps 16/18: hold the MCU, write the image to its memory, read it back, release it."""
    if len(image) != IMAGE_SIZE:
        raise FirmwareError(f"{mcu} firmware has {len(image)} bytes, expected {IMAGE_SIZE}")
    ctrl = f"{mcu}_MCU_CTRL"
    with chip.bulk():
        chip.write_reg(f"{ctrl}_MCU_CLEAR", 1)
        chip.write_reg(f"{ctrl}_HOST_PROG", 1)
        chip.write_reg("COMMON_PAGE_PAGE", 0)
    base = AGC_MEM_ADDR if mcu == "AGC" else ARB_MEM_ADDR
    chip.mem_write(base, image)
    check = chip.mem_read(base, IMAGE_SIZE)
    if check != image:
        offset = next(i for i, (a, b) in enumerate(zip(check, image, strict=True)) if a != b)
        raise FirmwareError(
            f"{mcu} firmware read-back differs at offset {offset:#06x} (address "
            f"{base + offset:#06x}): wrote {image[offset]:#04x}, read {check[offset]:#04x}"
        )
    with chip.bulk():
        chip.write_reg(f"{ctrl}_HOST_PROG", 0)
        chip.write_reg(f"{ctrl}_MCU_CLEAR", 0)
    if chip.read_reg(f"{ctrl}_PARITY_ERROR"):
        raise FirmwareError(f"{mcu} firmware parity error after load ({ctrl} PARITY_ERROR = 1)")


_MB_WR = "AGC_MCU_MCU_MAIL_BOX_WR_DATA_BYTE{n}_MCU_MAIL_BOX_WR_DATA"
_MB_RD = "AGC_MCU_MCU_MAIL_BOX_RD_DATA_BYTE{n}_MCU_MAIL_BOX_RD_DATA"
_AGC_STATUS = "AGC_MCU_MCU_AGC_STATUS_MCU_AGC_STATUS"
_ARB_STATUS = "ARB_MCU_MCU_ARB_STATUS_MCU_ARB_STATUS"


def _agc_exchange(
    chip: SX1302, step: AgcStep, values: tuple[int, ...], check: tuple[int, ...], timeout_s: float
) -> None:
    with chip.bulk():  # the mailbox values, then the command that makes the AGC read them
        for n, value in enumerate(values):
            chip.write_reg(_MB_WR.format(n=n), value)
        chip.write_reg(_MB_WR.format(n=3), step.command)
    wait_status(chip, _AGC_STATUS, step.status, f"AGC {step.name}", timeout_s)
    for n, value in enumerate(check):
        got = chip.read_reg(_MB_RD.format(n=n))
        if got != value:
            raise FirmwareError(f"AGC {step.name}: mailbox {n} reads back {got}, expected {value}")


def start_agc(chip: SX1302, version: int, *, lbt_enable: bool, timeout_s: float) -> None:
    """Step 17: wait for the AGC firmware, check its version, hand it gains and parameters."""
    wait_status(chip, _AGC_STATUS, 0x01, "AGC start", timeout_s)
    got = chip.read_reg(_MB_RD.format(n=0))
    if got != version:
        raise FirmwareError(f"AGC firmware reports version {got}, expected {version}")
    # mailbox 2 = full-duplex flag, 0 on SX1250 boards. The HAL does not write it for SX1250 and
    # relies on its reset value; we write it so that a restart without a chip reset (mailbox 2
    # still holding the PA duty cycle of the previous start) passes too (docs/hardware.md).
    gains = (AGC_GAIN_AUTO, AGC_GAIN_AUTO, 0)
    for name, command, status in (
        ("radio A gains", AGC_RADIO_A_INIT_DONE, 0x02),
        ("radio B gains", AGC_RADIO_B_INIT_DONE, 0x03),
    ):
        _agc_exchange(chip, AgcStep(name, gains, command, status), gains, gains, timeout_s)
    for step in agc_steps(lbt_enable):
        _agc_exchange(chip, step, step.values, step.values, timeout_s)
    chip.write_reg(_MB_WR.format(n=3), 0x0F)  # configuration finished


def start_arb(chip: SX1302, version: int, *, fine_timestamp: bool, timeout_s: float) -> None:
    """Step 19: wait for the arbiter, check its version, configure it and let it resume."""
    wait_status(chip, _ARB_STATUS, 0x01, "ARB start", timeout_s)
    got = chip.read_reg("ARB_MCU_ARB_DEBUG_STS_0_ARB_DEBUG_STS_0")
    if got != version:
        raise FirmwareError(f"ARB firmware reports version {got}, expected {version}")
    cfg = "ARB_MCU_ARB_DEBUG_CFG_{n}_ARB_DEBUG_CFG_{n}"
    dual_demod = ARB_DUAL_DEMOD_ALL_SF if fine_timestamp else ARB_DUAL_DEMOD_OFF
    with chip.bulk():  # the configuration, then the resume that makes the arbiter read it
        chip.write_reg(cfg.format(n=0), ARB_STATS_SF)
        chip.write_reg(cfg.format(n=3), dual_demod)
        chip.write_reg(cfg.format(n=2), ARB_DOUBLE_DETECT_FILTER)
        chip.write_reg(cfg.format(n=1), 1)
    wait_status(chip, _ARB_STATUS, 0x00, "ARB resume", timeout_s)
