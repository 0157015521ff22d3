"""The directions file: unit vectors in W with names, kind, layer range, model id and σ (stdlib + numpy only).

An .npz read with allow_pickle=False after every member's declared size is checked (a small zip can claim
gigabytes), so opening a file someone sent runs nothing and cannot blow up memory.
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

import numpy as np

from .errors import UserError
from .latents import Edit

FORMAT_VERSION = 1
KINDS = ("pca", "sefa", "attributes")
MAX_BYTES = 64 * 1024 * 1024
FIELDS = ("format_version", "vectors", "names", "kind", "layers", "model_id", "sigmas", "scores", "score_name")


@dataclass(frozen=True)
class Direction:
    """One direction of a set as a plain value: what a direction video sweeps."""

    name: str
    vector: tuple[float, ...]      # [w_dim], unit length
    sigma: float
    layers: tuple[int, ...]


@dataclass(frozen=True, eq=False)
class DirectionSet:
    """K unit directions in W; slider amounts are in units of `sigmas` (the std of w along each direction)."""

    vectors: np.ndarray            # [K, w_dim] float32, unit length
    names: tuple[str, ...]
    kind: str                      # one of KINDS
    layers: tuple[int, ...]        # the layers the directions were made for (where an edit applies by default)
    model_id: str
    sigmas: np.ndarray             # [K] float32: std of mapped w projected on each direction
    scores: np.ndarray             # [K] float32: what `score_name` says (explained variance, accuracy …)
    score_name: str = ""

    def __post_init__(self) -> None:
        v = self.vectors
        if v.ndim != 2 or not len(v) or len(self.names) != len(v) or self.sigmas.shape != (len(v),) \
                or self.scores.shape != (len(v),):
            raise UserError("a direction set needs K vectors with K names, σs and scores")
        if self.kind not in KINDS:
            raise UserError(f"direction kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if not np.all(np.isfinite(v)) or not np.all(np.isfinite(self.sigmas)) or not self.layers:
            raise UserError("a direction set holds non-finite numbers or no layers")

    def __len__(self) -> int:
        return len(self.vectors)

    @property
    def w_dim(self) -> int:
        """Length of each direction."""
        return int(self.vectors.shape[1])

    def index(self, pick: str | int) -> int:
        """A direction by 0-based index or by name ('pc3', 'glasses'); UserError if there is none."""
        text = str(pick).strip()
        if text in self.names:
            return self.names.index(text)
        if text.lstrip("-").isdigit() and 0 <= int(text) < len(self):
            return int(text)
        raise UserError(f"no direction {text!r}: use 0-{len(self) - 1} or one of {', '.join(self.names[:8])}"
                        + (" …" if len(self) > 8 else ""))

    def pick(self, k: int, layers: tuple[int, ...] | None = None) -> Direction:
        """Direction k as a plain value, applied on `layers` (default: the set's own)."""
        return Direction(self.names[k], tuple(self.vectors[k].tolist()), float(self.sigmas[k]),
                         tuple(layers) if layers else self.layers)

    def offset(self, amounts: dict[int, float]) -> np.ndarray:
        """Σ amount·σ·d over {direction index: amount in σ} → [w_dim] float32."""
        out = np.zeros(self.w_dim, np.float32)
        for k, a in amounts.items():
            out += np.float32(a * float(self.sigmas[k])) * self.vectors[k]
        return out

    def edit(self, amounts: dict[int, float], layers: tuple[int, ...]) -> Edit | None:
        """The Edit of several sliders at once on `layers` (None when every amount is 0)."""
        moved = {k: a for k, a in amounts.items() if a}
        if not moved or not layers:
            return None
        label = ", ".join(f"{self.names[k]} {a:+g}σ" for k, a in sorted(moved.items()))
        return Edit(tuple(self.offset(moved).tolist()), tuple(layers), label)


def encode(ds: DirectionSet) -> bytes:
    """The .npz bytes of a direction set."""
    buf = io.BytesIO()
    np.savez(buf, format_version=np.int64(FORMAT_VERSION), vectors=ds.vectors.astype(np.float32),
             names=np.array(ds.names, dtype=str), kind=np.array(ds.kind), layers=np.array(ds.layers, np.int64),
             model_id=np.array(ds.model_id), sigmas=ds.sigmas.astype(np.float32),
             scores=ds.scores.astype(np.float32), score_name=np.array(ds.score_name))
    return buf.getvalue()


def read(path) -> DirectionSet:
    """The direction set in an .npz; anything unusable is one UserError line."""
    try:
        with zipfile.ZipFile(path) as z:
            if sum(i.file_size for i in z.infolist()) > MAX_BYTES:
                raise UserError(f"{path} is too large for a directions file")
        with np.load(path, allow_pickle=False) as f:
            missing = [k for k in FIELDS if k not in f.files]
            if missing:
                raise UserError(f"{path} is not a directions file (no {', '.join(missing)})")
            if int(f["format_version"]) > FORMAT_VERSION:
                raise UserError(f"{path} is a newer directions format ({int(f['format_version'])})")
            return DirectionSet(np.asarray(f["vectors"], np.float32), tuple(str(n) for n in f["names"]),
                                str(f["kind"]), tuple(int(i) for i in f["layers"]), str(f["model_id"]),
                                np.asarray(f["sigmas"], np.float32), np.asarray(f["scores"], np.float32),
                                str(f["score_name"]))
    except (OSError, zipfile.BadZipFile, ValueError, KeyError, TypeError) as exc:
        raise UserError(f"cannot read directions from {path}: {exc}") from None
