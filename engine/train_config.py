"""Typed, frozen training configuration and the progressive-growing schedule."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from .config import ModelConfig
from .errors import UserError

# Official minibatch per resolution on one GPU, halved for CPU where it would not fit a laptop's time.
DEFAULT_BATCH = ((4, 32), (8, 32), (16, 32), (32, 16), (64, 16), (128, 8), (256, 4), (512, 4), (1024, 4))
PRECISIONS = ("fp32", "bf16")
EMA_RAMPUP = 0.25
DEFAULT_LR = ((128, 0.0015), (256, 0.002), (512, 0.003), (1024, 0.003))


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters of one run (official StyleGAN v1 settings, kimg scaled down for CPU)."""

    data: str
    resolution: int = 64
    channels: int = 64            # feature maps up to 32² (fmap_max); halved per doubling above
    z_dim: int = 128
    total_kimg: float = 100.0
    growing: bool = True
    start_res: int = 8
    fade_kimg: float = 10.0       # official: 600
    stable_kimg: float = 10.0     # official: 600
    batch: int = 0                # 0: DEFAULT_BATCH for the current resolution
    lr: float = 0.001
    gamma: float = 10.0           # R1 weight
    r1_interval: int = 1          # 1: R1 on every D step (official); k > 1: lazy R1, weight × k
    style_mixing: float = 0.9
    ema_kimg: float = 2.0         # G_ema half-life; official 10 (runs of thousands of kimg)
    mirror: bool = True
    tick_kimg: float = 1.0
    snapshot_ticks: int = 5
    keep_snapshots: int = 3
    seed: int = 0
    threads: int = 0              # 0: all cores
    precision: str = "fp32"       # "bf16": bfloat16 autocast; slower for 64-channel models here (bench_train.py)

    def __post_init__(self) -> None:
        for name in ("resolution", "start_res"):
            v = getattr(self, name)
            if v < 4 or v > 1024 or v & (v - 1):
                raise UserError(f"{name} must be a power of two up to 1024, got {v}")
        if self.resolution < 8:
            raise UserError("resolution must be at least 8")
        if self.total_kimg <= 0 or self.tick_kimg <= 0:
            raise UserError("--kimg and tick length must be positive")
        if self.channels < 1 or self.z_dim < 1 or self.batch < 0 or self.gamma < 0 or self.r1_interval < 1:
            raise UserError("channels, z-dim, batch, gamma and R1 interval must be positive")
        if self.precision not in PRECISIONS:
            raise UserError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if not 0.0 <= self.style_mixing <= 1.0:
            raise UserError("style-mixing probability must be between 0 and 1")

    def model_config(self) -> ModelConfig:
        """The generator/discriminator architecture of this run."""
        return ModelConfig.small(self.resolution, self.channels, self.z_dim)

    def batch_at(self, res: int) -> int:
        """Minibatch size at a training resolution."""
        return self.batch or dict(DEFAULT_BATCH)[res]

    def lr_at(self, res: int) -> float:
        """Learning rate at a training resolution (official schedule above 64²)."""
        return dict(DEFAULT_LR).get(res, self.lr) if self.lr == 0.001 else self.lr

    def _walk(self, kimg: float) -> tuple[int, float]:
        """(training resolution at `kimg`, kimg at which that resolution began its fade-in; 0 for the first)."""
        if not self.growing:
            return self.resolution, 0.0
        res, start, k = min(self.start_res, self.resolution), 0.0, self.stable_kimg
        while res < self.resolution and kimg >= k:
            start, res, k = k, res * 2, k + self.fade_kimg + self.stable_kimg
        return res, start

    def phase(self, kimg: float) -> tuple[int, float]:
        """(training resolution, fade-in alpha) at `kimg` images seen."""
        res, start = self._walk(kimg)
        if not self.growing or res == min(self.start_res, self.resolution) or self.fade_kimg <= 0:
            return res, 1.0
        return res, min((kimg - start) / self.fade_kimg, 1.0)

    def phase_start(self, kimg: float) -> float:
        """kimg at which the current training resolution began (its fade-in); 0 for the first."""
        return self._walk(kimg)[1]

    def ema_half_life(self, kimg: float) -> float:
        """G_ema half-life in kimg at `kimg`: `ema_kimg`, shortened after each resolution change.

        A new block starts from random weights; with a half-life comparable to a short fade-in, G_ema
        would keep a large share of them and render garbage. The ramp (a quarter of the kimg since the
        resolution changed, like StyleGAN2's ema_rampup) lets G_ema forget them within the fade.
        """
        ramp = max(EMA_RAMPUP * (kimg - self.phase_start(kimg)), 0.01)
        return max(min(self.ema_kimg, ramp), 1e-8)  # ema_kimg 0: G_ema simply copies G

    def to_dict(self) -> dict:
        """Plain JSON-ready dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        """Build from a dict (unknown keys are an error)."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise UserError(f"unknown training config keys: {', '.join(sorted(unknown))}")
        return cls(**data)


def growth_steps(cfg: TrainConfig) -> int:
    """Number of resolution doublings the run goes through."""
    return int(math.log2(cfg.resolution // min(cfg.start_res, cfg.resolution))) if cfg.growing else 0
