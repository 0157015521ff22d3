"""Render requests → numpy images: pure functions of (G, request), run on the engine thread."""
from __future__ import annotations

import dataclasses

from collections.abc import Iterator, Sequence

import numpy as np
import torch

from ..contract.errors import UserError
from .synth import (apply_edit, check_class, check_transform, latents_to_w, latents_to_ws, latents_ws, mix, prepare,
                    psi_sweep, resize, styled_ws, to_uint8)
from ..contract.requests import RenderInterpolation, RenderSeedGrid, RenderTruncationStrip
from ..nets.api import GeneratorNet
from ..contract.latents import Latent, RenderSettings

FIRST_CHUNK = 2  # the first grid chunk is small so the first thumbnails appear quickly
# Work per stream unit: multiply-accumulates one unit may take (~0.2 s on a laptop CPU), so a 1024²
# model (3·10¹⁰ MACs an image) renders one image per unit and the viewer is served between them.
UNIT_MACS = {"cpu": 4e9, "cuda": 2e11}
# Seed-grid thumbnails of models from this resolution up stop the synthesis early, at the ToRGB of the
# smallest resolution ≥ the thumbnail (v1 has one per resolution): a 64² preview of a 1024² model costs
# a third of a full render and far less memory (bench/RESULTS.md). The viewer always renders in full.
PREVIEW_MIN_RES = 256
# Lower ToRGBs drift once training moves on to higher resolutions, and are random in a model trained
# without growing. The first thumbnail is rendered both ways; previews are used only when they differ
# from it by at most this (mean absolute difference of the uint8 thumbnails). Measured on the bundled 64²
# model (grown): its 32² and 16² previews differ by 34 and 43 (median over 32 seeds; shapes right, colours
# too saturated), an untrained model's by 127 and 134.
PREVIEW_MAX_DIFF = 80.0


def unit_images(G: GeneratorNet, cap: int, res: int | None = None) -> int:
    """How many images (rendered up to `res`) one stream unit renders: as many as fit its work, 1 to `cap`."""
    budget = UNIT_MACS.get(G.w_avg.device.type, UNIT_MACS["cpu"])
    return max(1, min(int(cap), int(budget // G.image_macs(res))))


def check_request(G: GeneratorNet, latent: Latent | None, layers: Sequence[int], settings: RenderSettings) -> None:
    """Reject latents, layers and cutoffs this model cannot use, with one plain line."""
    if latent is None:
        raise UserError("nothing to render: no seed or latent given")
    if latent.per_layer and np.shape(latent.w) != (G.num_ws, G.w_dim):
        raise UserError(f"a per-layer latent is {'×'.join(map(str, np.shape(latent.w)))}; this model needs "
                        f"{G.num_ws}×{G.w_dim}")
    if latent.w is not None and not latent.per_layer and np.asarray(latent.w).size != G.w_dim:
        raise UserError(f"a custom w has {np.asarray(latent.w).size} values; this model needs {G.w_dim}")
    if latent.edit is not None:
        check_edit(G, latent.edit)
    bad = [i for i in layers if not 0 <= i < G.num_ws]
    if bad:
        raise UserError(f"layer {bad[0]} does not exist: this model has layers 0-{G.num_ws - 1}")
    if settings.cutoff is not None and settings.cutoff > G.num_ws:
        raise UserError(f"cutoff {settings.cutoff} is beyond this model's {G.num_ws} layers")
    if latent.w is None:  # a seed or a position in seed space is mapped with its class
        check_class(G, latent.c)
    check_transform(G, settings)


def check_edit(G: GeneratorNet, edit) -> None:
    """Reject an Edit whose offset or layers do not fit this model."""
    if len(edit.offset) != G.w_dim:
        raise UserError(f"an edit has {len(edit.offset)} values; this model's w has {G.w_dim}")
    if max(edit.layers) >= G.num_ws:
        raise UserError(f"an edit names layer {max(edit.layers)}; this model has layers 0-{G.num_ws - 1}")


@torch.inference_mode()
def latent_ws(G: GeneratorNet, latent: Latent, settings: RenderSettings, mix_with: Latent | None = None,
              mix_layers: Sequence[int] = ()) -> torch.Tensor:
    """One latent, truncated, optionally with `mix_layers` from `mix_with` → ws [1, num_ws, w_dim]."""
    check_request(G, latent, mix_layers if mix_with is not None else (), settings)
    if mix_with is None or not mix_layers:
        return latents_ws(G, [latent], settings)
    check_request(G, mix_with, mix_layers, settings)
    ws = latents_ws(G, [latent, mix_with], settings)  # [2, num_ws, w_dim]
    return mix(ws[:1], ws[1:], mix_layers)


@torch.inference_mode()
def mixed_latent(G: GeneratorNet, latent: Latent, mix_with: Latent, mix_layers: Sequence[int]) -> Latent:
    """The face `latent` with `mix_layers` from `mix_with` as one latent: its per-layer ws (W+), untruncated, so
    it renders as the mix does at any ψ (truncation acts on each layer alone). An edited face has no such form
    (its edit is added after truncation, to its own layers): UserError."""
    if latent.edit is not None or mix_with.edit is not None:
        raise UserError("a face edited in Directions cannot be kept mixed: Keep it (Directions pane) before mixing")
    check_request(G, latent, mix_layers, RenderSettings())
    check_request(G, mix_with, mix_layers, RenderSettings())
    ws = latents_to_ws(G, [latent, mix_with])
    return Latent(w=mix(ws[:1], ws[1:], mix_layers)[0].cpu().numpy())


@torch.inference_mode()
def render_thumbs(G: GeneratorNet, ws: torch.Tensor, settings: RenderSettings, thumb: int | None,
                  batch: int = 16, res: int | None = None) -> np.ndarray:
    """ws [N, num_ws, w_dim] → thumbnails [N, thumb, thumb, 3] uint8, in batches; `res`: stop at that ToRGB."""
    noise = prepare(G, settings)
    stop = {} if res is None else {"res": res}  # only a G with several output_resolutions is asked to stop early
    out = [to_uint8(resize(G.synthesis(ws[i:i + batch], noise=noise, **stop), thumb))
           for i in range(0, ws.shape[0], batch)]
    return np.concatenate(out)


def preview_res(output_resolutions: Sequence[int], thumb: int | None) -> int | None:
    """The resolution a seed grid's thumbnails may stop at, of a G's output_resolutions (None: render in full)."""
    full = output_resolutions[-1]
    if thumb is None or full < PREVIEW_MIN_RES:
        return None
    res = next(r for r in output_resolutions if r >= thumb or r == full)
    return res if res < full else None


def grid_chunks(G: GeneratorNet, req: RenderSeedGrid) -> Iterator[tuple[int, np.ndarray, int | None]]:
    """(start, thumbnails, preview resolution or None) for a grid's seeds: a small first chunk, then `req.chunk`.

    Large models render fewer per chunk (see unit_images), down to one thumbnail; from PREVIEW_MIN_RES
    on, the thumbnails after the first are previews when the first shows they match (preview_res).
    """
    check_request(G, Latent(seed=0, c=req.c), (), req.settings)
    seeds, chunk = list(req.seeds), unit_images(G, max(1, req.chunk))
    low, start = preview_res(G.output_resolutions, req.thumb), 0
    while start < len(seeds):
        n = min(FIRST_CHUNK, chunk) if start == 0 else chunk
        if start > 0 and low is not None:
            n = unit_images(G, max(1, req.chunk), low)
        imgs = _seed_thumbs(G, seeds[start:start + n], req, low if start > 0 else None)
        if start == 0 and low is not None and not previews_match(G, seeds[0], req, imgs[0], low):
            low = None
        yield start, imgs, (low if start > 0 else None)  # never yield inside inference_mode:
        start += n                                         # it would leak into the next job unit


def previews_match(G: GeneratorNet, seed: int, req: RenderSeedGrid, full: np.ndarray, res: int) -> bool:
    """Whether the preview at `res` of `seed` looks like its full-resolution thumbnail `full`."""
    low = _seed_thumbs(G, [seed], req, res)[0]
    return float(np.abs(low.astype(np.float32) - full.astype(np.float32)).mean()) <= PREVIEW_MAX_DIFF


@torch.inference_mode()
def _seed_thumbs(G: GeneratorNet, seeds: Sequence[int], req: RenderSeedGrid, res: int | None = None) -> np.ndarray:
    ws = styled_ws(G, latents_to_w(G, [Latent(seed=s, c=req.c) for s in seeds]), req.settings)
    return render_thumbs(G, ws, req.settings, req.thumb, res=res)


@torch.inference_mode()
def mix_ws(G: GeneratorNet, rows: Sequence[Latent], cols: Sequence[Latent], layers: Sequence[int],
           settings: RenderSettings) -> torch.Tensor:
    """ws of a mixing grid's rows, columns, then cells row by row: [R + C + R·C, num_ws, w_dim].

    A half-filled grid (rows or columns only) gives just its sources, so they show while it waits.
    """
    if not rows and not cols:
        raise UserError("a mixing grid needs at least one row or column face")
    for lat in (*rows, *cols):
        check_request(G, lat, layers, settings)
    ws = latents_ws(G, [*rows, *cols], settings)  # [R + C, num_ws, w_dim]
    R, C = len(rows), len(cols)
    ws_rows, ws_cols = ws[:R], ws[R:]
    cells = mix(ws_rows.repeat_interleave(C, 0), ws_cols.repeat(R, 1, 1), layers)  # [R·C, num_ws, w_dim]
    return torch.cat([ws, cells])


def split_mix(imgs: np.ndarray, R: int, C: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Images in mix_ws order → (rows [R, …], columns [C, …], cells [R, C, …])."""
    cells = imgs[R + C:]
    return imgs[:R], imgs[R:R + C], cells.reshape(R, C, *cells.shape[1:])


@torch.inference_mode()
def strip_ws(G: GeneratorNet, req: RenderTruncationStrip) -> torch.Tensor:
    """ws of the request's latent at each ψ: [K, num_ws, w_dim]."""
    if not req.psis:
        raise UserError("a truncation strip needs at least one ψ value")
    check_request(G, req.latent, (), req.settings)
    if req.mix_with is not None and req.mix_layers:   # each ψ as the viewer would show the mixed face at it
        return torch.cat([latent_ws(G, req.latent, dataclasses.replace(req.settings, psi=float(psi)), req.mix_with,
                                    req.mix_layers) for psi in req.psis])
    return edited_sweep(G, req.latent, req.psis, req.settings.cutoff)


@torch.inference_mode()
def edited_sweep(G: GeneratorNet, latent: Latent, psis, cutoff: int | None) -> torch.Tensor:
    """ws of one latent at each ψ, its Edit added after truncation: [K, num_ws, w_dim]."""
    ws = latents_to_ws(G, [latent])  # [1, num_ws, w_dim]
    return apply_edit(psi_sweep(ws, G.w_avg, psis, cutoff), latent.edit)


@torch.inference_mode()
def interpolation_ws(G: GeneratorNet, req: RenderInterpolation) -> torch.Tensor:
    """ws of `steps` evenly spaced points on the line in W from the start face to the end face: [K, num_ws, w_dim].

    Both faces are truncated (and edited) first, so the ends are exactly the faces the viewer shows for them.
    """
    check_request(G, req.end, (), req.settings)
    start = latent_ws(G, req.start, req.settings, req.mix_with, req.mix_layers)   # [1, num_ws, w_dim]
    end = latents_ws(G, [req.end], req.settings)
    t = torch.linspace(0, 1, req.steps, device=start.device).view(-1, 1, 1)
    return torch.lerp(start, end, t)
