"""Regenerates the bundled-model figures in this folder (run from the repository root).

The uncurated grids give every face its own random noise (noise seed = the face's seed), so no pattern
repeats across tiles; the style-mixing figure comes from the CLI; the noise figure from engine.explore.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

from stylegan_studio.engine.files.bundled import BUNDLED_MODEL
from stylegan_studio.engine.render.synth import latents_to_w, render_latents, variation_map
from stylegan_studio.engine.files.modelfile import load_model
from stylegan_studio.engine.files.pngio import make_grid, save_png
from stylegan_studio.engine.contract.latents import Latent, NoiseSpec, RenderSettings, ResNoise

OUT = Path(__file__).resolve().parent
CLI = [sys.executable, "-m", "stylegan_studio.app"]


def sample_grid(G, psi: float, seeds=range(64)) -> np.ndarray:
    """An uncurated 8×8 grid at ψ `psi`, each face with its own random noise maps."""
    own_noise = (RenderSettings(psi=psi, noise=NoiseSpec(ResNoise("random", seed=s))) for s in seeds)
    tiles = [render_latents(G, [Latent(seed=s)], settings)[0] for s, settings in zip(seeds, own_noise)]
    return make_grid(np.stack(tiles), 8)


def cli_figures() -> None:
    """The style-mixing figure (coarse, middle, fine rows) from the CLI."""
    for layers in ("coarse", "middle", "fine"):
        subprocess.run([*CLI, "mix", "--rows", "10-14", "--cols", "20-24", "--layers", layers,
                        "--out", str(OUT / f"mixing-{layers}.png")], check=True)


def noise_figure(seeds=(1, 2, 3, 4), draws: int = 100) -> np.ndarray:
    """Per seed: noise everywhere, no noise, 16² only, coarse (4²–8²) only, std over 100 draws.

    The bundled model was trained with noise inputs up to 16² only, so 32² and 64² noise changes nothing.
    """
    G, _ = load_model(BUNDLED_MODEL, "cpu")
    zero, rnd = ResNoise("zero"), ResNoise("random", seed=7)
    specs = [NoiseSpec(rnd), NoiseSpec(zero), NoiseSpec(zero, ((16, rnd),)),
             NoiseSpec(zero, ((4, rnd), (8, rnd)))]
    tiles = []
    for seed in seeds:
        row = [render_latents(G, [Latent(seed=seed)], RenderSettings(psi=0.7, noise=s))[0] for s in specs]
        w = latents_to_w(G, [Latent(seed=seed)])[0]
        std = variation_map(G, w, RenderSettings(psi=0.7, noise=NoiseSpec(rnd)), draws)
        std = (np.clip(std / max(float(std.max()), 1e-8), 0, 1) * 255).astype(np.uint8)
        tiles += [*row, np.repeat(std[..., None], 3, axis=2)]
    return make_grid(np.stack(tiles), 5, pad=2)


if __name__ == "__main__":
    torch.set_grad_enabled(False)
    G, _ = load_model(BUNDLED_MODEL, "cpu")
    for psi in (0.7, 1.0):
        name = f"samples-psi{str(psi).replace('.', '').rstrip('0') or '0'}.png"
        save_png(OUT / name, sample_grid(G, psi), {"kind": "uncurated samples", "seeds": "0-63", "psi": psi,
                                                   "noise": "random, noise seed = seed", "model": BUNDLED_MODEL.name})
    cli_figures()
    save_png(OUT / "noise.png", noise_figure(), {"kind": "noise figure", "model": str(BUNDLED_MODEL.name)})
