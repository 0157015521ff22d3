"""What the trainer asks of a G and D pair, whatever the architecture: how to call them in a training pass.

StyleGAN v1 grows: its synthesis takes the training resolution and fade-in, its D the fade-in. StyleGAN2 is
trained at its full resolution only (NVIDIA's recipe), and its D takes a class, which the trainer never gives
(class-conditional models are refused before a run starts). The trainer calls G and D through these few
functions and so never asks which architecture it trains.
"""
from __future__ import annotations

import torch

from .api import GeneratorNet

GROWING_ARCHS = ("stylegan1",)   # architectures whose synthesis and D take a growing phase (res, alpha)
# Path-length regularisation weight each architecture's own recipe uses (StyleGAN2: 2; v1's paper has none).
RECIPE_PL_WEIGHT = {"stylegan1": 0.0, "stylegan2": 2.0}


def grows(G: GeneratorNet) -> bool:
    """Whether G's architecture trains with progressive growing."""
    return G.arch in GROWING_ARCHS


def synthesis_kwargs(G: GeneratorNet, res: int, alpha: float) -> dict:
    """The keyword arguments of G.synthesis(ws, noise=…) for a training pass at phase (res, alpha)."""
    if grows(G):
        return {"res": res, "alpha": alpha}
    if (res, alpha) != (G.img_resolution, 1.0):
        raise ValueError(f"a {G.arch} model trains at {G.img_resolution}² only, not {res}² (fade {alpha:g})")
    return {}


def d_args(G: GeneratorNet, alpha: float) -> tuple:
    """The positional arguments after the images of the D paired with G: D(img, …) at fade-in `alpha`."""
    return (alpha,) if grows(G) else ()


def mixing_ws(G: GeneratorNet, res: int) -> int:
    """How many ws the synthesis uses at training resolution `res` (style mixing cuts within them)."""
    return sum(1 for r in G.ws_resolutions if r <= res)


def render(G: GeneratorNet, z: torch.Tensor, noise: list, res: int, alpha: float) -> torch.Tensor:
    """G's images of `z` (ψ 1) with `noise`, at the growing phase (res, alpha) where G grows."""
    w = G.mapping(z)
    ws = w.unsqueeze(1).repeat(1, G.num_ws, 1)
    return G.synthesis(ws, noise=noise, **synthesis_kwargs(G, res, alpha))


def recipe_pl_weight(arch: str) -> float:
    """The path-length regularisation weight of `arch`'s own recipe."""
    return RECIPE_PL_WEIGHT.get(arch, 0.0)
