"""Linear boundaries in a latent space: a linear SVM (squared hinge, L2) fitted by L-BFGS, in torch.

Its unit normal is an attribute's direction (InterFaceGAN); its predictions give linear separability.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

L2 = 1e-3


@dataclass(frozen=True)
class Boundary:
    """sign(x·normal + bias) predicts the attribute; `normal` is a unit vector in the input space."""

    normal: np.ndarray      # [D]
    bias: float

    def predict(self, x: np.ndarray) -> np.ndarray:
        """True where x [N, D] lies on the attribute's side."""
        return x @ self.normal + self.bias > 0


def fit_svm(x: np.ndarray, y: np.ndarray, l2: float = L2, iters: int = 200) -> Boundary:
    """Linear SVM of labels y [N] bool on x [N, D], on standardised inputs; the normal is mapped back to x."""
    X = torch.as_tensor(x, dtype=torch.float64)
    mean, std = X.mean(0), X.std(0).clamp(min=1e-8)
    Xs = (X - mean) / std
    t = torch.as_tensor(y, dtype=torch.float64) * 2 - 1     # ±1
    w = torch.zeros(X.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=iters, line_search_fn="strong_wolfe")

    def loss():
        opt.zero_grad()
        margin = (1 - t * (Xs @ w + b)).clamp(min=0)
        out = margin.square().mean() + l2 * w.square().sum()
        out.backward()
        return out
    opt.step(loss)
    with torch.no_grad():
        normal = w / std                      # x·(w/std) − mean·(w/std) + b = Xs·w + b
        bias = b - (mean * normal).sum()
        scale = normal.norm().clamp(min=1e-12)
        return Boundary((normal / scale).numpy(), float(bias / scale))


def conditional_entropy(y: np.ndarray, x: np.ndarray) -> float:
    """H(Y|X) in nats of two boolean arrays (Y: the classifier's labels, X: the SVM's)."""
    h = 0.0
    for xv in (False, True):
        sel = x == xv
        if not sel.any():
            continue
        p = y[sel].mean()
        h -= sel.mean() * sum(q * np.log(q) for q in (p, 1 - p) if q > 0)
    return float(h)
