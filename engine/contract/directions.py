"""The directions file: unit vectors in W with names, kind, layer range, model id and σ (stdlib + numpy only).

An .npz read by the guarded reader (contract/npzfile.py: declared sizes and every array's header are checked before
anything is allocated, nothing is unpickled), so opening a file someone sent runs nothing and cannot blow up memory.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from .errors import UserError
from .latents import Edit
from .npzfile import NpzError, Wanted, read_npz

FORMAT_VERSION = 1
KINDS = ("pca", "sefa", "attributes")
MAX_BYTES = 64 * 1024 * 1024
UNIT_TOLERANCE = 1e-3  # float32 unit vectors from eigh/SVM measure |‖v‖ − 1| < 1e-6; a scaled vector is far beyond
_SCALAR, _TEXT, _NUMBERS = Wanted("iu", (0,)), Wanted("U", (0,)), Wanted("fiu", (1,))
WANTED = {"format_version": _SCALAR, "vectors": Wanted("fiu", (2,)), "names": Wanted("U", (1,)), "kind": _TEXT,
          "layers": Wanted("iu", (1,)), "model_id": _TEXT, "sigmas": _NUMBERS, "scores": _NUMBERS,
          "score_name": _TEXT}
FIELDS = tuple(WANTED)


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
        self._check_units()

    def _check_units(self) -> None:
        """Refuse what would make '+3σ' mean something else: a vector not of unit length, a σ not above 0."""
        norms = np.linalg.norm(self.vectors.astype(np.float64), axis=1)
        off = int(np.argmax(np.abs(norms - 1)))
        if abs(norms[off] - 1) > UNIT_TOLERANCE:
            raise UserError(f"direction {self.names[off]!r} has length {norms[off]:.4g}, not 1: its σ steps would "
                            "not be σ (directions must be unit vectors)")
        if not np.all(self.sigmas > 0):
            k = int(np.argmin(self.sigmas))
            raise UserError(f"direction {self.names[k]!r} has σ {float(self.sigmas[k]):g}: σ, the spread of w "
                            "along it, must be above 0")

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
        f = read_npz(path, WANTED, MAX_BYTES)
    except NpzError as exc:
        raise NpzError(f"cannot read directions from {path}: {exc}") from None
    missing = [k for k in FIELDS if k not in f]
    if missing:
        raise UserError(f"{path} is not a directions file (no {', '.join(missing)})")
    if int(f["format_version"]) > FORMAT_VERSION:
        raise UserError(f"{path} is a newer directions format ({int(f['format_version'])})")
    try:
        return DirectionSet(np.asarray(f["vectors"], np.float32), tuple(str(n) for n in f["names"]),
                            str(f["kind"]), tuple(int(i) for i in f["layers"]), str(f["model_id"]),
                            np.asarray(f["sigmas"], np.float32), np.asarray(f["scores"], np.float32),
                            str(f["score_name"]))
    except UserError as exc:
        raise UserError(f"cannot use directions from {path}: {exc}") from None
