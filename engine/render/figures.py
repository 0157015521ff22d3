"""The paper's figures on the current model: uncurated grid, style mixing, noise, truncation sweep."""
from __future__ import annotations

import numpy as np
import torch

from .synth import latents_to_w, mix, psi_sweep, render_still, styled_ws, to_uint8, variation_units
from ..nets.api import GeneratorNet
from ..files.pngio import grey_image, make_grid
from ..contract.latents import (COARSE_MAX, MIDDLE_MAX, PAPER_PSIS, Latent, NoiseSpec, RenderSettings, ResNoise,
                                layer_ranges)
from ..contract.requests import RenderFigure


def _seed_ws(G: GeneratorNet, seeds, psi: float = 1.0, cutoff: int | None = None, c: int | None = None) -> torch.Tensor:
    """Seeds (of class `c`) → truncated ws [N, num_ws, w_dim]."""
    return styled_ws(G, latents_to_w(G, [Latent(seed=s, c=c) for s in seeds]), RenderSettings(psi=psi, cutoff=cutoff))


def uncurated(G: GeneratorNet, seeds, psi: float = 0.7, cutoff: int | None = 8, cols: int = 8,
              c: int | None = None) -> np.ndarray:
    """Seeds in order, no selection (the paper uses ψ 0.7 on the coarse and middle layers)."""
    return make_grid(render_still(G, _seed_ws(G, seeds, psi, cutoff, c), RenderSettings()), cols, pad=2)


def mixing(G: GeneratorNet, seeds_a=(1, 2, 3, 4, 5), seeds_b=(6, 7, 8, 9, 10, 11), c: int | None = None) -> np.ndarray:
    """Sources A on top, B on the left; rows 0–2 copy B's coarse, 3–4 middle, 5 fine styles into A."""
    ranges = layer_ranges(G.ws_resolutions)
    row_layers = [ranges["coarse"]] * 3 + [ranges["middle"]] * 2 + [ranges["fine"] or ranges["middle"]]
    wa, wb = _seed_ws(G, seeds_a, c=c), _seed_ws(G, seeds_b[:6], c=c)
    A = len(seeds_a)
    cells = torch.cat([mix(wa, wb[r:r + 1].expand(A, -1, -1), layers) for r, layers in enumerate(row_layers)])
    imgs = render_still(G, torch.cat([wa, wb, cells]), RenderSettings())
    src_a, src_b, cell_imgs = imgs[:A], imgs[A:A + len(wb)], imgs[A + len(wb):]
    h = src_a.shape[1]
    canvas = np.full(((len(row_layers) + 1) * h, (A + 1) * h, 3), 255, np.uint8)
    canvas[:h, h:] = np.concatenate(list(src_a), axis=1)
    for r in range(len(row_layers)):
        canvas[(r + 1) * h:(r + 2) * h, :h] = src_b[r]
        canvas[(r + 1) * h:(r + 2) * h, h:] = np.concatenate(list(cell_imgs[r * A:(r + 1) * A]), axis=1)
    return canvas


def noise(G: GeneratorNet, seed: int = 0, draws: int = 100, psi: float = 0.7, c: int | None = None) -> np.ndarray:
    """Top: three noise draws and the std map over `draws`; bottom: noise all / none / fine / coarse."""
    settings = RenderSettings(psi=psi)
    first = None  # the first batch of draws: three of them are shown beside the map
    for _, imgs, std in variation_units(G, styled_ws(G, latents_to_w(G, [Latent(seed=seed, c=c)]), settings),
                                        settings, draws, seed):
        first = first if first is not None else imgs[:3]
    top = list(to_uint8(torch.from_numpy(first).permute(0, 3, 1, 2))) + [grey_image(std)]
    res = sorted(set(G.noise_resolutions))
    fine = [r for r in res if r > MIDDLE_MAX] or res[-1:]

    def only(kept) -> NoiseSpec:
        spec = NoiseSpec(ResNoise("zero"))
        for r in kept:
            spec = spec.with_res(r, ResNoise("random", seed))
        return spec
    specs = [only(res), only(()), only(fine), only([r for r in res if r <= COARSE_MAX])]
    ws = _seed_ws(G, [seed], psi, c=c)
    bottom = [render_still(G, ws, RenderSettings(noise=s))[0] for s in specs]
    return make_grid(np.stack(top + bottom), 4, pad=2)


def truncation(G: GeneratorNet, seeds=(0, 1, 2), psis=PAPER_PSIS, c: int | None = None) -> np.ndarray:
    """Rows: seeds; columns: ψ ∈ {1, 0.7, 0.5, 0, −0.5, −1} on all layers."""
    ws = torch.cat([psi_sweep(_seed_ws(G, [s], c=c), G.w_avg, psis) for s in seeds])
    return make_grid(render_still(G, ws, RenderSettings()), len(psis), pad=2)


def render(G: GeneratorNet, req: RenderFigure) -> np.ndarray:
    """The figure a request names, with its seeds (or the figure's own) and ψ."""
    seeds = req.seeds
    if req.name == "uncurated":
        return uncurated(G, seeds or range(64), psi=req.psi, c=req.c)
    if req.name == "mixing":
        return mixing(G, *((seeds[:5], seeds[5:11]) if len(seeds) >= 11 else ()), c=req.c)
    if req.name == "noise":
        return noise(G, seed=seeds[0] if seeds else 0, psi=req.psi, c=req.c)
    return truncation(G, seeds or (0, 1, 2), c=req.c)
