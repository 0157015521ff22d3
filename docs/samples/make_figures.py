"""Regenerates the bundled-model figures in this folder (run from the repository root).

The sample grids and the style-mixing figure come from the CLI; the noise figure from engine.explore.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

from stylegan_studio.engine.bundled import BUNDLED_MODEL
from stylegan_studio.engine.explore import latents_to_w, noise_draws, render_latents
from stylegan_studio.engine.modelfile import load_model
from stylegan_studio.engine.pngio import make_grid, save_png
from stylegan_studio.engine.specs import Latent, NoiseSpec, RenderSettings, ResNoise

OUT = Path(__file__).resolve().parent
CLI = [sys.executable, "-m", "stylegan_studio.app"]


def cli_figures() -> None:
    """Uncurated 8×8 grids at ψ 0.7 and 1, and the style-mixing figure (coarse, middle, fine rows)."""
    for psi in ("0.7", "1"):
        subprocess.run([*CLI, "generate", "--seeds", "0-63", "--psi", psi, "--cols", "8",
                        "--grid", str(OUT / f"samples-psi{psi.replace('.', '')}.png")], check=True)
    for layers in ("coarse", "middle", "fine"):
        subprocess.run([*CLI, "mix", "--rows", "10-14", "--cols", "20-24", "--layers", layers,
                        "--out", str(OUT / f"mixing-{layers}.png")], check=True)


def noise_figure(seeds=(1, 2, 3, 4), draws: int = 100) -> np.ndarray:
    """Per seed: noise everywhere, no noise, fine (64²) only, coarse (4²–8²) only, std over 100 draws."""
    G, _ = load_model(BUNDLED_MODEL, "cpu")
    zero, rnd = ResNoise("zero"), ResNoise("random", seed=7)
    specs = [NoiseSpec(rnd), NoiseSpec(zero), NoiseSpec(zero, ((64, rnd),)),
             NoiseSpec(zero, ((4, rnd), (8, rnd)))]
    tiles = []
    for seed in seeds:
        row = [render_latents(G, [Latent(seed=seed)], RenderSettings(psi=0.7, noise=s))[0] for s in specs]
        w = latents_to_w(G, [Latent(seed=seed)])[0]
        std = noise_draws(G, w, RenderSettings(psi=0.7, noise=NoiseSpec(rnd)), draws).std(0).mean(-1)
        std = (np.clip(std / max(float(std.max()), 1e-8), 0, 1) * 255).astype(np.uint8)
        tiles += [*row, np.repeat(std[..., None], 3, axis=2)]
    return make_grid(np.stack(tiles), 5, pad=2)


if __name__ == "__main__":
    torch.set_grad_enabled(False)
    cli_figures()
    save_png(OUT / "noise.png", noise_figure(), {"kind": "noise figure", "model": str(BUNDLED_MODEL.name)})
