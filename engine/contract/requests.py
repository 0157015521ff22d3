"""What to render: one frozen request per render kind, for the window's panes and for still exports alike.

The window posts a request for a live view (`target` names its slot, `stamp` orders requests); a still
export is the same request written to a path (messages.ExportStill(path, request)), and the CLI builds the
same objects. engine/render/ has one renderer per kind (a stream of events for the window, one image for a
still); engine/files/provenance.py records the request in a PNG and reads it back, so every saved still
regenerates. `kind` names a request in provenance. stdlib + numpy only.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

from .blend import BlendSpec
from .latents import DEFAULT_PSI, PAPER_PSIS, Latent, RenderSettings, SpecError, check_amounts, check_class

FIGURES = ("uncurated", "mixing", "noise", "truncation")


@dataclass(frozen=True)
class RenderRequest:
    """Base of all render requests: `target` names the window's slot, `stamp` orders requests (both unused by stills)."""

    kind: ClassVar[str] = ""
    target: str = ""
    stamp: int = 0


LAYER_MODES = ("grid", "channel", "rgb")  # every channel sorted by energy; one enlarged; three as red, green, blue
LAYER_GRID_GAP = 1  # px between the tiles of a layer's channel grid


@dataclass(frozen=True)
class RenderLayer(RenderRequest):
    """What one synthesis layer computes for each of `latents`: its output normalised per channel, shown as
    a grid of every channel sorted by energy (`cols` columns, 0: about square), one channel (`channels[0]`)
    enlarged to `size` px, or three channels as RGB (`size` px; None: the layer's own size).

    Attached to a RenderImage (its `with_layer`, `latents` empty) it shows the viewer's face from the
    frame's own synthesis pass.
    """

    kind: ClassVar[str] = "layers"
    latents: tuple[Latent, ...] = ()
    settings: RenderSettings = field(default_factory=RenderSettings)
    mix_with: Latent | None = None        # each face with `mix_layers` from this one, as RenderImage
    mix_layers: tuple[int, ...] = ()
    layer: str = ""
    mode: str = "grid"
    channels: tuple[int, ...] = ()
    size: int | None = None
    cols: int = 0

    def __post_init__(self) -> None:
        if self.mode not in LAYER_MODES:
            raise SpecError(f"a layer view is one of {', '.join(LAYER_MODES)}, not {self.mode!r}")
        need = {"grid": 0, "channel": 1, "rgb": 3}[self.mode]
        if len(self.channels) != need or any(c < 0 for c in self.channels):
            raise SpecError(f"a {self.mode} view of a layer takes {need} channel numbers, got {len(self.channels)}")
        if not self.layer:
            raise SpecError("a layer view needs a layer name such as 16x16/conv1")


@dataclass(frozen=True)
class RenderImage(RenderRequest):
    """One image: `latent`, optionally with `mix_layers` taken from `mix_with`; `size` px (None = native).

    with_layer (live only, never recorded): also that layer view of this face, from the same synthesis pass.
    """

    kind: ClassVar[str] = "image"
    latent: Latent = None
    settings: RenderSettings = field(default_factory=RenderSettings)
    mix_with: Latent | None = None
    mix_layers: tuple[int, ...] = ()
    size: int | None = None
    with_layer: RenderLayer | None = None


@dataclass(frozen=True)
class RenderSeedGrid(RenderRequest):
    """Images of `seeds`, `thumb` px (None = native): streamed to the window in chunks of `chunk`; a still
    lays them out in `cols` columns (0: about square). `c`: the class of every seed (class-conditional models)."""

    kind: ClassVar[str] = "grid"
    seeds: tuple[int, ...] = ()
    settings: RenderSettings = field(default_factory=RenderSettings)
    thumb: int | None = 64
    chunk: int = 8
    cols: int = 0
    c: int | None = None

    def __post_init__(self) -> None:
        check_class(self.c)

    def latents(self) -> tuple[Latent, ...]:
        """The grid's seeds as latents (with its class)."""
        return tuple(Latent(seed=s, c=self.c) for s in self.seeds)


@dataclass(frozen=True)
class RenderMixGrid(RenderRequest):
    """A style-mixing grid: sources on top and left, cell (r, c) = rows[r] with `layers` from cols[c]."""

    kind: ClassVar[str] = "mix"
    rows: tuple[Latent, ...] = ()
    cols: tuple[Latent, ...] = ()
    layers: tuple[int, ...] = ()
    settings: RenderSettings = field(default_factory=RenderSettings)
    thumb: int | None = 96


@dataclass(frozen=True)
class RenderVariation(RenderRequest):
    """Per-pixel std over `draws` noise realisations of one latent (resolutions set to zero stay off)."""

    kind: ClassVar[str] = "noise-map"
    latent: Latent = None
    settings: RenderSettings = field(default_factory=RenderSettings)
    mix_with: Latent | None = None
    mix_layers: tuple[int, ...] = ()
    draws: int = 32
    seed: int = 0


@dataclass(frozen=True)
class RenderTruncationStrip(RenderRequest):
    """One latent (with `mix_layers` from `mix_with`: the viewer's face as shown) at each ψ in `psis` (other
    settings from `settings`), side by side."""

    kind: ClassVar[str] = "truncation-strip"
    latent: Latent = None
    settings: RenderSettings = field(default_factory=RenderSettings)
    psis: tuple[float, ...] = PAPER_PSIS
    thumb: int | None = 64
    mix_with: Latent | None = None
    mix_layers: tuple[int, ...] = ()


@dataclass(frozen=True)
class RenderInterpolation(RenderRequest):
    """`steps` faces on the straight line in W from `start` (with `mix_layers` from `mix_with`: the viewer's face
    as shown) to `end` (both ends included), side by side."""

    kind: ClassVar[str] = "interpolation"
    start: Latent = None
    end: Latent = None
    steps: int = 7
    settings: RenderSettings = field(default_factory=RenderSettings)
    thumb: int | None = 64
    mix_with: Latent | None = None
    mix_layers: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.steps, int) or isinstance(self.steps, bool) or not 2 <= self.steps <= 64:
            raise SpecError(f"an interpolation strip needs 2 to 64 steps, got {self.steps!r}")


@dataclass(frozen=True)
class RenderFigure(RenderRequest):
    """One of the paper's figures (`name` in FIGURES); empty `seeds` use the figure's own; `c`: their class."""

    kind: ClassVar[str] = "figure"
    name: str = "uncurated"
    seeds: tuple[int, ...] = ()
    psi: float = DEFAULT_PSI
    c: int | None = None

    def __post_init__(self) -> None:
        check_class(self.c)
        if self.name not in FIGURES:
            raise SpecError(f"figure must be one of {', '.join(FIGURES)}, got {self.name!r}")


@dataclass(frozen=True)
class RenderEditGrid(RenderRequest):
    """Faces (rows) moved along one direction in W by each of `amounts` σ (columns) on `layers`.

    The direction itself (a unit vector) is part of the request, so the PNG regenerates without its file.
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


@dataclass(frozen=True)
class RenderBlend(RenderRequest):
    """`seeds` rendered by the model (the base), by its blend with the model file `other`, and by `other`.

    Live only (the Blend dialog's rows): a blend is kept by saving it as a model file (SaveBlend), so it has no
    still export and no provenance kind.
    """

    other: str = ""
    spec: BlendSpec = field(default_factory=BlendSpec)
    seeds: tuple[int, ...] = ()
    settings: RenderSettings = field(default_factory=RenderSettings)
    thumb: int = 96
    c: int | None = None


# Every request kind by its provenance name.
REQUESTS = {cls.kind: cls for cls in (RenderImage, RenderSeedGrid, RenderMixGrid, RenderVariation, RenderTruncationStrip,
                                      RenderInterpolation, RenderFigure, RenderEditGrid, RenderLayer)}
