"""What a projection asks for (stdlib only, so the Qt app and the CLI build the same options)."""
from __future__ import annotations

from dataclasses import dataclass

from .latents import SpecError, check_class

SPACES = ("w", "w+")            # one w for every layer, or one w per layer
DEFAULT_SPACE = "w+"            # measured 3.1 dB closer than w on held-out faces (docs/projection.md)
DISTANCES = ("pixel", "pixel-multiscale", "pixel-inception")  # see docs/projection.md for the measurement
DEFAULT_DISTANCE = "pixel"  # measured best by PSNR and SSIM (docs/projection.md)
DEFAULT_STEPS = 300


@dataclass(frozen=True)
class ProjectionOptions:
    """How to project: latent `space`, `steps`, whether to optimise the noise maps too, the distance, lr, seed."""

    space: str = DEFAULT_SPACE
    steps: int = DEFAULT_STEPS
    noise: bool = False
    distance: str = DEFAULT_DISTANCE
    lr: float = 0.1
    seed: int = 0           # the annealed latent noise and the starting noise maps
    c: int | None = None    # a class-conditional model's class: the start (its w_avg) and w statistics use it

    def __post_init__(self) -> None:
        check_class(self.c)
        if self.space not in SPACES:
            raise SpecError(f"space must be one of {', '.join(SPACES)}, got {self.space!r}")
        if not 1 <= self.steps <= 100_000:
            raise SpecError(f"steps must be 1 to 100000, got {self.steps}")
        if self.distance not in DISTANCES:
            raise SpecError(f"distance must be one of {', '.join(DISTANCES)}, got {self.distance!r}")
        if not 0 < self.lr <= 10:
            raise SpecError(f"learning rate must be above 0 and at most 10, got {self.lr}")
