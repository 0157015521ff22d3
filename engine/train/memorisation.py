"""Is D memorising its training images? D's scores on them beside unseen ones of the same kind.

StyleGAN2-ADA (Karras et al. 2020, Fig. 1b) reads overfitting from this gap; its adaptive augmentation steers
by r_t = E[sign D(reals)] alone, which is also high for a D that is merely sure of real faces. Here both are
measured: r_t and the mean score of `count` training images, as many unseen ones, and as many G_ema fakes,
without augmentation or mirroring, at the run's current resolution and fade-in.
"""
from __future__ import annotations

import numpy as np
import torch

from ..nets import trainable
from .run import TrainingRun, unit_range

# D's minibatch-stddev layer takes its statistic over groups of a batch (a group that does not divide the batch
# shrinks), so every batch here is this size, a multiple of any group the trainer offers; counts round down.
BATCH = 256
COUNT = 19 * BATCH  # 4,864 images of each set: all but the last 136 of a 5,000-image held-out set


def usable_count(count: int, *sets) -> int:
    """The largest multiple of BATCH not above `count` nor any set's size (fewer than BATCH: all of them)."""
    n = min(count, *(len(s) for s in sets))
    return n // BATCH * BATCH or n


@torch.no_grad()
def real_scores(run: TrainingRun, images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """D's scores of uint8 images [N, R, R, 3] (N a multiple of BATCH, or fewer) as the run's D sees reals now."""
    res, alpha = run.cfg.phase(run.kimg)
    images = torch.as_tensor(images)
    out = [run.D(run.at_phase(unit_range(images[i:i + BATCH].to(run.device)), res, alpha),
                 *trainable.d_args(run.G, alpha)).float().flatten() for i in range(0, len(images), BATCH)]
    return torch.cat(out)


@torch.no_grad()
def fake_scores(run: TrainingRun, count: int, seed: int = 0) -> torch.Tensor:
    """D's scores of `count` G_ema samples (fixed z and noise, ψ 1), in batches as `real_scores` takes reals."""
    res, alpha = run.cfg.phase(run.kimg)
    gen = torch.Generator(run.device).manual_seed(seed)
    out = []
    for i in range(0, count, BATCH):
        n = min(BATCH, count - i)
        z = torch.randn(n, run.G.z_dim, generator=gen, device=run.device)
        img = trainable.render(run.G_ema, z, run._noise(n, res, gen), res, alpha)
        out.append(run.D(img, *trainable.d_args(run.G, alpha)).float().flatten())
    return torch.cat(out)


def measure(run: TrainingRun, seen: np.ndarray | torch.Tensor, unseen: np.ndarray | torch.Tensor,
            count: int = COUNT) -> dict:
    """r_t and mean D score of training images, unseen images and fakes, and r_t's gap (seen − unseen)."""
    n = usable_count(count, seen, unseen)
    rows = {"seen": real_scores(run, seen[:n]), "unseen": real_scores(run, unseen[:n]),
            "fakes": fake_scores(run, n)}
    out = {name: {"r_t": round(s.sign().mean().item(), 4), "mean": round(s.mean().item(), 4)}
           for name, s in rows.items()}
    return {"kimg": round(run.kimg, 3), "count": n, **out,
            "r_t_gap": round(out["seen"]["r_t"] - out["unseen"]["r_t"], 4)}


def table(result: dict) -> str:
    """The measurement as a markdown table."""
    names = {"seen": "training images", "unseen": "unseen images", "fakes": "G_ema fakes"}
    lines = ["| images | n | r_t = E[sign D] | mean D |", "|---|---|---|---|"]
    lines += [f"| {label} | {result['count']} | {result[k]['r_t']:+.3f} | {result[k]['mean']:+.2f} |"
              for k, label in names.items()]
    return "\n".join(lines + [f"\nr_t gap (training − unseen): {result['r_t_gap']:+.3f}"])
