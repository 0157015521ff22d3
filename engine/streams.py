"""Multi-image renders as streams: each step does one bounded unit of work and returns an Event.

The engine advances one stream unit per loop cycle and serves single images in between, so a
1024² model on a CPU (seconds per image) keeps the viewer responsive while a seed grid, a
mixing grid, a ψ strip or a variation map fills in. Small models finish in one unit.
"""
from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import torch

from .errors import UserError
from .messages import (Event, GridChunk, MixGridReady, RenderMixGrid, RenderRequest, RenderSeedGrid,
                       RenderTruncationStrip, RenderVariation, StripReady, VariationReady)
from .networks import Generator
from .renderer import grid_chunks, latent_ws, mix_ws, render_thumbs, split_mix, strip_ws, unit_images, variation_units
from .specs import RenderSettings

STREAMED = (RenderSeedGrid, RenderMixGrid, RenderTruncationStrip, RenderVariation)
VARIATION_BATCH = 16


def stream(G: Generator, req: RenderRequest) -> Iterator[Event]:
    """The events of a streamed request, one unit of work per step."""
    if isinstance(req, RenderSeedGrid):
        return _seed_grid(G, req)
    if isinstance(req, RenderMixGrid):
        return _mix_grid(G, req)
    if isinstance(req, RenderTruncationStrip):
        return _strip(G, req)
    if isinstance(req, RenderVariation):
        return _variation(G, req)
    raise UserError(f"the engine cannot stream {type(req).__name__}")


def _timed(units: Iterator) -> Iterator[tuple[object, float]]:
    """(item, seconds the step took) for each item of `units`."""
    while True:
        t0 = time.perf_counter()
        try:
            item = next(units)
        except StopIteration:
            return
        yield item, time.perf_counter() - t0


def image_units(G: Generator, ws: torch.Tensor, settings: RenderSettings,
                thumb: int | None) -> Iterator[tuple[int | None, np.ndarray]]:
    """(images done, all images with blanks after them) per unit; done is None once all are in."""
    n, out = unit_images(G, len(ws)), None
    for start in range(0, len(ws), n):
        part = render_thumbs(G, ws[start:start + n], settings, thumb)
        if out is None:
            out = np.zeros((len(ws), *part.shape[1:]), np.uint8)
        out[start:start + len(part)] = part
        done = start + len(part)
        yield (None if done == len(ws) else done), out.copy()  # a copy: the app reads it on another thread


def _seed_grid(G: Generator, req: RenderSeedGrid) -> Iterator[Event]:
    for (start, imgs), secs in _timed(grid_chunks(G, req)):
        yield GridChunk(req.target, req.stamp, start, imgs, len(req.seeds), secs)


def _mix_grid(G: Generator, req: RenderMixGrid) -> Iterator[Event]:
    ws = mix_ws(G, req.rows, req.cols, req.layers, req.settings)
    for (done, imgs), secs in _timed(image_units(G, ws, req.settings, req.thumb)):
        rows, cols, cells = split_mix(imgs, len(req.rows), len(req.cols))
        yield MixGridReady(req.target, req.stamp, rows, cols, cells, secs, done)


def _strip(G: Generator, req: RenderTruncationStrip) -> Iterator[Event]:
    ws = strip_ws(G, req)
    for (done, imgs), secs in _timed(image_units(G, ws, req.settings, req.thumb)):
        yield StripReady(req.target, req.stamp, tuple(req.psis), imgs, secs, done)


def _variation(G: Generator, req: RenderVariation) -> Iterator[Event]:
    batch = unit_images(G, VARIATION_BATCH)
    ws = latent_ws(G, req.latent, req.settings, req.mix_with, req.mix_layers)  # [1, num_ws, w_dim]
    for (count, image, std), secs in _timed(variation_units(G, ws, req.settings, req.draws, req.seed, batch)):
        yield VariationReady(req.target, req.stamp, image, std, secs, None if count == req.draws else count)
