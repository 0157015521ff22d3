"""Render-time caches of derived weights, for any architecture's modules (torch only)."""
from __future__ import annotations

import weakref

import torch
from torch import nn


def frozen(module: nn.Module, key: str, make) -> torch.Tensor:
    """`make()`, cached on `module` while gradients are off and its weight is unchanged.

    Rendering recomputes the same scaled (and, for up/down convs, re-tapped) weights on every call:
    at batch 1 that was a third of a 64² render, memory-bound passes over 16 MB kernels. The cache is
    keyed on the weight object and its version counter, which every in-place update (optimizer step,
    EMA, load_state_dict) bumps; with gradients on, nothing is cached, so training is unchanged.
    Writes through `.data` (or by collectives) bypass the counter: call forget_frozen after them.
    The weight is held by a weak reference, which copy.deepcopy keeps as it is: a copied module's new weight
    never matches the original's entry, even when its fresh version counter reaches the recorded value.
    """
    w = module.weight
    if torch.is_grad_enabled() or w.is_inference():  # inference tensors have no version counter
        return make()
    stamp = (key, w._version, w.dtype, w.device)
    cache = module.__dict__.setdefault("_frozen", {})
    hit = cache.get(key)
    if hit is not None and hit[0]() is w and hit[1] == stamp:
        return hit[2]
    out = make()
    cache[key] = (weakref.ref(w), stamp, out)
    return out


def forget_frozen(module: nn.Module) -> None:
    """Drop the cached weights of `module` and its children (after writes the version counter misses)."""
    for m in module.modules():
        m.__dict__.pop("_frozen", None)
