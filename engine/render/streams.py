"""Render kinds: one renderer per request type, each a stream of RenderResult events.

A renderer is registered with @renders(RequestType); the engine looks it up by the request's type.
Streamed kinds do one bounded unit of work per step: the engine advances one unit per loop cycle
and serves single images in between, so a 1024² model on a CPU (seconds per image) keeps the viewer
responsive while a seed grid, a mixing grid, a ψ strip or a variation map fills in. Small models
finish in one unit. Unstreamed kinds (the viewer's image) run to the end at once and go first.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch

from ..contract.errors import UserError
from ..contract.messages import (FrameReady, GridChunk, InterpolationReady, LayerReady, MixGridReady, RenderResult,
                                 StripReady, VariationReady)
from ..contract.requests import (RenderBlend, RenderImage, RenderInterpolation, RenderLayer, RenderMixGrid,
                                 RenderRequest, RenderSeedGrid, RenderTruncationStrip, RenderVariation)
from ..nets.api import GeneratorNet
from .blend_render import render_blend
from .layers import check_layer, image_and_layer, layer_pictures, picture
from .renderer import (grid_chunks, interpolation_ws, latent_ws, mix_ws, render_thumbs, split_mix, strip_ws,
                       unit_images)
from .synth import prepare, resize, to_uint8, variation_units
from ..contract.latents import RenderSettings

VARIATION_BATCH = 16


@dataclass(frozen=True)
class Renderer:
    """How one request type renders: `fn(G, req)` yields its events; `streamed` ones advance a unit at a time."""

    fn: Callable[[GeneratorNet, RenderRequest], Iterator[RenderResult]]
    streamed: bool = True


RENDERERS: dict[type, Renderer] = {}


def renders(request_type: type, streamed: bool = True) -> Callable:
    """Register the decorated function as the renderer of `request_type`."""
    def register(fn: Callable) -> Callable:
        RENDERERS[request_type] = Renderer(fn, streamed)
        return fn
    return register


def renderer_for(req: RenderRequest) -> Renderer:
    """The renderer of a request's type (a UserError for an unknown kind)."""
    found = RENDERERS.get(type(req))
    if found is None:
        raise UserError(f"the engine cannot render {type(req).__name__}")
    return found


def stream(G: GeneratorNet, req: RenderRequest) -> Iterator[RenderResult]:
    """The events of a request, one unit of work per step."""
    return renderer_for(req).fn(G, req)


def _timed(units: Iterator) -> Iterator[tuple[object, float]]:
    """(item, seconds the step took) for each item of `units`."""
    while True:
        t0 = time.perf_counter()
        try:
            item = next(units)
        except StopIteration:
            return
        yield item, time.perf_counter() - t0


def image_units(G: GeneratorNet, ws: torch.Tensor, settings: RenderSettings,
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


@renders(RenderImage, streamed=False)
def _image(G: GeneratorNet, req: RenderImage) -> Iterator[RenderResult]:
    t0 = time.perf_counter()
    with torch.inference_mode():
        ws = latent_ws(G, req.latent, req.settings, req.mix_with, req.mix_layers)
        out, act = image_and_layer(G, ws, prepare(G, req.settings), req.with_layer)
        img = to_uint8(resize(out, req.size))[0]
    yield FrameReady(req.target, req.stamp, time.perf_counter() - t0, image=img, request=req)
    if act is not None:  # the Layers pane's view of this face, from the frame's own pass, after the frame is out
        t0 = time.perf_counter()
        with torch.inference_mode():
            pic = picture(act[0], req.with_layer)
        yield _layer_ready(G, req.with_layer, [pic], 0, 1, time.perf_counter() - t0)


def _layer_ready(G: GeneratorNet, req: RenderLayer, pics: list, start: int, total: int, secs: float) -> LayerReady:
    first = pics[0]
    return LayerReady(req.target, req.stamp, secs, images=np.stack([p.image for p in pics]), start=start,
                      total=total, layer=req.layer, mode=req.mode, channels=check_layer(G, req), order=first.order,
                      lo=min(p.lo for p in pics), hi=max(p.hi for p in pics), cols=first.cols, tile=first.tile)


@renders(RenderLayer)
def _layers(G: GeneratorNet, req: RenderLayer) -> Iterator[RenderResult]:
    n = unit_images(G, 8)  # a layer view costs at most one image's pass
    for start in range(0, len(req.latents) or 1, n):
        t0 = time.perf_counter()
        pics = layer_pictures(G, req, start, n)
        yield _layer_ready(G, req, pics, start, len(req.latents), time.perf_counter() - t0)


@renders(RenderSeedGrid)
def _seed_grid(G: GeneratorNet, req: RenderSeedGrid) -> Iterator[RenderResult]:
    for (start, imgs, low), secs in _timed(grid_chunks(G, req)):
        yield GridChunk(req.target, req.stamp, secs, start=start, images=imgs, total=len(req.seeds),
                        preview_res=low)


@renders(RenderMixGrid)
def _mix_grid(G: GeneratorNet, req: RenderMixGrid) -> Iterator[RenderResult]:
    ws = mix_ws(G, req.rows, req.cols, req.layers, req.settings)
    for (done, imgs), secs in _timed(image_units(G, ws, req.settings, req.thumb)):
        rows, cols, cells = split_mix(imgs, len(req.rows), len(req.cols))
        yield MixGridReady(req.target, req.stamp, secs, row_images=rows, col_images=cols, cells=cells, done=done)


@renders(RenderTruncationStrip)
def _strip(G: GeneratorNet, req: RenderTruncationStrip) -> Iterator[RenderResult]:
    ws = strip_ws(G, req)
    for (done, imgs), secs in _timed(image_units(G, ws, req.settings, req.thumb)):
        yield StripReady(req.target, req.stamp, secs, psis=tuple(req.psis), images=imgs, done=done)


@renders(RenderInterpolation)
def _interpolation(G: GeneratorNet, req: RenderInterpolation) -> Iterator[RenderResult]:
    ws = interpolation_ws(G, req)
    for (done, imgs), secs in _timed(image_units(G, ws, req.settings, req.thumb)):
        yield InterpolationReady(req.target, req.stamp, secs, images=imgs, done=done)


@renders(RenderVariation)
def _variation(G: GeneratorNet, req: RenderVariation) -> Iterator[RenderResult]:
    batch = unit_images(G, VARIATION_BATCH)
    ws = latent_ws(G, req.latent, req.settings, req.mix_with, req.mix_layers)  # [1, num_ws, w_dim]
    image = None  # the first draw, shown beside the map
    for (count, imgs, std), secs in _timed(variation_units(G, ws, req.settings, req.draws, req.seed, batch)):
        image = image if image is not None else to_uint8(torch.from_numpy(imgs[:1]).permute(0, 3, 1, 2))[0]
        yield VariationReady(req.target, req.stamp, secs, image=image, std_map=std,
                             done=None if count == req.draws else count)


renders(RenderBlend)(render_blend)  # a model blended with a second one, beside both (blend_render.py)
