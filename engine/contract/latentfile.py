"""The latents file (.npz of w [N, w_dim] float, or ws [N, num_ws, w_dim] when a latent is per layer (W+), and
labels [N] str): one writer, one guarded reader.

stdlib + numpy only, so the window reads the file itself. An .npz is a zip: the reader checks every member's
declared size before numpy inflates it (a small file can claim gigabytes) and never unpickles (object arrays
are refused by allow_pickle=False)."""
from __future__ import annotations

import io
import zipfile

import numpy as np

from .errors import UserError

MAX_VALUES = 16 * 1024 * 1024  # 64 MB of float32: far beyond any favourites list, far below a memory blow-up


def encode_latents(w: np.ndarray, labels: list[str]) -> bytes:
    """The .npz bytes of `w` [N, w_dim] (or per-layer [N, num_ws, w_dim], written as ws) and one label per row."""
    buf = io.BytesIO()
    w = np.asarray(w, np.float32)
    np.savez(buf, **{"ws" if w.ndim == 3 else "w": w}, labels=np.array([str(x) for x in labels], dtype=str))
    return buf.getvalue()


def read_latents(path) -> tuple[np.ndarray, list[str]]:
    """(w [N, D] or per-layer ws [N, num_ws, D] float32, labels) of a latents file; anything unusable is one line."""
    try:
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                if info.file_size > MAX_VALUES * 4 + 4096:
                    raise UserError(f"cannot read {path}: {info.filename} claims {info.file_size} bytes")
        with np.load(path, allow_pickle=False) as data:
            per_layer = "ws" in data.files and "w" not in data.files
            w = np.asarray(data["ws" if per_layer else "w"], dtype=np.float32)
            labels = [str(x) for x in data["labels"]] if "labels" in data.files else []
    except UserError:
        raise
    except KeyError:
        raise UserError(f"cannot read {path}: no 'w' array (not a latents file)") from None
    except Exception as exc:  # zipfile, zlib and numpy raise a dozen unrelated types for a damaged archive
        raise UserError(f"cannot read {path}: {_short(exc)}") from None
    if w.ndim < 1 or w.size == 0 or not np.isfinite(w).all():
        raise UserError(f"cannot read {path}: 'w' is empty or holds non-finite values")
    if per_layer and w.ndim != 3:
        raise UserError(f"cannot read {path}: 'ws' is not [count, layers, values]")
    return (w if per_layer else w.reshape(len(w), -1)), labels


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."
