"""Still exports for the window and the CLI alike: (G, spec) → (image, provenance).

One exporter per spec type (engine/render/stillspec.py), registered with @exporter. Every still renders
through explore.render_still (padded batches), so the window's Save Image, `generate` and
`generate --from-png` give the same pixels for the same spec.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from . import figures
from ..errors import UserError
from .synth import latents_ws, render_still, variation_units
from ..nets.api import GeneratorNet
from ..files.pngio import grey_image, make_grid, mixing_figure, save_png
from ..files.provenance import record
from .renderer import check_request, edited_sweep, latent_ws, mix_ws, split_mix
from .specs import Edit, Latent
from .stillspec import (EditGridSpec, FigureSpec, GridSpec, ImageSpec, MixGridSpec, NoiseMapSpec, StillSpec,
                        StripSpec)

EXPORTERS: dict[type, Callable[[GeneratorNet, StillSpec], np.ndarray]] = {}


def exporter(spec_type: type) -> Callable:
    """Register the function that renders `spec_type`."""
    def register(fn: Callable) -> Callable:
        EXPORTERS[spec_type] = fn
        return fn
    return register


def export(G: GeneratorNet, spec: StillSpec, model: dict) -> tuple[np.ndarray, dict]:
    """(image [H, W, 3] uint8, provenance record) of a still; `model` from provenance.model_record."""
    fn = EXPORTERS.get(type(spec))
    if fn is None:
        raise UserError(f"cannot export {type(spec).__name__}")
    return fn(G, spec), record(spec, model)


def save(path: str | Path, G: GeneratorNet, spec: StillSpec, model: dict) -> np.ndarray:
    """Render a still and write it as a PNG with its provenance (atomically); returns the image."""
    img, rec = export(G, spec, model)
    save_png(path, img, rec)
    return img


def save_image(path: str | Path, img: np.ndarray, spec: StillSpec, model: dict) -> None:
    """Write an already rendered still (e.g. one of `images`) with its provenance."""
    save_png(path, img, record(spec, model))


def images(G: GeneratorNet, specs: Sequence[ImageSpec]) -> np.ndarray:
    """Several ImageSpecs sharing settings and size (the CLI's seeds) → [N, H, W, 3], as one by one."""
    first = specs[0]
    if any(s.settings != first.settings or s.size != first.size for s in specs):
        raise UserError("images exported together need the same settings and size")
    ws = torch.cat([latent_ws(G, s.latent, s.settings, s.mix_with, s.layers) for s in specs])
    return render_still(G, ws, first.settings, first.size)


@exporter(ImageSpec)
def image(G: GeneratorNet, spec: ImageSpec) -> np.ndarray:
    """One image, mixed when the spec says so."""
    return images(G, [spec])[0]


@exporter(GridSpec)
def grid(G: GeneratorNet, spec: GridSpec) -> np.ndarray:
    """Seeds in a grid, each cell the image `generate` writes for that seed."""
    if not spec.seeds:
        raise UserError("a grid needs at least one seed")
    imgs = images(G, [ImageSpec(Latent(seed=s), spec.settings) for s in spec.seeds])
    return make_grid(imgs, spec.cols or math.ceil(math.sqrt(len(spec.seeds))))


@exporter(MixGridSpec)
def mixing_grid(G: GeneratorNet, spec: MixGridSpec) -> np.ndarray:
    """Sources along the top and left, mixed cells inside."""
    if not spec.rows or not spec.cols:
        raise UserError("a mixing grid needs at least one row and one column")
    imgs = render_still(G, mix_ws(G, spec.rows, spec.cols, spec.layers, spec.settings), spec.settings)
    return mixing_figure(*split_mix(imgs, len(spec.rows), len(spec.cols)))


@exporter(FigureSpec)
def figure(G: GeneratorNet, spec: FigureSpec) -> np.ndarray:
    """One of the paper's figures."""
    return figures.render(G, spec)


@exporter(NoiseMapSpec)
def noise_map(G: GeneratorNet, spec: NoiseMapSpec) -> np.ndarray:
    """The per-pixel std over noise draws, grey, normalised to its maximum (as the Noise pane shows it)."""
    ws = latent_ws(G, spec.latent, spec.settings, spec.mix_with, spec.layers)
    for _, _, std in variation_units(G, ws, spec.settings, spec.draws, spec.seed):
        pass
    return grey_image(std)


@exporter(StripSpec)
def strip(G: GeneratorNet, spec: StripSpec) -> np.ndarray:
    """One latent at each ψ, side by side."""
    if not spec.psis:
        raise UserError("a truncation strip needs at least one ψ value")
    check_request(G, spec.latent, (), spec.settings)
    ws = edited_sweep(G, spec.latent, spec.psis, spec.settings.cutoff)  # [K, num_ws, w_dim]
    return make_grid(render_still(G, ws, spec.settings), len(spec.psis), pad=2)


def edit_latents(spec: EditGridSpec) -> list[Latent]:
    """The cells of an edit grid, row by row: each latent moved by amount·σ·direction on the spec's layers."""
    d = np.asarray(spec.direction, np.float32)
    return [Latent(lat.seed, lat.w, Edit(tuple((np.float32(a * spec.sigma) * d).tolist()), spec.layers,
                                         f"{spec.name} {a:+g}σ"))
            for lat in spec.latents for a in spec.amounts]


@exporter(EditGridSpec)
def edit_grid(G: GeneratorNet, spec: EditGridSpec) -> np.ndarray:
    """One row per face, one column per amount along a direction (0 = the face itself)."""
    cells = edit_latents(spec)
    for lat in cells:
        check_request(G, lat, (), spec.settings)
    return make_grid(render_still(G, latents_ws(G, cells, spec.settings), spec.settings), len(spec.amounts))
