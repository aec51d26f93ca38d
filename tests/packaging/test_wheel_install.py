"""The built artefacts work on their own: the wheel, installed into a fresh venv outside the
checkout, carries the systemd files and ``install-service`` writes them; the sdist carries what
the wheel and ``make test`` need. Builds once per session (pip uses its cache)."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SYSTEMD = REPO / "systemd"

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Installed:
    """The artefacts of one ``python -m build`` and a venv holding the wheel."""

    wheel: Path
    sdist: Path
    venv: Path
    outside: Path  # a directory outside the checkout, the cwd of every command

    def edge_agent(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run the venv's ``edge-agent`` console script from outside the checkout."""
        return subprocess.run(
            [str(self.venv / "bin" / "edge-agent"), *args],
            cwd=self.outside,
            env={"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "LANG": "C.UTF-8"},
            capture_output=True,
            text=True,
            timeout=120,
        )


def _run(*cmd: str | Path, cwd: Path) -> None:
    proc = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    """sdist + wheel built from this checkout, the wheel installed into a fresh venv."""
    work = tmp_path_factory.mktemp("wheel")
    _run(sys.executable, "-m", "build", "--outdir", work / "dist", REPO, cwd=work)
    (wheel,) = (work / "dist").glob("*.whl")
    (sdist,) = (work / "dist").glob("*.tar.gz")
    _run(sys._base_executable, "-m", "venv", work / "venv", cwd=work)  # type: ignore[attr-defined]
    _run(
        work / "venv/bin/pip", "install", "--quiet", "--disable-pip-version-check", wheel, cwd=work
    )
    yield Installed(wheel, sdist, work / "venv", work)


def test_the_package_runs_from_the_venv_not_the_checkout(installed: Installed) -> None:
    proc = subprocess.run(
        [str(installed.venv / "bin/python"), "-c", "import edge_agent; print(edge_agent.__file__)"],
        cwd=installed.outside,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert Path(proc.stdout.strip()).is_relative_to(installed.venv), proc.stdout + proc.stderr
    assert installed.edge_agent("--version").stdout.strip() == "edge-agent 0.1.0"


def test_the_wheel_carries_the_systemd_files_of_the_repository(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        for name in ("edge-agent.service", "edge-agent.sysusers"):
            assert wheel.read(f"edge_agent/systemd/{name}") == (SYSTEMD / name).read_bytes()


def test_install_service_from_the_wheel_writes_the_unit_and_sysusers(
    installed: Installed, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    dry = installed.edge_agent("install-service", "--dry-run", "--root", str(root))
    assert dry.returncode == 0, dry.stderr
    assert "would write" in dry.stdout
    assert not root.exists()
    done = installed.edge_agent("install-service", "--root", str(root), "--region", "US915")
    assert done.returncode == 0, done.stderr
    unit = (root / "etc/systemd/system/edge-agent.service").read_text()
    expected = (SYSTEMD / "edge-agent.service").read_text()
    assert unit == expected.replace(
        "/opt/edge-agent/bin/edge-agent", f"{installed.venv}/bin/edge-agent"
    )
    sysusers = root / "usr/lib/sysusers.d/edge-agent.conf"
    assert sysusers.read_bytes() == (SYSTEMD / "edge-agent.sysusers").read_bytes()
    assert 'region = "US915"' in (root / "etc/edge-agent/config.toml").read_text()
    removed = installed.edge_agent("uninstall-service", "--root", str(root))
    assert removed.returncode == 0, removed.stderr
    assert not sysusers.exists()


def test_the_sdist_carries_the_sources_tests_and_systemd_files(installed: Installed) -> None:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, timeout=60
    ).stdout.split()
    if not tracked:
        pytest.skip("not a git checkout: nothing to compare the sdist with")
    with tarfile.open(installed.sdist) as sdist:
        top = sdist.getnames()[0].split("/")[0]
        names = {name.removeprefix(f"{top}/") for name in sdist.getnames()}
    wanted = ("edge_agent/", "drivers/", "packet_forwarder/", "systemd/", "tests/", "hw_tests/")
    missing = [path for path in tracked if path.startswith(wanted) and path not in names]
    assert not missing
    assert {"Makefile", "README.md", "pyproject.toml", "setup.py"} <= names
