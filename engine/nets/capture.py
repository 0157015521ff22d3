"""One layer's output from a synthesis pass, for architectures whose layers are modules (StyleGAN2, 3).

The output is taken by a forward hook, as NVIDIA's visualizer takes it; a view that needs only the layer ends
the pass there by raising from the hook, so nothing above it runs.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn


class _Captured(Exception):
    """Carries a layer's output out of a pass stopped at that layer."""

    def __init__(self, act: torch.Tensor) -> None:
        super().__init__("layer captured")
        self.act = act


def run_capturing(module: nn.Module, run: Callable[[], torch.Tensor],
                  stop: bool) -> tuple[torch.Tensor | None, torch.Tensor]:
    """(the image `run()` returns, `module`'s output in that pass); `stop`: end the pass there (image None)."""
    got: list[torch.Tensor] = []

    def hook(_module, _inputs, out):
        if stop:
            raise _Captured(out)
        got.append(out)

    handle = module.register_forward_hook(hook)
    try:
        img = run()
    except _Captured as done:
        return None, done.act
    finally:
        handle.remove()
    if not got:
        raise RuntimeError(f"the pass never ran {type(module).__name__}")  # a layer the image does not use
    return img, got[-1]


def layer_module(layers: dict[str, tuple[nn.Module, int, int]], name: str) -> nn.Module:
    """The module of a feature layer by name (KeyError naming it when the model has no such layer)."""
    if name not in layers:
        raise KeyError(f"no feature layer {name!r}")
    return layers[name][0]
