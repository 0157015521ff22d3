"""The one interface everything above nets/ uses to drive a generator, whatever its architecture (torch only)."""
from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import torch


@runtime_checkable
class GeneratorNet(Protocol):
    """A generator as render, train, files, directions, metrics, thread and cli see it.

    Code above nets/ asks for capabilities (num_ws, noise_resolutions, has_input_transform, …), never
    for the architecture: adding StyleGAN2 or 3 is one module plus one registration in nets/registry.py.
    """

    arch: str                           # "stylegan1" | "stylegan2" | "stylegan3" (the registry key)
    cfg: Any                            # the arch's frozen config dataclass (to_dict/from_dict, in the model file)
    z_dim: int
    w_dim: int
    c_dim: int                          # 0 = unconditional
    img_resolution: int
    img_channels: int
    num_ws: int
    ws_resolutions: tuple[int, ...]     # len num_ws: the resolution each ws feeds (v3: nominal, 2 × cutoff)
    ws_labels: tuple[str, ...]          # len num_ws: short UI labels, e.g. "8²"
    noise_resolutions: tuple[int, ...]  # one entry per noise input, in order
    output_resolutions: tuple[int, ...]  # where synthesis(..., res=r) may stop early; last = img_resolution
    w_avg: torch.Tensor                 # [w_dim], the centre of truncation
    has_input_transform: bool           # v3: translate/rotate of the Fourier input

    def mapping(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """z [N, z_dim] (+ c [N, c_dim]) → w [N, w_dim], without truncation."""

    def stored_noise(self, i: int) -> torch.Tensor:
        """Noise input i's stored map, [1, 1, H, W]."""

    def synthesis(self, ws: torch.Tensor, noise: list | None = None) -> torch.Tensor:
        """ws [N, num_ws, w_dim] → images [N, C, R, R] in about [-1, 1].

        noise None: every input's stored map; else one entry per noise input, a [1 or N, 1, H, W] tensor
        or None (that input off). Where output_resolutions has more than one entry, `res=r` (one of them)
        stops at that resolution's output layer.
        """

    def set_input_transform(self, tx: float, ty: float, angle_deg: float) -> None:
        """Translate/rotate the input (only where has_input_transform)."""

    def param_resolution(self, name: str) -> int | None:
        """The synthesis resolution a parameter (state_dict name) belongs to; None for mapping or shared ones."""

    def style_weights(self, i: int) -> torch.Tensor:
        """The affine(s) turning w into ws entry i's styles, as they act on w (gains applied): [S, w_dim]."""

    def image_macs(self, res: int | None = None) -> float:
        """Multiply-accumulates of one synthesis pass up to output resolution `res` (default: full)."""


def feature_layers(G: GeneratorNet) -> tuple[tuple[str, int, int], ...]:
    """(name, resolution, channels) of the synthesis layers a layer view can show; () where the arch has none.

    A capability, not a Protocol member: an arch that exposes its layers has `feature_layers()`,
    `synthesis(ws, noise, capture=name)` → (img, act) from one pass and `synthesis.features(ws, noise, name)`
    (render/layers.py). StyleGAN v1 does; an arch without them renders normally and shows no layers.
    """
    listed = getattr(G, "feature_layers", None)
    return tuple(listed()) if callable(listed) else ()
