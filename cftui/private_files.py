"""Files and directories only their owner can read.

Everything cftui writes holds something private: the config has secrets; the
store, exports, logs and UI state hold buyer emails, order ids, checkout
links, paths and client addresses. Files are created 0600 and the
directories cftui creates 0700, whatever the umask.
"""

from __future__ import annotations

import errno
import os
from io import TextIOWrapper
from pathlib import Path
from typing import Literal

FILE_MODE = 0o600
DIR_MODE = 0o700


def make_private_dir(path: Path) -> None:
    """Create ``path`` and its missing parents as owner-only directories (existing ones are left alone)."""
    missing = []
    for directory in (path, *path.parents):
        if directory.exists():
            break
        missing.append(directory)
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=DIR_MODE)
        except FileExistsError:  # made meanwhile by another process
            pass
    if not path.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path))


def open_private(
    path: Path, mode: Literal["w", "a"] = "w", *, encoding: str = "utf-8", newline: str | None = None
) -> TextIOWrapper:
    """Open ``path`` for writing (``"w"``) or appending (``"a"``), creating it 0600.

    An existing file is made 0600 too: one left by an older cftui keeps its mode otherwise.
    """
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if mode == "a" else os.O_TRUNC)
    fd = os.open(path, flags, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        return os.fdopen(fd, mode, encoding=encoding, newline=newline)
    except BaseException:
        os.close(fd)
        raise


def write_private(path: Path, text: str, *, durable: bool = True) -> None:
    """Atomically write a private file: a temporary sibling renamed over ``path``, so a crash never leaves half.

    ``durable`` waits for the disk (fsync) before the rename; small state a
    screen writes on a key press can skip that wait.
    """
    make_private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open_private(tmp) as handle:
            handle.write(text)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def shared_mode(path: Path) -> int | None:
    """``path``'s permission bits if others than its owner may use it (``mode & 0o077``), else None."""
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        return None
    return mode if mode & 0o077 else None
