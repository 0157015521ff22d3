"""What a synthesis layer computes: its output normalised per channel, as a grid, one channel or three as RGB.

The generator reports its layers (nets.api.feature_layers(G): name, resolution, channels) and returns one layer's
output from the same pass as the image (G.synthesis(ws, noise, capture=name)) or stops there
(G.synthesis.features(ws, noise, name)); nothing here asks which generator it holds.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..contract.errors import UserError
from ..contract.requests import LAYER_GRID_GAP as GAP, RenderLayer
from ..nets.api import feature_layers
from .renderer import latent_ws
from .synth import prepare

GAP_VALUE = 40     # the grid's background grey


@dataclass(frozen=True)
class LayerPicture:
    """One layer view as pixels, with what a click and a caption need."""

    image: np.ndarray            # [h, w, 3] uint8
    order: tuple[int, ...]       # grid: channels in tile order (highest energy first)
    lo: float                    # raw value range of what is shown
    hi: float
    cols: int
    tile: int


def check_layer(G, req: RenderLayer) -> int:
    """The layer's channel count; a UserError naming the layers there are, or a channel out of range."""
    layers = {name: (res, ch) for name, res, ch in feature_layers(G)}
    if req.layer not in layers:
        raise UserError(f"no layer {req.layer!r}; this model has {', '.join(layers)}")
    channels = layers[req.layer][1]
    bad = [c for c in req.channels if c >= channels]
    if bad:
        raise UserError(f"channel {bad[0]} does not exist: layer {req.layer} has channels 0-{channels - 1}")
    return channels


def normalised(act: torch.Tensor) -> torch.Tensor:
    """[C, H, W] → each channel scaled to [0, 1] by its own minimum and maximum (a flat channel: 0)."""
    flat = act.float().flatten(1)
    lo, hi = flat.min(1).values, flat.max(1).values
    span = torch.where(hi > lo, hi - lo, torch.ones_like(hi))
    return ((flat - lo[:, None]) / span[:, None]).view_as(act)


def energy_order(act: torch.Tensor) -> tuple[int, ...]:
    """Channels by mean square of their raw values, highest first (ties by index)."""
    energy = act.float().square().flatten(1).mean(1)
    return tuple(int(i) for i in torch.argsort(-energy, stable=True))


def picture(act: torch.Tensor, req: RenderLayer) -> LayerPicture:
    """One latent's layer output [C, H, W] as the request's view."""
    act = act.float().cpu()
    norm = normalised(act)
    if req.mode == "grid":
        order = energy_order(act)
        cols = req.cols or math.ceil(math.sqrt(len(order)))
        tiles = (norm[list(order)] * 255).round().clamp(0, 255).to(torch.uint8)
        return LayerPicture(_tile_grid(tiles, cols), order, float(act.min()), float(act.max()), cols, act.shape[-1])
    chosen = list(req.channels)
    img = norm[chosen] if req.mode == "rgb" else norm[chosen].expand(3, -1, -1)
    if req.size is not None and req.size != img.shape[-1]:
        img = F.interpolate(img[None], size=(req.size, req.size), mode="nearest")[0]  # crisp: one cell, one value
    raw = act[chosen]
    pix = (img * 255).round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()
    return LayerPicture(pix, tuple(chosen), float(raw.min()), float(raw.max()), 1, pix.shape[0])


def _tile_grid(tiles: torch.Tensor, cols: int) -> np.ndarray:
    """Grey tiles [K, h, w] uint8 → one grid [H, W, 3], GAP px apart, row-major: pngio.make_grid's layout, built
    with one reshape instead of a loop over tiles (it runs after every frame while the Layers pane is open)."""
    k, h, w = tiles.shape
    rows = -(-k // cols)
    padded = torch.full((rows * cols, h + GAP, w + GAP), GAP_VALUE, dtype=torch.uint8)
    padded[:k, :h, :w] = tiles
    grid = padded.view(rows, cols, h + GAP, w + GAP).permute(0, 2, 1, 3).reshape(rows * (h + GAP), cols * (w + GAP))
    return np.repeat(grid[:-GAP, :-GAP].numpy()[..., None], 3, axis=2)


@torch.inference_mode()
def layer_pictures(G, req: RenderLayer, start: int = 0, count: int | None = None) -> list[LayerPicture]:
    """The view of latents[start:start + count], the pass stopped at the layer (nothing above it runs)."""
    check_layer(G, req)
    lats = req.latents[start:None if count is None else start + count]
    if not lats:
        raise UserError("a layer view needs at least one face")
    ws = torch.cat([latent_ws(G, lat, req.settings, req.mix_with, req.mix_layers) for lat in lats])
    act = G.synthesis.features(ws, prepare(G, req.settings), req.layer)
    return [picture(a, req) for a in act]


@torch.inference_mode()
def image_and_layer(G, ws: torch.Tensor, noise: list, req: RenderLayer | None):
    """The images of ws and, when `req` is given, its layer's output [N, C, r, r] from the same synthesis pass
    (else None); picture() turns it into the view once the frame is out."""
    if req is None or req.layer not in {name for name, _, _ in feature_layers(G)}:
        return G.synthesis(ws, noise=noise), None  # a view of another model's layer never costs the viewer its frame
    return G.synthesis(ws, noise=noise, capture=req.layer)
