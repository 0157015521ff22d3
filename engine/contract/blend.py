"""How two models are blended: the swap resolution, the transition width and the per-resolution curve.

Stdlib only, so the window plots the same curve the engine applies.

The curve. Each synthesis resolution r gets a mix weight t(r) = how much of the *other* model it takes
(0: the base's weights, 1: the other's). It is a logistic in log2(r), centred halfway between at/2 and at:

    t(r) = 1 / (1 + exp(-k · (log2 r − log2 at + ½) / width)),   k = 2·ln 9

so `width` is the number of resolution doublings over which t climbs from 0.1 to 0.9: at width 1,
at/2 takes 0.1 and at takes 0.9; at width 2, 0.25 and 0.75. Width 0 is the hard swap: resolutions below
`at` are the base's, `at` and above the other's. Centring between at/2 and at (not on at) makes width 0
the limit of the smooth curve and keeps "at 16" meaning "from 16² up" at every width. A weight within
SNAP of 0 or 1 is snapped to it, so layers far from the swap hold exactly one parent's weights.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .latents import SpecError

STEEPNESS = 2 * math.log(9)   # logistic(±ln 9) = 0.9 / 0.1: `width` doublings from 0.1 to 0.9
SNAP = 5e-3                   # weights this close to 0 or 1 become exactly 0 or 1
MAX_WIDTH = 8.0               # doublings; a 1024² model has 9 resolutions


@dataclass(frozen=True)
class BlendSpec:
    """Swap from the base to the other model at resolution `at` (a power of two), over `width` doublings."""

    at: int = 16
    width: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.at, int) or isinstance(self.at, bool) or self.at < 4 or self.at & (self.at - 1):
            raise SpecError(f"the swap resolution must be a power of two from 4 up, got {self.at}")
        if not 0 <= self.width <= MAX_WIDTH:  # NaN fails too
            raise SpecError(f"the transition width must be from 0 to {MAX_WIDTH:g} doublings, got {self.width}")

    def weight(self, res: float) -> float:
        """t(res): the share of the other model at synthesis resolution `res` (see the module docstring)."""
        x = math.log2(res) - math.log2(self.at) + 0.5
        if self.width == 0:
            return 1.0 if x > 0 else 0.0
        t = 1.0 / (1.0 + math.exp(-STEEPNESS * x / self.width))
        return 0.0 if t < SNAP else 1.0 if t > 1 - SNAP else t

    def weights(self, resolutions) -> dict[int, float]:
        """{resolution: t} for each resolution in `resolutions`."""
        return {int(r): self.weight(r) for r in resolutions}

    def describe(self) -> str:
        """One line for cards and status bars."""
        how = "hard swap" if self.width == 0 else f"transition over {self.width:g} doublings"
        return f"other model from {self.at}² up ({how})"
