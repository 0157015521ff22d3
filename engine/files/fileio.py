"""Atomic file writes: a temporary file beside the target, fsync, then rename."""
from __future__ import annotations

import errno
import glob
import os
import re
import tempfile
from pathlib import Path

from platformdirs import user_cache_dir

from ..contract.errors import StudioError


class WriteError(StudioError, OSError):
    """A file could not be written; the previous file (if any) is untouched."""


class ReadError(StudioError, OSError):
    """A file the user named could not be read (missing, a folder, no permission)."""


def cannot_read(path, exc: OSError) -> ReadError:
    """The one line for an OSError met while reading `path`."""
    why = {errno.ENOENT: "no such file", errno.EISDIR: "it is a folder"}.get(exc.errno) or describe_os_error(exc)
    return ReadError(f"cannot read {path}: {why}")


KINDS = {".png": "images are PNG files (they carry the record of how they were made)",
         ".safetensors": "models are .safetensors files", ".npz": "directions and latents are .npz files"}


def check_suffix(path: str | Path, suffix: str) -> None:
    """Refuse to write a file under a name its format does not have (PNG data in photo.jpg), in one line."""
    p = Path(path)
    if p.suffix.lower() != suffix:
        raise WriteError(f"cannot write {p.name}: {KINDS[suffix]}; name it {p.stem if p.suffix else p.name}{suffix}")


def make_dir(path: str | Path) -> None:
    """Create a folder (and its parents), or fail with one line."""
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
    except FileExistsError:   # (mkdir's "File exists" for a file in the way reads as if the folder were there)
        raise WriteError(f"cannot create the folder {path}: a file of that name is in the way") from None
    except OSError as exc:
        raise WriteError(f"cannot create {path}: {describe_os_error(exc)}") from None


def append_line(path: str | Path, line: str) -> None:
    """Append one line to a log file (a killed write leaves a partial line its readers skip)."""
    try:
        with open(path, "a") as f:
            f.write(line + "\n")
    except OSError as exc:
        raise WriteError(f"cannot write {path}: {describe_os_error(exc)}") from None


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
        fd, tmp = _mkstemp(path, ".tmp")
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
    remove_orphans(path)


def temp_path_for(path: str | Path) -> Path:
    """A fresh temporary path in the target's folder (for writers that need a file name)."""
    path = Path(path)
    try:
        fd, tmp = _mkstemp(path, path.suffix or ".tmp")
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
    remove_orphans(path)


def _mkstemp(path: Path, suffix: str) -> tuple[int, str]:
    # The writer's pid is in the name so that a later write can tell a killed writer's file from a running one's.
    return tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}-", suffix=suffix, dir=path.parent or ".")


def _remove_quietly(p: str | Path) -> None:
    try:
        os.unlink(p)
    except OSError:
        pass


# mkstemp names: "." + target name + "." + writer pid + "-" + 8 random characters + ".tmp" or the target's suffix
# (see above); names without the pid are those of earlier versions.
_TEMP_NAME = re.compile(r"\.(?P<target>.+)\.(?:(?P<pid>[0-9]+)-)?[a-z0-9_]{8}(?P<suffix>\.tmp|\.[A-Za-z0-9]+)")


def _temp_match(p: Path) -> re.Match | None:
    m = _TEMP_NAME.fullmatch(p.name)
    return m if m and (m["suffix"] == ".tmp" or m["target"].endswith(m["suffix"])) else None


def stale_temps(folder: str | Path) -> list[Path]:
    """Temporary files of writes that never finished in `folder` (a killed process cannot remove its own)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if _temp_match(p) and p.is_file())


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, another user's
        return True
    return True


def remove_orphans(path: str | Path) -> list[Path]:
    """Remove the temporary files of earlier writes of `path` whose writer no longer runs (killed mid-write)."""
    path = Path(path)
    gone = []
    try:
        candidates = list((path.parent or Path(".")).glob(f".{glob.escape(path.name)}.*"))
    except OSError:
        return gone
    for p in candidates:
        m = _temp_match(p)
        if m and m["target"] == path.name and m["pid"] and not _running(int(m["pid"])):
            _remove_quietly(p)
            gone.append(p)
    return gone


def cache_root() -> Path:
    """The studio's cache folder (decoded datasets, converted models, FID features): $STYLEGAN_STUDIO_CACHE or the
    platform's user cache folder."""
    return Path(os.environ.get("STYLEGAN_STUDIO_CACHE") or user_cache_dir("stylegan-studio"))
