"""What a video export renders (stdlib + numpy only, so the Qt app can build one)."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np

from .latents import (DEFAULT_PSI, TRAVEL_SPACES, Latent, NoiseSpec, RenderSettings, SpecError, check_amounts,
                      check_class, latent_to_json)

MAX_PATH_POINTS = 100_000

KINDS = ("walk", "truncation", "noise", "morph", "grid", "direction")
FORMATS = (".mp4", ".webm", ".gif", ".webp")
EASINGS = ("linear", "smooth")
FILTERS = ("nearest", "bilinear", "lanczos")
# The VideoSpec fields only some kinds read (all read seeds, frames_per_step, fps, size, ψ): the export dialog
# greys the others out. tests/render/test_video.py renders each kind with each field changed to hold it true.
READ_BY = {"space": ("walk", "morph", "grid"), "layers": ("morph", "direction"),
           "loop": ("walk", "noise", "grid", "direction"), "path": ("walk",), "latents": ("walk",),
           "noise": ("walk", "truncation", "morph", "grid", "direction")}   # a noise video animates its own


def reads(kind: str, field: str) -> bool:
    """Whether a video of `kind` uses the spec's `field` (fields every kind reads: True)."""
    return kind in READ_BY.get(field, KINDS)


@dataclass(frozen=True)
class VideoSpec:
    """A latent walk, ψ sweep, noise animation, layer morph, grid of walks or sweep along a direction."""

    kind: str = "walk"
    seeds: tuple[int, ...] = (0, 1, 2)
    space: str = "w"                      # walk/grid: lerp in W or slerp in Z
    frames_per_step: int = 30
    fps: int = 30
    size: int | None = None               # output side in px (None: the model's resolution)
    psi: float = DEFAULT_PSI
    cutoff: int | None = None
    layers: tuple[int, ...] = ()          # morph: layers interpolated from A to B; direction: layers moved (empty: all)
    noise_res: tuple[int, ...] = ()       # noise: resolutions redrawn over time (empty: all)
    psi_range: tuple[float, float] = (-1.0, 1.5)
    loop: bool = True
    easing: str = "smooth"
    quality: int = 80                     # 0–100
    filter: str = "lanczos"               # upscaling filter
    grid_cols: int = 0                    # grid: columns (0: about square)
    direction: tuple[float, ...] = ()     # direction: a unit vector in W (from a directions file)
    sigma: float = 1.0                    # direction: the slider unit σ of that direction
    amount_range: tuple[float, float] = (-3.0, 3.0)  # direction: swept in σ, there and back when looping
    direction_name: str = ""
    path: tuple[tuple[float, float], ...] = ()  # walk: a travelled path in seed space (fractional seeds) instead
                                                # of the seeds; frames_per_step frames per seed travelled
    c: int | None = None                  # the class every seed is mapped with (class-conditional models)
    latents: tuple[Latent, ...] = ()      # walk: these faces instead of the seeds (favourites: seeds, w, W+, edited),
                                          # their truncated ws lerped; the space is W
    translate: tuple[float, float] = (0.0, 0.0)  # the input transform of a model that has one (StyleGAN3)
    rotate: float = 0.0
    noise: NoiseSpec = field(default_factory=NoiseSpec)   # the noise every frame is rendered with (the viewer's)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise SpecError(f"video kind must be one of {', '.join(KINDS)}")
        if not self.seeds:
            raise SpecError("a video needs at least one seed")
        if self.kind in ("walk", "morph", "grid") and len(self.seeds) < 2:
            raise SpecError(f"a {self.kind} video needs at least two seeds")
        if self.space not in ("w", "z"):
            raise SpecError("space must be w or z")
        if not 1 <= self.frames_per_step <= 10000 or not 1 <= self.fps <= 240:
            raise SpecError("frames per step must be 1-10000 and fps 1-240")
        if self.size is not None and not 8 <= self.size <= 4096:
            raise SpecError("size must be from 8 to 4096 px")
        if self.easing not in EASINGS or self.filter not in FILTERS:
            raise SpecError(f"easing must be {'/'.join(EASINGS)}; filter {'/'.join(FILTERS)}")
        if not 0 <= self.quality <= 100:
            raise SpecError("quality must be 0-100")
        check_class(self.c)
        RenderSettings(psi=self.psi, translate=self.translate, rotate=self.rotate)  # a still's checks of ψ and transform
        if self.path and (self.kind != "walk" or len(self.path) < 2 or len(self.path) > MAX_PATH_POINTS or
                          not all(len(p) == 2 and all(math.isfinite(v) and v >= 0 for v in p) for p in self.path)):
            raise SpecError("a travelled path is a walk through 2 or more points of seed space (numbers from 0)")
        if self.latents and (self.kind != "walk" or self.path or len(self.latents) < 2 or
                             not all(isinstance(lat, Latent) for lat in self.latents)):
            raise SpecError("a walk through faces needs two or more of them (and no travelled path)")
        if self.kind == "direction" and not self.direction:
            raise SpecError("a direction video needs a direction (compute or open one in Directions)")
        if self.kind == "direction":
            check_amounts(self.amount_range)


def describe_spec(spec: VideoSpec) -> dict:
    """The spec as JSON-ready data (a video file's comment records it)."""
    return {k: [latent_to_json(lat) for lat in v] if k == "latents" else v.describe() if k == "noise" else v
            for k, v in spec.__dict__.items()}


def check_format(path: str) -> str:
    """The container suffix of an output path, or a SpecError."""
    suffix = "." + path.rsplit(".", 1)[-1].lower() if "." in path else ""
    if suffix not in FORMATS:
        raise SpecError(f"video file must end in {', '.join(FORMATS)}")
    return suffix


def path_frames(path, frames_per_seed: int) -> np.ndarray:
    """Points [F, 2] evenly spaced along a travelled path (by length in seed space), both ends included:
    about `frames_per_seed` frames per seed travelled, at least 2."""
    pts = np.asarray(path, np.float64)
    seg = np.hypot(*np.diff(pts, axis=0).T)
    along = np.concatenate([[0.0], np.cumsum(seg)])
    n = max(2, int(round(along[-1] * frames_per_seed)) + 1)
    at = np.linspace(0.0, along[-1], n)
    return np.stack([np.interp(at, along, pts[:, 0]), np.interp(at, along, pts[:, 1])], axis=1)


def encode_path(points, space: str) -> bytes:
    """A travelled path file: JSON with the points (x, y) in seed space and how they blend ('z' or 'w')."""
    return json.dumps({"app": "stylegan-studio", "travelled_path": [list(map(float, p)) for p in points],
                       "space": space}).encode()


def decode_path(data: bytes) -> tuple[tuple[tuple[float, float], ...], str]:
    """(points, space) of a travelled path file; SpecError with one line for anything else."""
    try:
        doc = json.loads(data.decode())
        points = tuple((float(x), float(y)) for x, y in doc["travelled_path"])
        space = str(doc.get("space", "z"))
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        raise SpecError("not a travelled path file (save one with Seed → Save Travelled Path…)") from None
    if space not in TRAVEL_SPACES or len(points) < 2 or len(points) > MAX_PATH_POINTS:
        raise SpecError("a travelled path file needs 2 or more points and space z or w")
    return points, space
