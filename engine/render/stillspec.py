"""What a still export renders: one frozen spec per kind (stdlib + numpy only, so the Qt app can build one).

engine/render/exports.py turns a spec into (image, provenance); engine/files/provenance.py writes a spec into a
PNG's record and reads it back, so every still the window or the CLI saves can be regenerated.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

from .specs import DEFAULT_PSI, Latent, RenderSettings, SpecError, check_amounts

FIGURES = ("uncurated", "mixing", "noise", "truncation")
PAPER_PSIS = (1.0, 0.7, 0.5, 0.0, -0.5, -1.0)


@dataclass(frozen=True)
class StillSpec:
    """Base of still exports; `kind` names the spec in a PNG's provenance."""

    kind: ClassVar[str] = ""


@dataclass(frozen=True)
class FaceSpec(StillSpec):
    """Base of stills of one face: `latent`, optionally with `layers` taken from `mix_with`."""

    latent: Latent = None
    settings: RenderSettings = field(default_factory=RenderSettings)
    mix_with: Latent | None = None
    layers: tuple[int, ...] = ()


@dataclass(frozen=True)
class ImageSpec(FaceSpec):
    """One image, `size` px (None = native)."""

    kind: ClassVar[str] = "image"
    size: int | None = None


@dataclass(frozen=True)
class GridSpec(StillSpec):
    """Seeds in a grid of `cols` columns (0: about square)."""

    kind: ClassVar[str] = "grid"
    seeds: tuple[int, ...] = ()
    settings: RenderSettings = field(default_factory=RenderSettings)
    cols: int = 0


@dataclass(frozen=True)
class MixGridSpec(StillSpec):
    """A style-mixing grid: sources on top and left, cell (r, c) = rows[r] with `layers` from cols[c]."""

    kind: ClassVar[str] = "mix"
    rows: tuple[Latent, ...] = ()
    cols: tuple[Latent, ...] = ()
    layers: tuple[int, ...] = ()
    settings: RenderSettings = field(default_factory=RenderSettings)


@dataclass(frozen=True)
class FigureSpec(StillSpec):
    """One of the paper's figures (`name` in FIGURES); empty `seeds` use the figure's own."""

    kind: ClassVar[str] = "figure"
    name: str = "uncurated"
    seeds: tuple[int, ...] = ()
    psi: float = DEFAULT_PSI

    def __post_init__(self) -> None:
        if self.name not in FIGURES:
            raise SpecError(f"figure must be one of {', '.join(FIGURES)}, got {self.name!r}")


@dataclass(frozen=True)
class NoiseMapSpec(FaceSpec):
    """Per-pixel standard deviation over `draws` noise draws of one face, as grey."""

    kind: ClassVar[str] = "noise-map"
    draws: int = 32
    seed: int = 0


@dataclass(frozen=True)
class StripSpec(StillSpec):
    """One latent at each ψ of `psis`, side by side."""

    kind: ClassVar[str] = "truncation-strip"
    latent: Latent = None
    settings: RenderSettings = field(default_factory=RenderSettings)
    psis: tuple[float, ...] = PAPER_PSIS


@dataclass(frozen=True)
class EditGridSpec(StillSpec):
    """Faces (rows) moved along one direction in W by each of `amounts` σ (columns) on `layers`.

    The direction itself (a unit vector) is part of the spec, so the PNG regenerates without its file.
    """

    kind: ClassVar[str] = "edit"
    latents: tuple[Latent, ...] = ()
    direction: tuple[float, ...] = ()
    sigma: float = 1.0
    amounts: tuple[float, ...] = (-3.0, 0.0, 3.0)
    layers: tuple[int, ...] = ()
    name: str = ""
    settings: RenderSettings = field(default_factory=RenderSettings)

    def __post_init__(self) -> None:
        if not self.latents or not self.amounts:
            raise SpecError("an edit grid needs at least one face and one amount")
        if not self.direction or not self.layers:
            raise SpecError("an edit grid needs a direction and at least one layer")
        if not all(math.isfinite(float(x)) for x in (*self.direction, *self.amounts, self.sigma)):
            raise SpecError("direction, σ and amounts must be finite numbers")
        check_amounts(self.amounts)


SPECS = {cls.kind: cls for cls in (ImageSpec, GridSpec, MixGridSpec, FigureSpec, NoiseMapSpec, StripSpec, EditGridSpec)}
