"""Still exports for the window and the CLI alike: (G, request) → (image, provenance).

A still is a render request (engine/contract/requests.py) written to a path: one still renderer per request
kind, registered with @exporter, validating through the same functions as the live renderer
(engine/render/streams.py). Every still renders through synth.render_still (padded batches), so the window's
Save Image, `generate` and `generate --from-png` give the same pixels for the same request.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import torch

from . import figures
from ..contract.errors import UserError
from .layers import layer_pictures
from .synth import latents_ws, render_still, variation_units
from ..nets.api import GeneratorNet
from ..contract.facefiles import face_file_names
from ..files.fileio import make_dir
from ..files.pngio import grey_image, make_grid, mixing_figure, save_png
from ..files.provenance import record
from .renderer import check_request, interpolation_ws, latent_ws, mix_ws, split_mix, strip_ws
from ..contract.latents import Edit, Latent
from ..contract.requests import (RenderEditGrid, RenderFigure, RenderImage, RenderInterpolation, RenderLayer, RenderMixGrid,
                                 RenderRequest, RenderSeedGrid, RenderTruncationStrip, RenderVariation)

EXPORTERS: dict[type, Callable[[GeneratorNet, RenderRequest], np.ndarray]] = {}


def exporter(request_type: type) -> Callable:
    """Register the function that renders `request_type` as one still."""
    def register(fn: Callable) -> Callable:
        EXPORTERS[request_type] = fn
        return fn
    return register


def export(G: GeneratorNet, req: RenderRequest, model: dict) -> tuple[np.ndarray, dict]:
    """(image [H, W, 3] uint8, provenance record) of a still; `model` from provenance.model_record."""
    fn = EXPORTERS.get(type(req))
    if fn is None:
        raise UserError(f"cannot export {type(req).__name__}")
    return fn(G, req), record(req, model)


def save(path: str | Path, G: GeneratorNet, req: RenderRequest, model: dict) -> np.ndarray:
    """Render a still and write it as a PNG with its provenance (atomically); returns the image."""
    img, rec = export(G, req, model)
    save_png(path, img, rec)
    return img


def save_image(path: str | Path, img: np.ndarray, req: RenderRequest, model: dict) -> None:
    """Write an already rendered still (e.g. one of `images`) with its provenance."""
    save_png(path, img, record(req, model))


def images(G: GeneratorNet, reqs: Sequence[RenderImage]) -> np.ndarray:
    """Several RenderImages sharing settings and size (the CLI's seeds) → [N, H, W, 3], as one by one."""
    first = reqs[0]
    if any(r.settings != first.settings or r.size != first.size for r in reqs):
        raise UserError("images exported together need the same settings and size")
    ws = torch.cat([latent_ws(G, r.latent, r.settings, r.mix_with, r.mix_layers) for r in reqs])
    return render_still(G, ws, first.settings, first.size)


def write_faces(G: GeneratorNet, reqs: Sequence[RenderImage], folder: str | Path, model: dict,
                labels: Sequence[str] = (), batch: int = 8) -> Iterator[tuple[int, int]]:
    """One PNG with provenance per request into `folder`, named by contract/facefiles.py (from `labels` where
    the faces have them), a batch at a time: yields (written, total) after each batch, so that a job can report
    and be cancelled between them."""
    if not reqs:
        raise UserError("no faces to export")
    for r in reqs:   # a face this model cannot render (another model's w) is one line before anything is written
        check_request(G, r.latent, r.mix_layers, r.settings)
    make_dir(folder)
    names = face_file_names([r.latent for r in reqs], labels)
    for i in range(0, len(reqs), batch):
        chunk = reqs[i:i + batch]
        for name, req, img in zip(names[i:i + batch], chunk, images(G, chunk)):
            save_image(Path(folder) / name, img, req, model)
        yield min(i + batch, len(reqs)), len(reqs)


@exporter(RenderImage)
def image(G: GeneratorNet, req: RenderImage) -> np.ndarray:
    """One image, mixed when the request says so."""
    return images(G, [req])[0]


@exporter(RenderSeedGrid)
def grid(G: GeneratorNet, req: RenderSeedGrid) -> np.ndarray:
    """Seeds in a grid, each cell the image `generate` writes for that seed (at `thumb` px; None = native)."""
    if not req.seeds:
        raise UserError("a grid needs at least one seed")
    imgs = images(G, [RenderImage(latent=lat, settings=req.settings, size=req.thumb) for lat in req.latents()])
    return make_grid(imgs, req.cols or math.ceil(math.sqrt(len(req.seeds))))


@exporter(RenderMixGrid)
def mixing_grid(G: GeneratorNet, req: RenderMixGrid) -> np.ndarray:
    """Sources along the top and left, mixed cells inside."""
    if not req.rows or not req.cols:
        raise UserError("a mixing grid needs at least one row and one column")
    imgs = render_still(G, mix_ws(G, req.rows, req.cols, req.layers, req.settings), req.settings, req.thumb)
    return mixing_figure(*split_mix(imgs, len(req.rows), len(req.cols)))


@exporter(RenderFigure)
def figure(G: GeneratorNet, req: RenderFigure) -> np.ndarray:
    """One of the paper's figures."""
    return figures.render(G, req)


@exporter(RenderVariation)
def noise_map(G: GeneratorNet, req: RenderVariation) -> np.ndarray:
    """The per-pixel std over noise draws, grey, normalised to its maximum (as the Noise pane shows it)."""
    ws = latent_ws(G, req.latent, req.settings, req.mix_with, req.mix_layers)
    for _, _, std in variation_units(G, ws, req.settings, req.draws, req.seed):
        pass
    return grey_image(std)


@exporter(RenderTruncationStrip)
def strip(G: GeneratorNet, req: RenderTruncationStrip) -> np.ndarray:
    """One latent at each ψ, side by side."""
    return make_grid(render_still(G, strip_ws(G, req), req.settings, req.thumb), len(req.psis), pad=2)


@exporter(RenderLayer)
def layer_views(G: GeneratorNet, req: RenderLayer) -> np.ndarray:
    """Each face's view of one layer, side by side (2 px apart)."""
    pics = layer_pictures(G, req)
    return make_grid(np.stack([p.image for p in pics]), len(pics), pad=2)


@exporter(RenderInterpolation)
def interpolation(G: GeneratorNet, req: RenderInterpolation) -> np.ndarray:
    """The faces between two faces in W, side by side."""
    return make_grid(render_still(G, interpolation_ws(G, req), req.settings, req.thumb), req.steps, pad=2)


def edit_latents(req: RenderEditGrid) -> list[Latent]:
    """The cells of an edit grid, row by row: each latent moved by amount·σ·direction on the request's layers."""
    d = np.asarray(req.direction, np.float32)
    return [dataclasses.replace(lat, edit=Edit(tuple((np.float32(a * req.sigma) * d).tolist()), req.layers,
                                               f"{req.name} {a:+g}σ"))
            for lat in req.latents for a in req.amounts]


@exporter(RenderEditGrid)
def edit_grid(G: GeneratorNet, req: RenderEditGrid) -> np.ndarray:
    """One row per face, one column per amount along a direction (0 = the face itself)."""
    cells = edit_latents(req)
    for lat in cells:
        check_request(G, lat, (), req.settings)
    return make_grid(render_still(G, latents_ws(G, cells, req.settings), req.settings), len(req.amounts))
