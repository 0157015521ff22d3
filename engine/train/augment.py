"""Differentiable augmentation for D (Zhao et al. 2020, "DiffAugment"), written for [-1, 1] images.

D sees every real and every fake through the same random transforms, in the D step and in the G step,
so it cannot memorise the training images and G still receives gradients through the transforms.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from . import distributed as dist_util
from ..contract.training import ADA_INTERVAL, ADA_KIMG, AUGMENT_OPS

def augment(x: torch.Tensor, policy: tuple[str, ...], gen: torch.Generator | None = None,
            p: torch.Tensor | None = None) -> torch.Tensor:
    """Apply each op of `policy` to x [N, C, H, W] with fresh random parameters per image.

    `p` (a scalar tensor, on x's device): each op applies to each image with that probability (ADA's way);
    None: every op to every image (DiffAugment's).
    """
    for name in policy:
        out = _OPS[name](x, gen)
        if p is not None:  # the op's random draws are made for every image either way: p never syncs the host
            out = torch.where(torch.rand(x.shape[0], 1, 1, 1, generator=gen, device=x.device) < p, out, x)
        x = out
    return x


def _rand(x: torch.Tensor, gen: torch.Generator | None) -> torch.Tensor:
    return torch.rand(x.shape[0], 1, 1, 1, generator=gen, device=x.device).to(x.dtype)


def color(x: torch.Tensor, gen: torch.Generator | None = None) -> torch.Tensor:
    """Random brightness (±0.5), saturation (×0…2) and contrast (×0.5…1.5), on the [-1, 1] scale."""
    x = x + (_rand(x, gen) - 0.5)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (_rand(x, gen) * 2) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (_rand(x, gen) + 0.5) + mean


def translation(x: torch.Tensor, gen: torch.Generator | None = None, ratio: float = 0.125) -> torch.Tensor:
    """Shift each image by up to `ratio` of its size in x and y, filling with zeros."""
    n, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = torch.randint(-sh, sh + 1, (n, 1, 1), generator=gen, device=x.device)
    dx = torch.randint(-sw, sw + 1, (n, 1, 1), generator=gen, device=x.device)
    gy, gx = _grid(h, w, x.device)
    # Index into a zero-padded copy: source pixel (y − dy, x − dx), offset by the padding.
    iy = (gy.unsqueeze(0) - dy + sh).clamp(0, h + 2 * sh - 1)  # [N, H, W]
    ix = (gx.unsqueeze(0) - dx + sw).clamp(0, w + 2 * sw - 1)
    padded = F.pad(x, (sw, sw, sh, sh))
    flat = (iy * (w + 2 * sw) + ix).view(n, 1, h * w).expand(-1, x.shape[1], -1)
    return padded.flatten(2).gather(2, flat).view_as(x)


def cutout(x: torch.Tensor, gen: torch.Generator | None = None, ratio: float = 0.5) -> torch.Tensor:
    """Zero one square of `ratio` × the image size at a random place in each image."""
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    oy = torch.randint(0, h + (1 - ch % 2), (n, 1, 1), generator=gen, device=x.device)
    ox = torch.randint(0, w + (1 - cw % 2), (n, 1, 1), generator=gen, device=x.device)
    gy, gx = _grid(h, w, x.device)
    # The square is centred at (oy, ox) and may hang over the border, as in DiffAugment.
    inside = ((gy - (oy - ch // 2)) >= 0) & ((gy - (oy - ch // 2)) < ch) & \
             ((gx - (ox - cw // 2)) >= 0) & ((gx - (ox - cw // 2)) < cw)
    return x * (~inside).unsqueeze(1).to(x.dtype)


def _grid(h: int, w: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Row and column index of every pixel, [H, W] each, on `device`."""
    return torch.meshgrid(torch.arange(h, device=device), torch.arange(w, device=device), indexing="ij")


_OPS = dict(zip(AUGMENT_OPS, (color, translation, cutout)))  # the names are declared once, in AUGMENT_OPS order


class AugmentStrength:
    """The probability `p` with which D's augmentations apply: fixed, or adapted as StyleGAN2-ADA adapts it.

    Adaptive: every ADA_INTERVAL D steps, r_t = E[sign(D(reals))] over those steps (the reals as D saw them,
    augmented); p moves up when r_t is above the target (D grows sure of the reals: it starts to overfit) and
    down when below, by the images shown ÷ (ADA_KIMG · 1000), within [0, 1]. All on the device: no host reads.
    """

    def __init__(self, fixed: float | None, target: float, device: torch.device) -> None:
        self.fixed, self.target = fixed, target
        self.p = torch.tensor(0.0 if fixed is None else float(fixed), device=device)
        self.sign_sum = torch.zeros((), device=device)  # Σ sign(D(real)) since the last adjustment
        self.steps, self.images = 0, 0                  # D steps and images (all ranks) since then

    def arg(self) -> torch.Tensor | None:
        """What `augment` takes: None for a fixed p of 1 (every op on every image), else the p tensor."""
        return None if self.fixed == 1.0 else self.p

    def observe(self, real_score: torch.Tensor, images: int) -> None:
        """Count one D step's scores of the reals; adjust p every ADA_INTERVAL steps when adaptive."""
        if self.fixed is not None:
            return
        # a non-finite score (a step that will be skipped) counts as neither side: p must never become NaN
        self.sign_sum += dist_util.sum_across(real_score.detach().nan_to_num(0.0, 0.0, 0.0).sign().sum())
        self.steps, self.images = self.steps + 1, self.images + images
        if self.steps % ADA_INTERVAL == 0:
            r_t = self.sign_sum / self.images
            self.p.add_(torch.sign(r_t - self.target) * (self.images / (ADA_KIMG * 1000))).clamp_(0.0, 1.0)
            self.sign_sum.zero_()
            self.steps, self.images = 0, 0

    def state(self) -> tuple[dict, dict]:
        """(tensors, counters) for a training state: a resume continues the adaptation where it stood."""
        return {"augment_p": self.p.detach().clone(), "augment_sign_sum": self.sign_sum.detach().clone()}, \
            {"augment_steps": self.steps, "augment_images": self.images}

    def load(self, tensors: dict, counters: dict) -> None:
        """Restore from a state; a fixed p stays the config's (a resume may change it), and a state without
        adaptation (older ones, or a fixed p) starts adapting from its p, or from 0."""
        if self.fixed is not None or "augment_p" not in tensors:
            return
        self.p.copy_(tensors["augment_p"].float().reshape(()))
        self.sign_sum.copy_(tensors.get("augment_sign_sum", torch.zeros(())).float().reshape(()))
        self.steps, self.images = int(counters.get("augment_steps", 0)), int(counters.get("augment_images", 0))
