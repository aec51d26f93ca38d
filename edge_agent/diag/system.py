"""Checks of the host: config, groups, concentrator device, GPIO, firmware, clock, disk."""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import grp
import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

from edge_agent.diag.core import (
    CheckResult,
    DiagContext,
    check,
    failed,
    needs_config,
    passed,
    warned,
)
from edge_agent.file_modes import FileProblem, config_problems
from edge_agent.spool_config import SpoolConfig

SPI_HINT = (
    "SPI is disabled: run raspi-config → Interface Options → SPI, then reboot "
    "(or add 'dtparam=spi=on' to /boot/firmware/config.txt and reboot)"
)
FIRMWARE_FILES = ("agc_sx1250.bin", "arb.bin")
FIRMWARE_SIZE = 8192  # sx1302_hal *.var arrays: 4096 14-bit words = 8192 bytes each
DEFAULT_SPOOL = SpoolConfig().path


def spool_path(ctx: DiagContext) -> Path:
    """The spool file from ``[spool] path`` or the default."""
    table = getattr(ctx.config, "spool", None) or {}
    if isinstance(table, dict):
        return Path(table.get("path", DEFAULT_SPOOL))
    return Path(getattr(table, "path", DEFAULT_SPOOL))


def concentrator_device(url: str) -> tuple[str, str | None]:
    """``(scheme, device path)`` of a concentrator URL; ``spy+`` is stripped, sim has no path."""
    parts = urlsplit(url)
    scheme = parts.scheme.removeprefix("spy+")
    if scheme in ("spi", "usb"):
        return scheme, parts.path or None
    return scheme, None


def _groups_of_process() -> set[int]:
    return {os.getegid(), *os.getgroups()}


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


@check("config", "the configuration file loads and validates")
def check_config(ctx: DiagContext) -> CheckResult:
    """The config file parses and validates."""
    if ctx.config is None:
        return failed(
            "config",
            ctx.config_error or "configuration did not load",
            f"fix {ctx.config_path} (the message names the key); "
            "'edge-agent config check -c FILE' shows the same error",
        )
    cfg = ctx.config
    gw_id = cfg.gateway.id or "from chip EUI"
    facts = (
        f"{ctx.config_path}: gateway {gw_id}, {cfg.concentrator.region}, "
        f"concentrator {cfg.concentrator.url}, "
        + ", ".join(f"backend {b.name} {_server(b)}" for b in cfg.backends)
    )
    return _with_file_problems(facts, config_problems(ctx.config_path, cfg))


def _with_file_problems(facts: str, problems: list[FileProblem]) -> CheckResult:
    """PASS, or FAIL (a file the daemon refuses) / WARN naming each file and its fix."""
    if not problems:
        return passed("config", facts)
    detail = f"{facts}; " + "; ".join(str(p) for p in problems)
    hint = "; ".join(dict.fromkeys(p.hint for p in problems))
    if any(p.refused for p in problems):
        return failed("config", detail + " (the daemon refuses to start with it)", hint)
    return warned("config", detail, hint)


def _server(backend: object) -> str:
    """A backend's server URL (``[mqtt] server`` or the Semtech UDP ``server``)."""
    section = getattr(backend, "mqtt", None) or getattr(backend, "udp", None)
    return str(getattr(section, "server", "?"))


def _needed_devices(ctx: DiagContext) -> list[tuple[str, str]]:
    """``(path, usual group)`` of every device node the config needs."""
    scheme, path = concentrator_device(ctx.config.concentrator.url)
    needed: list[tuple[str, str]] = []
    if scheme == "spi" and path:
        needed.append((path, "spi"))
        needed += [(p, "gpio") for p in sorted(glob.glob("/dev/gpiochip*"))[:1]]
    elif scheme == "usb" and path:
        needed.append((path, "dialout"))
    return needed


@check("groups", "the user is in the groups the devices need")
def check_groups(ctx: DiagContext) -> CheckResult:
    """The process may open every device node it needs (by group or ownership)."""
    if skip := needs_config("groups", ctx):
        return skip
    if os.geteuid() == 0:
        return passed("groups", "running as root: every device is accessible")
    mine = _groups_of_process()
    missing: list[str] = []
    for path, usual in _needed_devices(ctx):
        try:
            st = os.stat(path)
        except OSError:
            continue  # the device check reports a missing node
        if st.st_uid == os.geteuid() or st.st_gid in mine or st.st_mode & 0o006 == 0o006:
            continue
        missing.append(f"{_group_name(st.st_gid) if st.st_gid else usual} (for {path})")
    user = os.environ.get("USER") or str(os.geteuid())
    if missing:
        groups = " ".join(m.split()[0] for m in missing)
        return failed(
            "groups",
            f"user {user} lacks group {', '.join(missing)}",
            f"sudo usermod -aG {','.join(groups.split())} {user}, then log out and in again "
            "(the service user gets them from systemd/edge-agent.sysusers)",
        )
    names = sorted(_group_name(g) for g in mine)
    return passed("groups", f"user {user} in {', '.join(names) or 'no extra groups'}")


@check("device", "the SPI device or USB port is present and openable", requires=("config",))
def check_device(ctx: DiagContext) -> CheckResult:
    """The concentrator's device node exists and this user can open it read-write."""
    if skip := needs_config("device", ctx):
        return skip
    url = ctx.config.concentrator.url
    scheme, path = concentrator_device(url)
    if scheme == "sim":
        return passed("device", f"simulated concentrator ({url}): no device node needed")
    if path is None:
        return failed("device", f"cannot tell the device from {url!r}", "use spi:///dev/spidevB.C")
    if not os.path.exists(path):
        if scheme == "spi":
            present = sorted(glob.glob("/dev/spidev*"))
            if present:
                return failed(
                    "device",
                    f"{path} does not exist (present: {', '.join(present)})",
                    f"set [concentrator] url to one of spi://{present[0]} …, or enable the "
                    "chip select you need with a dtoverlay (e.g. dtoverlay=spi0-1cs)",
                )
            return failed("device", f"{path} does not exist: no SPI device at all", SPI_HINT)
        ports = sorted(glob.glob("/dev/ttyACM*"))
        return failed(
            "device",
            f"{path} does not exist" + (f" (present: {', '.join(ports)})" if ports else ""),
            "plug in the Corecell USB board and check 'dmesg | grep ttyACM'; "
            "a stable name is under /dev/serial/by-id/",
        )
    flags = os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK
    denied = f"{path} exists but cannot be opened: permission denied"
    add_group = "add the user to group {group}: sudo usermod -aG {group} $USER, then log in again"
    if problem := _open_problem("device", path, flags, denied, add_group, "driver"):
        return problem
    return passed("device", f"{path} present and openable")


def _open_problem(
    name: str, path: str, flags: int, denied: str, group_hint: str, dmesg_topic: str
) -> CheckResult | None:
    """FAIL when ``path`` cannot be opened (naming the group to join on EACCES), else None."""
    try:
        fd = os.open(path, flags)
    except PermissionError:
        group = _group_name(os.stat(path).st_gid)
        return failed(name, f"{denied} (group {group})", group_hint.format(group=group))
    except OSError as exc:
        return failed(name, f"{path}: {exc.strerror}", f"check dmesg for {dmesg_topic} errors")
    os.close(fd)
    return None


def gpiod_problem() -> str | None:
    """Why the libgpiod v2 Python bindings cannot drive the board lines, or None."""
    try:
        import gpiod
    except ImportError:
        return "the gpiod Python package is not installed"
    if not hasattr(gpiod, "request_lines"):
        return f"gpiod {getattr(gpiod, '__version__', '1.x')} is the libgpiod v1 API (v2 needed)"
    return None


@check("gpio", "the GPIO chip for the concentrator's reset and power lines")
def check_gpio(ctx: DiagContext) -> CheckResult:
    """On SPI boards, the gpiod v2 bindings import and a GPIO character device opens."""
    if skip := needs_config("gpio", ctx):
        return skip
    scheme, _ = concentrator_device(ctx.config.concentrator.url)
    if scheme != "spi":
        return passed("gpio", f"not used with {scheme}:// (reset is done by the board itself)")
    if ctx.config.concentrator.board is not None and (problem := gpiod_problem()):
        from drivers.gpio import GPIOD_INSTALL_HINT

        return failed(
            "gpio",
            f"{problem}: board {ctx.config.concentrator.board}'s reset/power lines cannot be "
            "driven (there is no /sys/class/gpio fallback)",
            GPIOD_INSTALL_HINT,
        )
    chips = sorted(glob.glob("/dev/gpiochip*"))
    if not chips:
        return failed(
            "gpio",
            "no /dev/gpiochip* device",
            "this kernel has no GPIO character device: use a Raspberry Pi OS kernel ≥ 5.10",
        )
    denied = f"{chips[0]}: permission denied"
    join = "sudo usermod -aG {group} $USER, then log in again"
    if unopenable := _open_problem("gpio", chips[0], os.O_RDWR, denied, join, "GPIO"):
        return unopenable
    return passed("gpio", f"{', '.join(chips)} present; {chips[0]} openable")


@check("firmware", "the SX1302 firmware images are present and well-formed")
def check_firmware(ctx: DiagContext) -> CheckResult:
    """``agc_sx1250.bin`` and ``arb.bin`` exist in ``firmware_dir`` and are 8192 bytes each."""
    if skip := needs_config("firmware", ctx):
        return skip
    conc = ctx.config.concentrator
    scheme, _ = concentrator_device(conc.url)
    fw_dir = conc.firmware_dir
    hint = (
        "import the images from an sx1302_hal checkout with 'edge-agent firmware import', "
        "then set [concentrator] firmware_dir"
    )
    if not fw_dir:
        if scheme == "sim":
            return passed("firmware", "simulated concentrator: no firmware images needed")
        return failed("firmware", "[concentrator] firmware_dir is not set", hint)
    problems, found = [], []
    for name in FIRMWARE_FILES:
        path = Path(fw_dir) / name
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            problems.append(f"{name} missing")
            continue
        except OSError as exc:
            problems.append(f"{name} unreadable ({exc.strerror})")
            continue
        if len(data) != FIRMWARE_SIZE:
            problems.append(f"{name} is {len(data)} bytes, expected {FIRMWARE_SIZE}")
            continue
        found.append(f"{name} sha256 {hashlib.sha256(data).hexdigest()[:12]}…")
    if problems:
        return failed("firmware", f"{fw_dir}: {'; '.join(problems)}", hint)
    return passed("firmware", f"{fw_dir}: {', '.join(found)}")


class _Timex(ctypes.Structure):
    # struct timex (linux/timex.h): modes, offset, freq, maxerror, esterror, status, … padding
    _fields_ = [
        ("modes", ctypes.c_uint),
        ("offset", ctypes.c_long),
        ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long),
        ("esterror", ctypes.c_long),
        ("status", ctypes.c_int),
        ("_rest", ctypes.c_byte * 256),
    ]


STA_UNSYNC = 0x0040
TIME_ERROR = 5


def kernel_clock_synchronised() -> tuple[bool | None, str]:
    """Ask the kernel (adjtimex, read-only) whether NTP disciplines the clock."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return None, "libc not found"
    try:
        libc = ctypes.CDLL(libc_name, use_errno=True)
        tx = _Timex()
        state = libc.adjtimex(ctypes.byref(tx))
    except (OSError, AttributeError) as exc:
        return None, f"adjtimex unavailable: {exc}"
    if state < 0:
        return None, f"adjtimex failed: {os.strerror(ctypes.get_errno())}"
    synced = state != TIME_ERROR and not tx.status & STA_UNSYNC
    return (
        synced,
        f"kernel clock {'synchronised' if synced else 'unsynchronised'}, "
        f"max error {tx.maxerror} µs",
    )


@check("clock", "the system clock is synchronised")
def check_clock(ctx: DiagContext) -> CheckResult:
    """NTP (timedatectl, else adjtimex) says the clock is in sync; never FAIL in a container."""
    if time.time() < 1_704_067_200:  # 2024-01-01: the clock was never set
        return failed(
            "clock",
            f"system time is {time.strftime('%Y-%m-%d', time.gmtime())}: never set",
            "enable NTP: sudo timedatectl set-ntp true (needs network), or fit an RTC",
        )
    hint = (
        "enable NTP with 'sudo timedatectl set-ntp true' and check 'timedatectl timesync-status'; "
        "uplink times (gw_time) are wrong until the clock is synchronised"
    )
    timedatectl = shutil.which("timedatectl")
    if timedatectl:
        try:
            out = subprocess.run(
                [timedatectl, "show", "-p", "NTPSynchronized", "--value"],
                capture_output=True,
                text=True,
                timeout=5,
            )
        except (OSError, subprocess.TimeoutExpired):
            out = None
        if out is not None and out.returncode == 0 and out.stdout.strip() in ("yes", "no"):
            if out.stdout.strip() == "yes":
                return passed("clock", "timedatectl: NTP synchronised")
            return warned("clock", "timedatectl: NTP not synchronised", hint)
    synced, detail = kernel_clock_synchronised()
    if synced:
        return passed("clock", detail)
    # timedatectl missing or not answering: no systemd-timedated (a container, or no systemd)
    reason = "timedatectl did not answer (no systemd: container?); "
    return warned("clock", f"{reason}{detail}", hint)


@check("disk", "free space where the spool lives")
def check_disk(ctx: DiagContext) -> CheckResult:
    """Free space on the spool's file system: FAIL below 5 % or 50 MB, WARN below 15 %."""
    target = spool_path(ctx)
    while not target.exists() and target != target.parent:
        target = target.parent
    usage = shutil.disk_usage(target)
    free_pct = 100.0 * usage.free / usage.total if usage.total else 0.0
    detail = (
        f"{target}: {usage.free / 1e6:.0f} MB free of {usage.total / 1e6:.0f} MB ({free_pct:.0f} %)"
    )
    hint = "free space (journalctl --vacuum-size=50M, apt-get clean) or move the spool"
    if free_pct < 5 or usage.free < 50e6:
        return failed("disk", detail, hint)
    if free_pct < 15:
        return warned("disk", detail, hint)
    return passed("disk", detail)
