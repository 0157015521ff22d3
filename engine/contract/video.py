"""What a video export renders (stdlib + numpy only, so the Qt app can build one)."""
from __future__ import annotations

from dataclasses import dataclass

from .latents import DEFAULT_PSI, RenderSettings, SpecError, check_amounts, check_class

KINDS = ("walk", "truncation", "noise", "morph", "grid", "direction")
FORMATS = (".mp4", ".webm", ".gif", ".webp")
EASINGS = ("linear", "smooth")
FILTERS = ("nearest", "bilinear", "lanczos")


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
    c: int | None = None                  # the class every seed is mapped with (class-conditional models)
    translate: tuple[float, float] = (0.0, 0.0)  # the input transform of a model that has one (StyleGAN3)
    rotate: float = 0.0

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
        RenderSettings(translate=self.translate, rotate=self.rotate)  # the same checks as a still's transform
        if self.kind == "direction" and not self.direction:
            raise SpecError("a direction video needs a direction (compute or open one in Directions)")
        if self.kind == "direction":
            check_amounts(self.amount_range)


def check_format(path: str) -> str:
    """The container suffix of an output path, or a SpecError."""
    suffix = "." + path.rsplit(".", 1)[-1].lower() if "." in path else ""
    if suffix not in FORMATS:
        raise SpecError(f"video file must end in {', '.join(FORMATS)}")
    return suffix
