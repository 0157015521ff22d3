"""Projection: the latent (W or W+, optionally the noise maps) whose image is closest to a target image.

The recipe follows the StyleGAN2 projector (Karras et al. 2020, "Analyzing and Improving the Image Quality of
StyleGAN"): start at w_avg, Adam with a learning rate that ramps up and cosine-ramps down, Gaussian noise
added to w that shrinks to zero over the first three quarters (so early steps explore), and noise maps kept
unit-normal with a penalty on their spatial autocorrelation at every scale (so the maps cannot paint the image
themselves). The distance differs: LPIPS/VGG weights are not available offline; docs/projection.md measures
what is used instead.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, UnidentifiedImageError

from ..contract.errors import UserError
from ..contract.projection import ProjectionOptions
from ..files.dataset import decode, to_square  # the datasets' decoding: EXIF rotation, alpha on white
from ..nets.api import GeneratorNet
from ..nets.device import device_of
from ..nets.inception import load_inception  # raises one line when the metrics extra is missing
from ..contract.latents import RenderSettings
from .synth import broadcast, map_random, one_hot, prepare, to_uint8

LR_RAMPUP, LR_RAMPDOWN = 0.05, 0.25     # fractions of the run (StyleGAN2 projector values)
W_NOISE_START, W_NOISE_RAMP = 0.05, 0.75  # latent noise: × w_std at the start, gone after this fraction
NOISE_REG_WEIGHT = 1e5
INCEPTION_WEIGHT = 0.1                  # not tuned: the option lost on PSNR and SSIM at it (docs/projection.md)


def load_target(path: str | Path, resolution: int) -> np.ndarray:
    """Any image file → uint8 [resolution, resolution, 3], centre-cropped and resized; one line if unreadable."""
    try:
        data = Path(path).read_bytes()
        return to_square(decode(data), resolution)
    except UnidentifiedImageError:
        raise UserError(f"cannot read {path}: not an image file Pillow knows") from None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserError(f"cannot read {path} as an image: {why}") from None


def to_tensor(img: np.ndarray, channels: int, device) -> torch.Tensor:
    """uint8 [H, W, 3] → [1, channels, H, W] in [-1, 1] (grey models get the mean of the colours)."""
    x = torch.from_numpy(np.array(img, copy=True)).permute(2, 0, 1).float().unsqueeze(0) / 127.5 - 1
    return (x.mean(1, keepdim=True) if channels == 1 else x).to(device)


@torch.no_grad()
def w_stats(G: GeneratorNet, c: int | None = None, samples: int = 10_000, seed: int = 0) -> tuple[torch.Tensor, float]:
    """(start, scale): where a projection starts in W and the root mean squared distance of mapped ws from it.

    The start is w_avg; for a class `c` of a class-conditional model it is that class's mean w. A conditional
    model without a class spreads the samples over all its classes (around w_avg, as it was trained).
    """
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(samples, G.z_dim, generator=gen).to(device_of(G))
    if c is None:
        return G.w_avg.detach(), float(((map_random(G, z) - G.w_avg) ** 2).sum(1).mean().sqrt())
    w = G.mapping(z, one_hot(G, [c] * samples))
    mean = w.mean(0)
    return mean, float(((w - mean) ** 2).sum(1).mean().sqrt())


def _pyramid(x: torch.Tensor, smallest: int = 8) -> list[torch.Tensor]:
    out = [x]
    while out[-1].shape[-1] > smallest:
        out.append(F.avg_pool2d(out[-1], 2))
    return out


def make_distance(name: str, target: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """The distance to `target` [1, C, H, W] named in contract.projection.DISTANCES."""
    if name == "pixel":
        return lambda img: F.mse_loss(img, target)
    targets = _pyramid(target)

    def multiscale(img: torch.Tensor) -> torch.Tensor:
        # each scale counts equally: the coarse ones pull the shape into place before the fine ones matter
        return sum(F.mse_loss(a, b) for a, b in zip(_pyramid(img), targets)) / len(targets)
    if name == "pixel-multiscale":
        return multiscale
    net = load_inception()
    for p in net.parameters():
        p.requires_grad_(False)
    feat = _inception_features(net, target).detach()
    scale = float((feat ** 2).sum())

    def with_inception(img: torch.Tensor) -> torch.Tensor:
        return multiscale(img) + INCEPTION_WEIGHT * ((_inception_features(net, img) - feat) ** 2).sum() / scale
    return with_inception


def _inception_features(net, img: torch.Tensor) -> torch.Tensor:
    """[1, C, H, W] in [-1, 1] → pool features, scaled as metrics.fid does (uint8 / 128 − 1)."""
    x = img.expand(-1, 3, -1, -1) if img.shape[1] == 1 else img
    x = (x * 127.5 + 128).clamp(0, 255)
    x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False) / 128.0 - 1.0
    return net(x.cpu()).reshape(-1)


def noise_regularizer(maps: list[torch.Tensor]) -> torch.Tensor:
    """Squared autocorrelation of each map at a one-pixel shift, over a pyramid down to 8²."""
    total = maps[0].new_zeros(())
    for m in maps:
        for level in _pyramid(m):
            right, down = torch.roll(level, 1, 3), torch.roll(level, 1, 2)
            total = total + (level * right).mean() ** 2 + (level * down).mean() ** 2
    return total


@dataclass(frozen=True)
class Step:
    """One optimisation step: its number (1-based), the total, the distance and the image it rendered."""

    step: int
    total: int
    distance: float
    image: np.ndarray   # [H, W, C] uint8


@dataclass(frozen=True)
class Result:
    """What a projection found: `w` [w_dim] (space w) or [num_ws, w_dim] (w+), noise maps if optimised."""

    w: np.ndarray
    noise: tuple[np.ndarray, ...] | None
    image: np.ndarray   # [H, W, C] uint8: the latent (and noise maps) rendered without latent noise


class Projection:
    """Optimises a latent towards `target` (uint8 [R, R, 3]); steps() yields one Step per optimisation step."""

    def __init__(self, G: GeneratorNet, target: np.ndarray, options: ProjectionOptions) -> None:
        if target.shape[:2] != (G.img_resolution,) * 2:
            raise UserError(f"the target is {target.shape[1]}×{target.shape[0]}, the model makes "
                            f"{G.img_resolution}² images")
        self.G, self.options, dev = G, options, device_of(G)
        self.target = to_tensor(target, G.img_channels, dev)
        self.distance = make_distance(options.distance, self.target)
        prepare(G, RenderSettings())  # the input as trained (a render may have moved a StyleGAN3 model's)
        start, self.w_std = w_stats(G, options.c)
        layers = G.num_ws if options.space == "w+" else 1
        self.w = start.clone().reshape(1, 1, -1).repeat(1, layers, 1).requires_grad_(True)
        # stored maps as the start: with noise off they stay, so the result renders with the "const" noise setting
        self.noise = [G.stored_noise(i).detach().clone().requires_grad_(options.noise)
                      for i in range(len(G.noise_resolutions))]
        params = [self.w] + (self.noise if options.noise else [])
        self.opt = torch.optim.Adam(params, lr=options.lr, betas=(0.9, 0.999))
        self.gen = torch.Generator().manual_seed(options.seed)
        self.done = 0

    def ws(self) -> torch.Tensor:
        """The current ws [1, num_ws, w_dim] (no latent noise)."""
        w = self.w.detach()
        return broadcast(w[:, 0], self.G.num_ws) if w.shape[1] == 1 else w.clone()

    def _lr(self, t: float) -> float:
        ramp = min(1.0, (1.0 - t) / LR_RAMPDOWN)
        return self.options.lr * (0.5 - 0.5 * math.cos(ramp * math.pi)) * min(1.0, t / LR_RAMPUP)

    def step(self) -> Step:
        """One Adam step on the latent (and the noise maps)."""
        total = self.options.steps
        t = self.done / total
        for group in self.opt.param_groups:
            group["lr"] = self._lr(t)
        scale = self.w_std * W_NOISE_START * max(0.0, 1.0 - t / W_NOISE_RAMP) ** 2
        jitter = torch.randn(self.w.shape, generator=self.gen).to(self.w.device) * scale
        w = self.w + jitter
        ws = w.expand(-1, self.G.num_ws, -1) if w.shape[1] == 1 else w
        with torch.enable_grad():
            img = self.G.synthesis(ws, noise=self.noise)
            dist = self.distance(img)
            loss = dist + NOISE_REG_WEIGHT * noise_regularizer(self.noise) if self.options.noise else dist
            self.opt.zero_grad(set_to_none=True)
            loss.backward(inputs=self.opt.param_groups[0]["params"])  # never touches G's own gradients
        self.opt.step()
        if self.options.noise:
            with torch.no_grad():
                for m in self.noise:  # keep each map unit-normal, as the regulariser assumes
                    m.sub_(m.mean()).div_(m.std() + 1e-8)
        self.done += 1
        return Step(self.done, total, float(dist.detach()), to_uint8(img.detach())[0])

    def steps(self) -> Iterator[Step]:
        """Every remaining step, one at a time."""
        while self.done < self.options.steps:
            yield self.step()

    @torch.no_grad()
    def result(self) -> Result:
        """The latent found so far, rendered without latent noise."""
        ws = self.ws()
        img = to_uint8(self.G.synthesis(ws, noise=[m.detach() for m in self.noise]))[0]
        w = ws[0, 0] if self.options.space == "w" else ws[0]
        noise = tuple(m.detach().cpu().numpy()[0, 0] for m in self.noise) if self.options.noise else None
        return Result(w.cpu().numpy().astype(np.float32), noise, img)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio of two uint8 images, in dB."""
    mse = float(((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean())
    return float("inf") if mse == 0 else 10 * math.log10(255 ** 2 / mse)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Structural similarity of two uint8 images [H, W, C] (Gaussian window σ 1.5, 11 taps; mean over channels)."""
    x = torch.from_numpy(a.astype(np.float64)).permute(2, 0, 1).unsqueeze(1)
    y = torch.from_numpy(b.astype(np.float64)).permute(2, 0, 1).unsqueeze(1)
    g = torch.exp(-(torch.arange(11, dtype=torch.float64) - 5) ** 2 / (2 * 1.5 ** 2))
    g = g / g.sum()
    k = (g[:, None] * g[None, :])[None, None]

    def blur(v: torch.Tensor) -> torch.Tensor:
        return F.conv2d(v, k)  # valid window only, as the reference implementation does
    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx ** 2, blur(y * y) - my ** 2, blur(x * y) - mx * my
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx ** 2 + my ** 2 + c1) * (vx + vy + c2))
    return float(s.mean())
