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


class CapturingSynthesis(nn.Module):
    """A synthesis network with layer views by hooks: a subclass defines `layers()` (name → (module, size,
    channels)) and `_render(ws, noise, res, force_fp32)`, the image pass."""

    def layers(self) -> dict[str, tuple[nn.Module, int, int]]:
        raise NotImplementedError

    def _render(self, ws: torch.Tensor, noise: list | None = None, res: int | None = None,
                force_fp32: bool = False) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, ws: torch.Tensor, noise: list | None = None, res: int | None = None,
                force_fp32: bool = False, capture: str | None = None):
        """The image of `_render`; with `capture` (a feature layer's name), (image, that layer's output) from
        the same pass."""
        if capture is not None:
            return run_capturing(layer_module(self.layers(), capture),
                                 lambda: self._render(ws, noise, res, force_fp32), stop=False)
        return self._render(ws, noise, res, force_fp32)

    def features(self, ws: torch.Tensor, noise: list | None, name: str) -> torch.Tensor:
        """One feature layer's output, the pass ended there (nothing above it runs)."""
        return run_capturing(layer_module(self.layers(), name), lambda: self._render(ws, noise), stop=True)[1]

    def feature_layers(self) -> tuple[tuple[str, int, int], ...]:
        """(name, size, channels) of the layers a layer view can show, in order."""
        return tuple((name, size, ch) for name, (_, size, ch) in self.layers().items())
