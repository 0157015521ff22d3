"""Typed, frozen model configuration that travels inside every model file."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from .configcheck import json_fields
from .errors import StudioError
from .latents import num_ws_for


# The architectures' names for people (the window's status bar, `info`, the trainer's notes), by registry key.
ARCH_NAMES = {"stylegan1": "StyleGAN", "stylegan2": "StyleGAN2", "stylegan3": "StyleGAN3"}


class ConfigError(StudioError, ValueError):
    """A configuration that cannot describe a StyleGAN v1 model."""


# Upper bounds far above any StyleGAN v1 (the official 1024² model: 512, 8 layers, fmap_base 8192), so a
# damaged or hostile model file cannot make the studio allocate terabytes before its weights are compared.
LIMITS = {"z_dim": 4096, "w_dim": 4096, "mapping_layers": 64, "mapping_fmaps": 4096, "fmap_base": 1 << 20,
          "fmap_max": 4096, "img_channels": 4, "mbstd_group": 1024}


@dataclass(frozen=True)
class ModelConfig:
    """Hyperparameters of one StyleGAN v1 generator/discriminator pair."""

    resolution: int = 64
    z_dim: int = 512
    w_dim: int = 512
    mapping_layers: int = 8
    mapping_fmaps: int = 512
    mapping_lr_mul: float = 0.01
    fmap_base: int = 8192
    fmap_max: int = 512
    img_channels: int = 3
    mbstd_group: int = 4
    w_avg_beta: float = 0.995

    def __post_init__(self) -> None:
        res = self.resolution
        if res < 8 or res > 1024 or res & (res - 1):
            raise ConfigError(f"resolution must be a power of two from 8 to 1024, got {res}")
        for name, top in LIMITS.items():
            if not 1 <= getattr(self, name) <= top:
                raise ConfigError(f"{name} must be from 1 to {top}, got {getattr(self, name)}")
        if not (0 < self.mapping_lr_mul <= 1e3 and 0 <= self.w_avg_beta <= 1):  # NaN fails both
            raise ConfigError(f"mapping_lr_mul must be above 0 and w_avg_beta from 0 to 1, got "
                              f"{self.mapping_lr_mul} and {self.w_avg_beta}")

    @property
    def log2_res(self) -> int:
        """log2 of the output resolution."""
        return int(math.log2(self.resolution))

    @property
    def num_ws(self) -> int:
        """Number of synthesis layers, each taking its own w (2·log2(res) − 2)."""
        return num_ws_for(self.resolution)

    @property
    def resolutions(self) -> tuple[int, ...]:
        """Synthesis resolutions from 4 up to the output resolution."""
        return tuple(2 ** r for r in range(2, self.log2_res + 1))

    def nf(self, stage: int) -> int:
        """Feature maps at a stage (stage = log2(res) − 1), as in the paper."""
        return max(1, min(int(self.fmap_base / 2.0 ** stage), self.fmap_max))

    def channels(self, res: int) -> int:
        """Feature maps of the synthesis layers at resolution `res`."""
        return self.nf(int(math.log2(res)) - 1)

    def layer_resolution(self, layer: int) -> int:
        """Resolution of synthesis layer `layer` (0, 1 → 4; 2, 3 → 8; ...)."""
        return 2 ** (layer // 2 + 2)

    def image_macs(self, upto: int | None = None) -> float:
        """Multiply-accumulates of one synthesis pass up to resolution `upto` (default: full; convolutions only)."""
        total = 0.0
        for res in self.resolutions:
            if upto is not None and res > upto:
                return total + self.channels(upto) * self.img_channels * upto ** 2
            c = self.channels(res)
            total += c * c * 9 * res * res
            if res > 4:
                total += self.channels(res // 2) * c * 16 * (res // 2) ** 2  # the up-conv runs as a 4×4 transposed conv
        return total + self.channels(self.resolution) * self.img_channels * self.resolution ** 2

    def to_dict(self) -> dict:
        """Plain JSON-ready dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ModelConfig":
        """Build from a dict, rejecting unknown keys and wrong types."""
        fields = json_fields(cls, data, "model config", ConfigError)
        kwargs = {}
        for key, value in data.items():
            want = float if fields[key].type in ("float", float) else int
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(f"model config {key} must be a number, got {value!r}")
            try:
                kwargs[key] = want(value)
            except (OverflowError, ValueError):  # JSON allows Infinity and NaN
                raise ConfigError(f"model config {key} must be a finite number, got {value!r}") from None
        return cls(**kwargs)

    @classmethod
    def small(cls, resolution: int = 64, channels: int = 128, z_dim: int = 128,
              mapping_layers: int = 8) -> "ModelConfig":
        """A CPU-friendly model: `channels` feature maps at every resolution up to 32², halving above."""
        return cls(resolution=resolution, z_dim=z_dim, w_dim=z_dim, mapping_layers=mapping_layers,
                   mapping_fmaps=z_dim, fmap_base=channels * 16, fmap_max=channels)
