"""Atomic file writes: a temporary file beside the target, fsync, then rename."""
from __future__ import annotations

import errno
import os
import re
import tempfile
from pathlib import Path

from ..errors import StudioError


class WriteError(StudioError, OSError):
    """A file could not be written; the previous file (if any) is untouched."""


def describe_os_error(exc: OSError) -> str:
    """One plain line for an OSError."""
    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    if exc.errno == errno.EROFS:
        return "the disk is read-only"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.ENOENT:
        return "the folder does not exist"
    return exc.strerror or str(exc)


def _umask_mode() -> int:
    """0o666 minus the process umask: what a plain open() would have created."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write `data` to `path` so readers see either the old file or the whole new one."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    except OSError as exc:
        raise WriteError(f"cannot write {path}: {describe_os_error(exc)}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _umask_mode())  # mkstemp makes 0600 files; users expect normal permissions
        os.replace(tmp, path)
    except OSError as exc:
        _remove_quietly(tmp)
        raise WriteError(f"cannot write {path}: {describe_os_error(exc)}") from None
    except BaseException:
        _remove_quietly(tmp)
        raise


def temp_path_for(path: str | Path) -> Path:
    """A fresh temporary path in the target's folder (for writers that need a file name)."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix or ".tmp", dir=path.parent or ".")
    except OSError as exc:
        raise WriteError(f"cannot write {path}: {describe_os_error(exc)}") from None
    os.close(fd)
    os.chmod(tmp, _umask_mode())
    return Path(tmp)


def commit_temp(tmp: str | Path, path: str | Path) -> None:
    """Rename a finished temporary file onto its target."""
    try:
        os.replace(tmp, path)
    except OSError as exc:
        _remove_quietly(tmp)
        raise WriteError(f"cannot write {path}: {describe_os_error(exc)}") from None


def _remove_quietly(p: str | Path) -> None:
    try:
        os.unlink(p)
    except OSError:
        pass


# mkstemp names: "." + target name + "." + 8 random characters + ".tmp" or the target's suffix (see above)
_TEMP_NAME = re.compile(r"\.(?P<target>.+)\.[a-z0-9_]{8}(\.tmp|\.[A-Za-z0-9]+)")


def stale_temps(folder: str | Path) -> list[Path]:
    """Temporary files of writes that never finished in `folder` (a killed process cannot remove its own)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if (m := _TEMP_NAME.fullmatch(p.name)) and p.is_file()
                  and (m.group(2) == ".tmp" or m.group("target").endswith(m.group(2))))
