"""Unsupervised directions in W: PCA of mapped samples (GANSpace) and closed-form factorisation (SeFa).

Both are generator jobs: they yield (done, total) while mapping samples and return a DirectionSet.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch

from ..nets.api import GeneratorNet
from ..render.synth import map_random
from ..files.fileio import atomic_write_bytes, check_suffix
from ..contract.directions import DirectionSet, encode

SAMPLE_BATCH = 2000


def sample_w(G: GeneratorNet, samples: int, seed: int = 0) -> Iterator[tuple[int, torch.Tensor | None]]:
    """(samples mapped so far, None) per batch, then (samples, w [samples, w_dim] float64)."""
    gen = torch.Generator().manual_seed(seed)
    out = []
    for start in range(0, samples, SAMPLE_BATCH):
        z = torch.randn(min(SAMPLE_BATCH, samples - start), G.z_dim, generator=gen)
        with torch.inference_mode():
            out.append(map_random(G, z.to(G.w_avg.device)).double().cpu())  # classes spread evenly
        yield start + len(z), None
    yield samples, torch.cat(out)


def _mapped(G: GeneratorNet, samples: int, seed: int):
    """Generator helper: yields progress, returns w [samples, w_dim] float64."""
    for done, w in sample_w(G, samples, seed):
        if w is not None:
            return w
        yield done, samples


def _canonical_sign(vectors: torch.Tensor) -> torch.Tensor:
    """Flip each row so its largest-magnitude entry is positive (eigenvectors have no sign of their own)."""
    idx = vectors.abs().argmax(dim=1)
    return vectors * torch.sign(vectors[torch.arange(len(vectors)), idx]).unsqueeze(1)


def pca(G: GeneratorNet, model_id: str, count: int = 20, samples: int = 20000, seed: int = 0,
        layers: Sequence[int] | None = None) -> Iterator[tuple[int, int]]:
    """Principal components of mapped w; σ = √(eigenvalue), score = share of w's variance (GANSpace)."""
    w = yield from _mapped(G, samples, seed)
    cov = torch.cov(w.T)                                   # [w_dim, w_dim]
    evals, evecs = torch.linalg.eigh(cov)                  # ascending
    order = torch.argsort(evals, descending=True)[:count]
    vectors = _canonical_sign(evecs[:, order].T)           # [K, w_dim]
    sig = evals[order].clamp(min=0).sqrt()
    return DirectionSet(vectors.float().numpy(), tuple(f"pc{k}" for k in range(len(order))), "pca",
                        _layers(G, layers), model_id, sig.float().numpy(),
                        (evals[order] / evals.clamp(min=0).sum()).float().numpy(), "explained variance")


def style_weights(G: GeneratorNet, layers: Sequence[int]) -> torch.Tensor:
    """A: the style affines of `layers` stacked, as they act on w: [Σ 2·C_i, w_dim] float64."""
    mats = []
    for i in layers:
        mats.append(G.style_weights(i).detach().double().cpu())  # [S, w_dim] (v1: 2C, scales then biases)
    return torch.cat(mats)


def sefa(G: GeneratorNet, model_id: str, count: int = 20, layers: Sequence[int] | None = None,
         samples: int = 20000, seed: int = 0) -> Iterator[tuple[int, int]]:
    """Eigenvectors of AᵀA for the chosen layers' style affines (Shen & Zhou 2021); σ measured on mapped w.

    Each eigenvector is the unit move in W that changes those layers' styles most; score = its share of
    the eigenvalues. σ (the slider unit) is the std of mapped samples along it, as for PCA.
    """
    chosen = _layers(G, layers)
    A = style_weights(G, chosen)
    evals, evecs = torch.linalg.eigh(A.T @ A)
    order = torch.argsort(evals, descending=True)[:count]
    vectors = _canonical_sign(evecs[:, order].T)           # [K, w_dim]
    w = yield from _mapped(G, samples, seed)
    sig = (w @ vectors.T).std(dim=0)
    return DirectionSet(vectors.float().numpy(), tuple(f"sefa{k}" for k in range(len(order))), "sefa", chosen,
                        model_id, sig.float().numpy(), (evals[order] / evals.sum()).float().numpy(),
                        "eigenvalue share")


def _layers(G: GeneratorNet, layers: Sequence[int] | None) -> tuple[int, ...]:
    return tuple(sorted(layers)) if layers else tuple(range(G.num_ws))


def run(job: Iterator) -> DirectionSet:
    """Drive a direction job to its end without progress (the CLI and tests)."""
    try:
        while True:
            next(job)
    except StopIteration as end:
        return end.value


def save(path, ds: DirectionSet) -> None:
    """Write a direction set as .npz, atomically."""
    check_suffix(path, ".npz")
    atomic_write_bytes(path, encode(ds))
