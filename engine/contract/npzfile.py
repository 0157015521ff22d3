"""The one guarded .npz reader (stdlib + numpy only, so the window reads files itself).

An .npz is a zip of .npy members, and numpy allocates whatever a member's header claims before it reads the
data: a 1 KB file whose header says [10⁹, 512] asks for 2 TB. So every member's declared size is checked
against a limit, then every wanted array's header (dtype kind, number of dimensions, and that shape × itemsize
is exactly the data the member holds) before one byte of it is allocated; nothing is unpickled.
"""
from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from .errors import UserError


HEADERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


class NpzError(UserError):
    """An .npz the studio cannot use (damaged, hostile, too large or not the kind of file expected)."""


@dataclass(frozen=True)
class Wanted:
    """What one array of an .npz must be: its dtype kinds ('f' float, 'iu' integers, 'U' text) and dimensions."""

    kinds: str
    ndims: tuple[int, ...]


def read_npz(path, wanted: Mapping[str, Wanted], max_bytes: int) -> dict[str, np.ndarray]:
    """The arrays named in `wanted` that the .npz at `path` holds (absent names are left out); else NpzError."""
    try:
        with zipfile.ZipFile(path) as z:
            members = {i.filename: i for i in z.infolist()}
            total = sum(i.file_size for i in members.values())
            if total > max_bytes:
                raise NpzError(f"claims {total} bytes, more than the {max_bytes} such a file can need")
            return {name: _read_member(z, members[name + ".npy"], name, want)
                    for name, want in wanted.items() if name + ".npy" in members}
    except NpzError:
        raise
    except FileNotFoundError:
        raise NpzError("no such file") from None
    except IsADirectoryError:
        raise NpzError("it is a folder, not a file") from None
    except zipfile.BadZipFile:
        raise NpzError("not an .npz file (not a zip archive)") from None
    except Exception as exc:  # zipfile, zlib and numpy raise a dozen unrelated types for a damaged archive
        raise NpzError(short(exc)) from None


def _read_member(z: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, want: Wanted) -> np.ndarray:
    """One array, after its header has been checked against `want` and against the bytes the member holds."""
    with z.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version not in HEADERS:
            raise NpzError(f"'{name}' is in .npy format {version[0]}.{version[1]}, which the studio never writes")
        shape, _, dtype = HEADERS[version](f)
        header = f.tell()
        if dtype.hasobject or dtype.kind not in want.kinds or len(shape) not in want.ndims:
            raise NpzError(f"'{name}' is {dtype.str} {list(shape)}, not the array this file should hold")
        size = math.prod(shape) * dtype.itemsize
        if size != info.file_size - header:
            raise NpzError(f"'{name}' claims {list(shape)} ({size} bytes) but holds {info.file_size - header}")
    with z.open(info) as f:
        return np.lib.format.read_array(f, allow_pickle=False)


def short(exc: BaseException) -> str:
    """An exception's text on one line, at most 160 characters."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."
