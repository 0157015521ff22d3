"""Perceptual path length (Karras et al. 2019, §4.1) in Z or W, full or end-point sampling, ε = 1e-4.

The paper measures each step with LPIPS on VGG16; those weights are not available offline, so the distance
here is named for what it is: a multi-scale pixel distance (see pyramid_distance and docs/disentanglement.md).
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
import torch.nn.functional as F

from ..nets.api import GeneratorNet
from ..render.synth import lerp, one_hot, slerp, spread_classes

EPSILON = 1e-4
SPACES = ("z", "w")
SAMPLINGS = ("full", "end")
DISTANCE = "multi-scale pixel MSE (2× box pyramid from the model's resolution down to 8², summed over levels)"


def pyramid_distance(a: torch.Tensor, b: torch.Tensor, smallest: int = 8) -> torch.Tensor:
    """Σ over a 2× box pyramid (full size down to `smallest`) of the mean squared difference: [N].

    Coarse levels weigh shape and colour changes that span many pixels as much as fine levels weigh
    texture, a crude stand-in for a perceptual distance that needs no learned weights.
    """
    a, b = a.double(), b.double()
    total = torch.zeros(a.shape[0], dtype=torch.float64)
    while True:
        total += (a - b).square().mean(dim=(1, 2, 3)).cpu()
        if a.shape[-1] // 2 < smallest:
            return total
        a, b = F.avg_pool2d(a, 2), F.avg_pool2d(b, 2)


@torch.inference_mode()
def _pair_batch(G: GeneratorNet, space: str, sampling: str, n: int, gen: torch.Generator) -> torch.Tensor:
    """d/ε² of `n` random path steps."""
    z0, z1 = torch.randn(n, G.z_dim, generator=gen), torch.randn(n, G.z_dim, generator=gen)
    t = torch.rand(n, 1, generator=gen) if sampling == "full" else torch.zeros(n, 1)
    dev = G.w_avg.device
    c = one_hot(G, spread_classes(G, n))  # both ends of a step share its class
    if space == "z":
        z = torch.cat([slerp(z0, z1, t), slerp(z0, z1, t + EPSILON)]).to(dev)
        w = G.mapping(z, None if c is None else c.repeat(2, 1))
    else:
        w0, w1 = G.mapping(z0.to(dev), c), G.mapping(z1.to(dev), c)
        w = torch.cat([lerp(w0, w1, t.to(dev)), lerp(w0, w1, t.to(dev) + EPSILON)])
    img = G.synthesis(w.unsqueeze(1).repeat(1, G.num_ws, 1), None).float().clamp(-1, 1)  # stored noise: same for both
    return pyramid_distance(img[:n], img[n:]) / EPSILON ** 2


def path_length(G: GeneratorNet, space: str, sampling: str, count: int, seed: int = 0,
                batch: int = 16) -> Iterator[tuple[int, int]]:
    """Mean d/ε² over `count` steps after dropping those below the 1st and above the 99th percentile (as the paper)."""
    gen = torch.Generator().manual_seed(seed)
    parts = []
    for start in range(0, count, batch):
        parts.append(_pair_batch(G, space, sampling, min(batch, count - start), gen))
        yield min(start + batch, count), count
    d = torch.cat(parts).numpy()
    lo, hi = np.percentile(d, [1, 99])
    kept = d[(d >= lo) & (d <= hi)]
    return {"space": space, "sampling": sampling, "ppl": float(kept.mean()), "count": count, "kept": int(len(kept))}
