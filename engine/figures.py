"""The paper's figures on the current model: uncurated grid, style mixing, noise, truncation sweep."""
from __future__ import annotations

import numpy as np
import torch

from .explore import broadcast, latents_to_w, mix, noise_draws, noise_maps, synthesize, to_uint8, truncate
from .networks import Generator
from .pngio import make_grid
from .specs import Latent, NoiseSpec, RenderSettings, ResNoise, layer_ranges

FIGURES = ("uncurated", "mixing", "noise", "truncation")
PAPER_PSIS = (1.0, 0.7, 0.5, 0.0, -0.5, -1.0)


def _ws(G: Generator, seeds, psi: float = 1.0, cutoff: int | None = None) -> torch.Tensor:
    return truncate(broadcast(latents_to_w(G, [Latent(seed=s) for s in seeds]), G.num_ws), G.w_avg, psi, cutoff)


def _render(G: Generator, ws: torch.Tensor, noise: NoiseSpec | None = None) -> np.ndarray:
    return to_uint8(synthesize(G, ws, noise_maps(G, noise or NoiseSpec())))


def uncurated(G: Generator, seeds, psi: float = 0.7, cutoff: int | None = 8, cols: int = 8) -> np.ndarray:
    """Seeds in order, no selection (the paper uses ψ 0.7 on the coarse and middle layers)."""
    return make_grid(_render(G, _ws(G, seeds, psi, cutoff)), cols, pad=2)


def mixing(G: Generator, seeds_a=(1, 2, 3, 4, 5), seeds_b=(6, 7, 8, 9, 10, 11)) -> np.ndarray:
    """Sources A on top, B on the left; rows 0–2 copy B's coarse, 3–4 middle, 5 fine styles into A."""
    ranges = layer_ranges(G.cfg.resolution)
    row_layers = [ranges["coarse"]] * 3 + [ranges["middle"]] * 2 + [ranges["fine"] or ranges["middle"]]
    wa, wb = _ws(G, seeds_a), _ws(G, seeds_b[:6])
    src_a, src_b = _render(G, wa), _render(G, wb)
    h = src_a.shape[1]
    canvas = np.full(((len(row_layers) + 1) * h, (len(seeds_a) + 1) * h, 3), 255, np.uint8)
    canvas[:h, h:] = np.concatenate(list(src_a), axis=1)
    for r, layers in enumerate(row_layers):
        cells = _render(G, mix(wa, wb[r:r + 1].expand(len(seeds_a), -1, -1), layers))
        canvas[(r + 1) * h:(r + 2) * h, :h] = src_b[r]
        canvas[(r + 1) * h:(r + 2) * h, h:] = np.concatenate(list(cells), axis=1)
    return canvas


def noise(G: Generator, seed: int = 0, draws: int = 100, psi: float = 0.7) -> np.ndarray:
    """Top: three noise draws and the std map over `draws`; bottom: noise all / none / fine / coarse."""
    settings = RenderSettings(psi=psi)
    w = latents_to_w(G, [Latent(seed=seed)])[0]
    imgs = noise_draws(G, w, settings, draws, seed=seed)
    h = imgs.shape[1]
    std = imgs.std(axis=0).mean(axis=-1)
    std_img = np.repeat((np.clip(std / max(std.max(), 1e-8), 0, 1) * 255).astype(np.uint8)[..., None], 3, 2)
    top = [to_uint8(torch.from_numpy(imgs[k]).permute(2, 0, 1)[None])[0] for k in range(3)] + [std_img]
    ws = _ws(G, [seed], psi)
    res = G.cfg.resolutions
    fine_from = 64 if G.cfg.resolution >= 64 else res[-1]
    def only(kept) -> NoiseSpec:
        spec = NoiseSpec(ResNoise("zero"))
        for r in kept:
            spec = spec.with_res(r, ResNoise("random", seed))
        return spec
    specs = [only(res), only(()), only([r for r in res if r >= fine_from]), only([r for r in res if r <= 8])]
    bottom = [_render(G, ws, s)[0] for s in specs]
    return make_grid(np.stack(top + bottom), 4, pad=2)


def truncation(G: Generator, seeds=(0, 1, 2), psis=PAPER_PSIS) -> np.ndarray:
    """Rows: seeds; columns: ψ ∈ {1, 0.7, 0.5, 0, −0.5, −1} on all layers."""
    rows = [_render(G, torch.cat([_ws(G, [s], p) for p in psis])) for s in seeds]
    return make_grid(np.concatenate(rows), len(psis), pad=2)
