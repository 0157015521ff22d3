"""Blending two models for the window and the CLI: the second model (opened by files/imported.open_model), the
blended G, its renderer.

The engine thread renders RenderBlend with the model it holds as the base; the other model is a file path
in the request, opened once and kept while it is the one asked for (one cached model, one cached blend:
a slider drag over the width re-blends, it never re-reads the file).
"""
from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from ..contract.blend import BlendSpec
from ..contract.errors import UserError
from ..contract.latents import Latent, RenderSettings
from ..contract.messages import BlendReady
from ..contract.requests import RenderBlend
from ..files.imported import open_model
from ..files.modelfile import ModelMeta
from ..nets.blend import (blend_generators, blend_record, blend_resolutions, check_blendable, mapping_distance,
                          parent_ref, relation_note)
from .renderer import render_thumbs
from .synth import latents_ws

MAX_SEEDS = 64  # a preview row, not a seed grid


def _device(G) -> torch.device:
    return next(G.parameters()).device


class BlendCache:
    """The other model last asked for (re-read when its file changes) and the blend last made with it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()   # the CLI and tests may blend from more than one thread
        self._other: tuple | None = None    # (file key, G, meta)
        self._blend: tuple | None = None    # (weakref to the base, file key, spec, blended G)

    @staticmethod
    def _key(path: str, device: torch.device) -> tuple:
        p = Path(path)
        if not p.is_file():
            raise UserError(f"{path}: no such model file")
        st = p.stat()
        return str(p.resolve()), st.st_mtime_ns, st.st_size, str(device)

    def other(self, path: str, device: torch.device) -> tuple[object, ModelMeta, tuple]:
        """(G, meta, file key) of the model file `path` on `device`."""
        if not path:
            raise UserError("choose a second model to blend with")
        key = self._key(path, device)
        with self._lock:
            if self._other is None or self._other[0] != key:
                self._other = None  # free the previous one before reading the next
                G, meta, _ = open_model(path, device)
                self._other = (key, G, meta)
            return self._other[1], self._other[2], key

    def blend(self, base, path: str, spec: BlendSpec) -> tuple[object, object, ModelMeta]:
        """(blended G, other G, other meta) for `base` and the model file `path`; a one-line error if they differ."""
        other, meta, key = self.other(path, _device(base))
        check_blendable(base, other)
        with self._lock:
            b = self._blend
            if b is None or b[0]() is not base or b[1] != key or b[2] != spec:
                self._blend = None
                self._blend = (weakref.ref(base), key, spec, blend_generators(base, other, spec))
            return self._blend[3], other, meta


CACHE = BlendCache()


def make_blend(base, base_path: str, base_meta: ModelMeta, other_path: str, spec: BlendSpec,
               cache: BlendCache = CACHE) -> tuple[object, ModelMeta]:
    """The blended G and the ModelMeta its file carries (both parents, the curve, every weight)."""
    G, other, other_meta = cache.blend(base, other_path, spec)
    rec = blend_record(parent_ref(base_path, base_meta), parent_ref(other_path, other_meta), G, other, spec)
    names = f"{base_meta.name or Path(base_path).stem or 'model'} + {other_meta.name or Path(other_path).stem}"
    meta = ModelMeta(source=f"blend of {names}: {spec.describe()}", dataset=base_meta.dataset, blend=rec)
    return G, meta


def row_images(G, seeds, settings: RenderSettings, thumb: int | None, ws_from=None, c: int | None = None) -> np.ndarray:
    """Thumbnails of `seeds` (class `c`) by G, their ws from `ws_from`'s mapping and w_avg (default: G's own)."""
    ws = latents_ws(ws_from or G, [Latent(seed=s, c=c) for s in seeds], settings)
    return render_thumbs(G, ws.to(_device(G)), settings, thumb)


def blend_rows(base, blended, other, seeds, settings: RenderSettings,
               thumb: int | None, c: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """(row index, images) for the base, the blend (ws of the base: its mapping) and the other model, in order."""
    yield 0, row_images(base, seeds, settings, thumb, c=c)
    yield 1, row_images(blended, seeds, settings, thumb, ws_from=base, c=c)
    yield 2, row_images(other, seeds, settings, thumb, c=c)


def render_blend(G, req: RenderBlend) -> Iterator[BlendReady]:
    """The renderer of RenderBlend (registered in streams.py): the base row, the blend row, the other row."""
    if not req.seeds or len(req.seeds) > MAX_SEEDS:
        raise UserError(f"a blend preview shows 1 to {MAX_SEEDS} seeds, got {len(req.seeds)}")
    t0 = time.perf_counter()
    blended, other, meta = CACHE.blend(G, req.other, req.spec)
    weights = tuple(req.spec.weights(blend_resolutions(G)).items())
    note = relation_note(mapping_distance(G, other))
    rows: list[np.ndarray | None] = [None, None, None]
    for i, images in blend_rows(G, blended, other, req.seeds, req.settings, req.thumb, req.c):
        rows[i] = images
        full = [r if r is not None else np.zeros_like(images) for r in rows]
        yield BlendReady(req.target, req.stamp, time.perf_counter() - t0, base_images=full[0], blend_images=full[1],
                         other_images=full[2], other_name=meta.name, other_id=meta.model_id, weights=weights, note=note,
                         done=None if i == 2 else i + 1)
        t0 = time.perf_counter()
