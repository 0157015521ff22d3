"""Differentiable augmentation for D (Zhao et al. 2020, "DiffAugment"), written for [-1, 1] images.

D sees every real and every fake through the same random transforms, in the D step and in the G step,
so it cannot memorise the training images and G still receives gradients through the transforms.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..contract.training import AUGMENT_OPS

def augment(x: torch.Tensor, policy: tuple[str, ...], gen: torch.Generator | None = None) -> torch.Tensor:
    """Apply each op of `policy` to x [N, C, H, W] with fresh random parameters per image."""
    for name in policy:
        x = _OPS[name](x, gen)
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
