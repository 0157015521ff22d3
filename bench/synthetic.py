"""Small synthetic things the tests and the benchmarks share: a tiny random G, a folder of generated images, a
tiny training config (here, in bench/, so bench imports nothing from tests/; pytest finds it through pythonpath)."""
import numpy as np
import torch
from PIL import Image

from stylegan_studio.engine.contract.modelconfig import ModelConfig
from stylegan_studio.engine.nets.networks import Generator
from stylegan_studio.engine.contract.training import TrainConfig


def tiny_generator(res: int = 16, seed: int = 0, noisy: bool = True) -> Generator:
    """A tiny random G; `noisy` gives the noise strengths non-zero values so noise matters."""
    torch.manual_seed(seed)
    G = Generator(ModelConfig.small(resolution=res, channels=16, z_dim=16)).eval().requires_grad_(False)
    if noisy:
        for block in G.synthesis.blocks:
            block.epi0.noise_strength.normal_(0, 1)
            block.epi1.noise_strength.normal_(0, 1)
        G.w_avg.normal_(0, 0.5)
    return G


def make_folder(root, n=64, size=24):
    """Warm-coloured discs on a cool background: a distribution far from a random G's output."""
    rng = np.random.default_rng(0)
    root.mkdir(parents=True, exist_ok=True)
    yy, xx = np.mgrid[:size, :size]
    for i in range(n):
        img = np.zeros((size, size, 3), np.uint8)
        img[:] = (30, 60, 160)
        cy, cx, r = rng.integers(8, 16), rng.integers(8, 16), rng.integers(4, 8)
        img[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = (230, 180 + rng.integers(0, 40), 40)
        Image.fromarray(img).save(root / f"{i:03d}.png")
    return root


def tiny_cfg(data, **kw):
    base = dict(data=str(data), resolution=16, channels=16, z_dim=16, total_kimg=0.128, start_res=8,
                fade_kimg=0.032, stable_kimg=0.032, batch=8, tick_kimg=0.064, snapshot_ticks=1, ema_kimg=0.05,
                lr=0.002, gamma=10.0, mapping_layers=8, augment="", noise_res=1024)  # the loop, not the recipe
    base.update(kw)
    return TrainConfig(**base)
