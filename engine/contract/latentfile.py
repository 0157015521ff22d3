"""The latents file (.npz of w [N, w_dim] float, or ws [N, num_ws, w_dim] when a latent is per layer (W+), and
labels [N] str): one writer, one guarded reader.

stdlib + numpy only, so the window reads the file itself, through the guarded .npz reader (contract/npzfile.py):
declared sizes and array headers are checked before anything is allocated, and nothing is unpickled."""
from __future__ import annotations

import io

import numpy as np

from .npzfile import NpzError, Wanted, read_npz

MAX_VALUES = 16 * 1024 * 1024  # 64 MB of float32: far beyond any favourites list, far below a memory blow-up
WANTED = {"w": Wanted("fiu", (1, 2, 3)), "ws": Wanted("fiu", (3,)), "labels": Wanted("Uiuf", (1,))}


def encode_latents(w: np.ndarray, labels: list[str]) -> bytes:
    """The .npz bytes of `w` [N, w_dim] (or per-layer [N, num_ws, w_dim], written as ws) and one label per row."""
    buf = io.BytesIO()
    w = np.asarray(w, np.float32)
    np.savez(buf, **{"ws" if w.ndim == 3 else "w": w}, labels=np.array([str(x) for x in labels], dtype=str))
    return buf.getvalue()


def read_latents(path) -> tuple[np.ndarray, list[str]]:
    """(w [N, D] or per-layer ws [N, num_ws, D] float32, labels) of a latents file; anything unusable is one line."""
    try:
        data = read_npz(path, WANTED, MAX_VALUES * 4 + 4096)
    except NpzError as exc:
        raise NpzError(f"cannot read {path}: {exc}") from None
    per_layer = "ws" in data and "w" not in data
    if "w" not in data and not per_layer:
        raise NpzError(f"cannot read {path}: no 'w' array (not a latents file)")
    w = np.asarray(data["ws" if per_layer else "w"], dtype=np.float32)
    labels = [str(x) for x in data.get("labels", ())]
    if w.ndim < 1 or w.size == 0 or not np.isfinite(w).all():
        raise NpzError(f"cannot read {path}: 'w' is empty or holds non-finite values")
    if per_layer and w.ndim != 3:
        raise NpzError(f"cannot read {path}: 'ws' is not [count, layers, values]")
    return (w if per_layer else w.reshape(len(w), -1)), labels
