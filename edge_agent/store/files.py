"""The spool's files on disk: never through a symlink, created owner-only.

SQLite opens its files by name and follows symbolic links, so a link planted at the spool path
(or at its ``-wal``/``-shm``) would make the daemon write uplinks wherever it points. Before
SQLite opens anything the three names are checked with ``lstat``: any symlink, dangling or not,
is refused with a ``SpoolError`` naming it. The database is pre-created ``0600`` with
``O_NOFOLLOW | O_EXCL``; SQLite gives its ``-wal``/``-shm`` the database's mode; an existing
file more open than ``0600`` is narrowed. A directory the spool creates is ``0700``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from pathlib import Path

from edge_agent.errors import SpoolError

LOGGER = logging.getLogger(__name__)

#: mode of the database and its -wal/-shm files
FILE_MODE = 0o600
#: mode of the spool directory when the spool creates it
DIR_MODE = 0o700
SIDE_FILES = ("-wal", "-shm")


def spool_names(path: str | Path) -> list[Path]:
    """The database and its -wal/-shm file names."""
    return [Path(f"{path}{suffix}") for suffix in ("", *SIDE_FILES)]


def refuse_symlinks(path: str | Path) -> None:
    """``SpoolError`` when the spool path or its -wal/-shm is a symbolic link (even dangling)."""
    for name in spool_names(path):
        try:
            info = os.lstat(name)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise SpoolError(f"spool {name}: cannot check it: {exc}") from exc
        if stat.S_ISLNK(info.st_mode):
            target = os.readlink(name)
            raise SpoolError(
                f"spool {name} is a symbolic link (to {target}); the spool never follows links: "
                "replace it with the real file or point [spool] path at the real location"
            )
        if not stat.S_ISREG(info.st_mode):
            raise SpoolError(f"spool {name} is not a regular file; remove it or change the path")


def prepare(path: str | Path) -> None:
    """Create the directory (0700) and the empty database (0600) if missing; no symlinks."""
    path = Path(path)
    if not path.parent.exists():
        try:
            path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        except OSError as exc:
            raise SpoolError(f"spool {path}: cannot create its directory: {exc}") from exc
    refuse_symlinks(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
    except FileExistsError:
        fd = None
    except OSError as exc:
        raise SpoolError(f"spool {path}: cannot create it: {exc}") from exc
    if fd is not None:
        os.close(fd)
    narrow_modes(path)


def narrow_modes(path: str | Path) -> None:
    """Make the database and its -wal/-shm (those present, not links) owner-only."""
    for name in spool_names(path):
        with contextlib.suppress(FileNotFoundError):
            info = os.lstat(name)
            if not stat.S_ISREG(info.st_mode) or stat.S_IMODE(info.st_mode) & 0o077 == 0:
                continue
            try:
                os.chmod(name, stat.S_IMODE(info.st_mode) & 0o700 | 0o600)
            except OSError as exc:  # another user's file: SQLite will tell if it cannot use it
                LOGGER.warning("spool %s: cannot make it owner-only: %s", name, exc)
            else:
                LOGGER.info(
                    "spool %s: mode %03o narrowed to owner-only", name, stat.S_IMODE(info.st_mode)
                )
