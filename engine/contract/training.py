"""Typed, frozen training configuration and the progressive-growing schedule."""
from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from .modelconfig import ARCH_NAMES, ModelConfig
from .errors import UserError

# Official minibatch per resolution on one GPU, halved for CPU where it would not fit a laptop's time.
DEFAULT_BATCH = ((4, 32), (8, 32), (16, 32), (32, 16), (64, 16), (128, 8), (256, 4), (512, 4), (1024, 4))
PRECISIONS = ("fp32", "bf16")
DEVICES = ("auto", "cpu", "cuda")
METRICS = ("", "fid1k")
PATH_FIELDS = ("data", "init", "metric_data")  # files a run reads: stored absolute in its config.json
ARCHITECTURES = ("stylegan1", "stylegan2")  # what a run trains (registry keys); a model's own when it starts from one
AUGMENT_OPS = ("color", "translation", "cutout")  # engine/train/augment.py implements them, in this order
# Adaptive augmentation (StyleGAN2-ADA's heuristic): every ADA_INTERVAL minibatches p moves by the images shown
# ÷ (ADA_KIMG · 1000) towards keeping E[sign(D(reals))] at the target, so p can go from 0 to 1 in ADA_KIMG kimg.
# NVIDIA's 500: measured against 100 at 20 kimg (docs/training-recipe.md, "Adaptive augmentation"), a slower p
# cost less FID while G is weak, and a 1,000-kimg GPU run can still take p from 0 to 1.
ADA_INTERVAL = 4
ADA_KIMG = 500.0


def parse_policy(policy: str) -> tuple[str, ...]:
    """'color,translation' → ('color', 'translation'); '' → (); unknown names are a ValueError."""
    if policy.strip() == "none":
        return ()
    names = tuple(p.strip() for p in policy.split(",") if p.strip())
    bad = [n for n in names if n not in AUGMENT_OPS]
    if bad:
        raise ValueError(f"unknown augmentation {', '.join(bad)} (choose from {', '.join(AUGMENT_OPS)})")
    return names


def opt(default, help: str, label: str, flag: str = "", choices: tuple = (), resume: bool = False,
        ui: bool = True, pick: tuple[str, str] = (), zero: str = "", names: dict | None = None):
    """A TrainConfig field with what the CLI and the Training pane need to offer it (declared once).

    `pick` = (button text, file filter) gives a text setting a file picker in the pane; `zero` says what the
    number 0 means (the help ends with it, the pane shows it instead of 0); `names`: the words the pane shows
    for choices whose values are keys (the CLI takes the keys).
    """
    if zero:
        help = f"{help} (0: {zero})"
    return dataclasses.field(default=default, metadata={"help": help, "label": label, "flag": flag,
                                                        "choices": choices, "resume": resume, "ui": ui,
                                                        "pick": pick, "zero": zero, "names": names or {}})


EMA_RAMPUP = 0.25
RESOLUTIONS = (8, 16, 32, 64, 128, 256, 512, 1024)  # what a run trains at (powers of two)
DEFAULT_LR = ((128, 0.0015), (256, 0.002), (512, 0.003), (1024, 0.003))
# Settings a run started from a model (--init) takes from that model instead: its architecture, no growing.
GROWING_OPTIONS = ("growing", "start_res", "fade_kimg", "stable_kimg")  # v1's growing: unused by StyleGAN2
MODEL_OPTIONS = ("architecture", "resolution", "channels", "z_dim", "mapping_layers", "d_channels",
                 "mbstd_group") + GROWING_OPTIONS


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters of one run (official StyleGAN v1 settings, kimg scaled down for CPU)."""

    data: str = opt("", "folder or zip of training images (a resume may point at a moved copy)", "Dataset", ui=False,
                    resume=True)
    architecture: str = opt("stylegan1", "stylegan1: StyleGAN (progressive growing); stylegan2: StyleGAN2 (skip G, "
                            "residual D, path-length regularisation, trained at full size without growing)",
                            "Architecture", choices=ARCHITECTURES, names=ARCH_NAMES)
    resolution: int = opt(64, "output resolution", "Resolution", choices=RESOLUTIONS)
    channels: int = opt(64, "G's feature maps up to 32² (halved per doubling above)", "G channels")
    channels_max: int = opt(0, "G's and D's feature maps below 32² double per halving of resolution up to this; "
                            "with --init, above the model's it widens the model (its new channels start silent, "
                            "so it renders as before)", "Low-res channels up to", zero="as G channels")
    z_dim: int = opt(128, "size of z and w", "Latent size")
    total_kimg: float = opt(100.0, "length in thousands of real images shown", "Length (kimg)", flag="kimg")
    growing: bool = opt(True, "progressive growing from --start-res", "Progressive growing")
    start_res: int = opt(8, "first resolution when growing", "Start resolution", choices=(4, 8, 16, 32, 64))
    fade_kimg: float = opt(10.0, "kimg of each fade-in (official 600)", "Fade-in (kimg)")
    stable_kimg: float = opt(10.0, "kimg of each stable phase (official 600)", "Stable (kimg)")
    batch: int = opt(0, "minibatch; per resolution: the official minibatch of each resolution, halved", "Minibatch",
                     zero="per resolution")
    lr: float = opt(0.001, "Adam learning rate; 0.001: the official per-resolution schedule", "Learning rate",
                    resume=True)
    gamma: float | None = opt(None, "R1 weight; auto: 0.0002 · res² / minibatch (StyleGAN2-ADA)", "R1 γ",
                              resume=True)
    r1_interval: int = opt(4, "lazy R1: penalty every N D steps, weight × N (1: every step, official)",
                           "R1 every", resume=True)
    r1_full_res: bool = opt(True, "R1 as the official code takes it, on reals at full size", "R1 at full size",
                            resume=True)
    mapping_layers: int = opt(2, "depth of the mapping network z → w (official 8)", "Mapping layers")
    d_channels: int = opt(0, "D's feature maps up to 32²", "D channels", zero="as G")
    mbstd_group: int = opt(4, "D's minibatch-stddev group size (official 4); larger groups let D see a batch's "
                           "lack of variety", "D mbstd group")
    noise_res: int = opt(16, "noise inputs only at resolutions up to this while training (above 16² G paints "
                         "speckle with them)", "Noise up to", resume=True, zero="none")
    augment: str = opt("color,translation,cutout", "differentiable augmentation for D: comma list of color, "
                       "translation, cutout, or none",
                       "Augment D", resume=True)
    augment_p: float | None = opt(None, "probability with which each augmentation applies to each image (1: "
                                  "every image, as DiffAugment); auto: adapted from 0 during the run so that D's "
                                  "mean sign on reals stays near --augment-target (StyleGAN2-ADA's adaptive "
                                  "augmentation)", "Augment probability", resume=True)
    augment_target: float = opt(0.6, "with --augment-p auto: the target of E[sign(D(reals))] (StyleGAN2-ADA's "
                                "0.6; higher lets D overfit more before augmenting)", "Augment target",
                                resume=True)
    metric: str = opt("", "fid1k: FID of 1,000 G_ema samples against --metric-data", "Metric", choices=METRICS,
                      resume=True)
    metric_data: str = opt("", "held-out images (zip or folder) for the metric", "Held-out images", resume=True)
    metric_ticks: int = opt(10, "ticks between metric measurements", "Metric every (ticks)", resume=True)
    style_mixing: float = opt(0.9, "probability of style-mixing regularisation", "Style mixing")
    ema_kimg: float = opt(2.0, "G_ema half-life in kimg (official 10)", "G_ema half-life", resume=True)
    mirror: bool = opt(True, "x-flip augmentation of the reals", "Mirror (x-flip)")
    tick_kimg: float = opt(1.0, "kimg per tick (one stats line, one fakes grid)", "Tick (kimg)")
    snapshot_ticks: int = opt(5, "ticks between snapshots", "Snapshot every (ticks)", resume=True)
    keep_snapshots: int = opt(3, "snapshots and states to keep", "Keep snapshots", resume=True)
    seed: int = opt(0, "random seed of the run", "Seed")
    threads: int = opt(0, "torch threads; 0: all cores (a machine setting: a resume may change it)", "Threads",
                       ui=False, resume=True)
    precision: str = opt("fp32", "bf16: bfloat16 autocast (slower for 64-channel models on AVX2 CPUs)",
                         "Precision", choices=PRECISIONS, resume=True)
    device: str = opt("auto", "auto: CUDA when present, else CPU (a machine setting: a resume may change it)",
                      "Device", choices=DEVICES, ui=False, resume=True)
    compile: bool = opt(False, "torch.compile G's synthesis and D (CUDA; pays only on long runs at one "
                        "resolution: it compiles again for each fade-in alpha)", "Compile", ui=False, resume=True)
    init: str = opt("", "start from a model file (ours, .safetensors, or an official .pkl of StyleGAN v1 or "
                    "StyleGAN2-ADA) or from a run (its folder, a state file or a resume kit folder): its G_ema, G "
                    "and D when it has them, at its resolution and architecture, without growing",
                    "Start from model", pick=("Model…", "StyleGAN models (*.safetensors *.pkl)"))
    d_warmup_kimg: float = opt(0.0, "kimg at the start in which only D trains (G and G_ema held), so that a fresh D "
                               "catches up with a G from --init before it pulls G about", "D warm-up (kimg)",
                               zero="none")
    pl_weight: float | None = opt(None, "path-length regularisation weight (every 4th G step, half the minibatch); "
                                  "auto: the model's own recipe, 2 for StyleGAN2, 0 for StyleGAN v1",
                                  "Path-length reg.", resume=True)
    # Filled in by the trainer (not options): G's and D's architecture config when a run starts from a model or
    # trains StyleGAN2, and the model's id. `arch` is v1's ModelConfig, or another architecture's config (built
    # by the trainer from the plain dict a config.json holds: the contract does not know those classes).
    arch: Any = None
    init_id: str = ""

    def __post_init__(self) -> None:
        for name in ("resolution", "start_res"):
            v = getattr(self, name)
            if v < 4 or v > 1024 or v & (v - 1):
                raise UserError(f"{name} must be a power of two up to 1024, got {v}")
        if self.resolution < 8:
            raise UserError("resolution must be at least 8")
        if self.total_kimg <= 0 or self.tick_kimg <= 0:
            raise UserError("--kimg and tick length must be positive")
        if self.channels < 1 or self.z_dim < 1 or self.batch < 0 or self.r1_interval < 1:
            raise UserError("channels, z-dim, batch and R1 interval must be positive")
        if self.resolution not in RESOLUTIONS:
            raise UserError(f"resolution must be a power of two from 8 to 1024, got {self.resolution}")
        if self.architecture not in ARCHITECTURES:
            raise UserError(f"architecture must be one of {', '.join(ARCHITECTURES)}, got {self.architecture!r}")
        if self.device not in DEVICES:
            raise UserError(f"device must be one of {', '.join(DEVICES)}, got {self.device!r}")
        if self.precision not in PRECISIONS:
            raise UserError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if self.gamma is not None and self.gamma < 0:
            raise UserError("gamma must be positive (or auto)")
        if (self.mapping_layers < 1 or self.mbstd_group < 1 or self.d_channels < 0 or self.channels_max < 0
                or self.noise_res < 0 or self.metric_ticks < 1):
            raise UserError("mapping layers, D channels, low-res channels, noise resolution and metric interval must be "
                            "positive")
        try:
            parse_policy(self.augment)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        if self.augment_p is not None and not 0.0 <= self.augment_p <= 1.0:  # NaN fails
            raise UserError("augment probability must be from 0 to 1 (or auto)")
        if not 0.0 < self.augment_target < 1.0:
            raise UserError("augment target must be between 0 and 1")
        if self.metric not in METRICS:
            raise UserError(f"metric must be one of {', '.join(m for m in METRICS if m)}, got {self.metric!r}")
        if self.metric and not self.metric_data:
            raise UserError("a training metric needs held-out images to measure against (Held-out images, "
                            "--metric-data)")
        if self.d_warmup_kimg < 0 or self.d_warmup_kimg >= self.total_kimg:
            raise UserError("D warm-up must be at least 0 kimg and shorter than the run")
        if not 0.0 <= self.style_mixing <= 1.0:
            raise UserError("style-mixing probability must be between 0 and 1")
        if self.pl_weight is not None and not 0 <= self.pl_weight <= 1e6:  # NaN fails
            raise UserError("path-length weight must be from 0 (off) to 1e6 (or auto)")
        if self.arch is not None and (_arch_resolution(self.arch) != self.resolution or self.growing):
            raise UserError("a run with the architecture of a model trains at its resolution, without growing")

    def model_config(self):
        """The generator's architecture config: `arch` (a model's, or the trainer's StyleGAN2), or a new v1's
        (D's too unless `d_channels` widens it)."""
        return self.arch or self._widened(ModelConfig.small(self.resolution, self.channels, self.z_dim,
                                                            self.mapping_layers))

    def _widened(self, cfg: ModelConfig) -> ModelConfig:
        """`cfg` with `channels_max` as its cap on feature maps (none lower than it has)."""
        return dataclasses.replace(cfg, fmap_max=max(cfg.fmap_max, self.channels_max))

    def d_config(self):
        """The discriminator's architecture config (`arch` holds both where it is set)."""
        if self.arch:
            return self.arch
        d = ModelConfig.small(self.resolution, self.d_channels or self.channels, self.z_dim, self.mapping_layers)
        return dataclasses.replace(self._widened(d), mbstd_group=self.mbstd_group)

    def with_model(self, arch, model_id: str, kind: str = "stylegan1", **sizes) -> "TrainConfig":
        """This config for a run that starts from the model `arch` describes: its architecture, no growing.

        `sizes` (resolution, channels, z_dim, mapping_layers, noise_res): the settings the model decides, given
        by the trainer where `arch` is not v1's ModelConfig.
        """
        if isinstance(arch, ModelConfig):
            sizes = {"resolution": arch.resolution, "channels": arch.channels(min(32, arch.resolution)),
                     "channels_max": arch.fmap_max, "z_dim": arch.z_dim,
                     "mapping_layers": arch.mapping_layers, **sizes}
        return dataclasses.replace(self, arch=arch, architecture=kind, init_id=model_id, d_channels=0, growing=False,
                                   **sizes)

    def gamma_at(self, res: int) -> float:
        """R1 weight while training at `res`: the given gamma, or 0.0002 · resolution² / minibatch.

        The heuristic is StyleGAN2-ADA's, for R1 on full-size reals; `r1_scale` brings R1 taken at a lower
        growing resolution to that scale, so the heuristic uses the final resolution.
        """
        if self.gamma is not None:
            return self.gamma
        return 0.0002 * self.resolution ** 2 / self.batch_at(res)

    def r1_scale(self, res: int) -> float:
        """Factor on R1 taken on reals at `res`, so it equals R1 on the reals upsampled to full size.

        The official trainer feeds D full-size reals (nearest-upsampled from `res`) and D average-pools
        them; the gradient at each full-size pixel is then 1/k² of ours (k = resolution / res) and
        there are k² of them, so its R1 is ours / k².
        """
        return (res / self.resolution) ** 2 if self.r1_full_res else 1.0

    def noise_at(self, res: int) -> bool:
        """Whether the synthesis layers at `res` get noise inputs during training."""
        return res <= self.noise_res

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
        if self.init:  # no random weights to forget (the official v1 code never ramps the half-life)
            return max(self.ema_kimg, 1e-8)
        ramp = max(EMA_RAMPUP * (kimg - self.phase_start(kimg)), 0.01)
        return max(min(self.ema_kimg, ramp), 1e-8)  # ema_kimg 0: G_ema simply copies G

    def to_dict(self) -> dict:
        """Plain JSON-ready dict."""
        return dataclasses.asdict(self)

    def with_absolute_paths(self) -> "TrainConfig":
        """The data, init and held-out paths made absolute: config.json must name them from anywhere, as a
        resume may run in another folder."""
        return dataclasses.replace(self, **absolute_paths(dataclasses.asdict(self)))

    def portable(self) -> "TrainConfig":
        """This config as events carry it to the window: `arch` as contract data (another architecture's config
        object is the engine's, a plain dict here)."""
        if self.arch is None or isinstance(self.arch, (ModelConfig, dict)):
            return self
        return dataclasses.replace(self, arch=self.arch.to_dict())

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        """Build from a dict (unknown keys are an error)."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise UserError(f"unknown training config keys: {', '.join(sorted(unknown))}")
        # A stored config from before the option augmented every image: it goes on doing so when resumed.
        data = {"augment_p": 1.0, **data}
        if isinstance(data.get("arch"), dict) and data.get("architecture", "stylegan1") == "stylegan1":
            try:
                data = {**data, "arch": ModelConfig.from_dict(data["arch"])}
            except ValueError as exc:  # ConfigError
                raise UserError(f"training config: {exc}") from None
        return cls(**data)


def _arch_resolution(arch) -> int | None:
    """The output resolution of a model architecture: v1's config, another's config, or its plain dict."""
    get = arch.get if isinstance(arch, dict) else (lambda key: getattr(arch, key, None))
    return get("resolution") or get("img_resolution")


def options() -> tuple[dataclasses.Field, ...]:
    """The settings a user can give, in declaration order (the CLI's flags and the pane's form)."""
    return tuple(f for f in dataclasses.fields(TrainConfig) if f.metadata)


def option_kind(f: dataclasses.Field) -> str:
    """'bool', 'int', 'float', 'auto-float' (a number or auto), 'str' or 'choice'."""
    if f.metadata["choices"]:
        return "choice"
    return {"float | None": "auto-float"}.get(str(f.type), str(f.type))


def choice_label(f: dataclasses.Field, value) -> str:
    """The words the Training pane shows for one choice of a setting ("none" for an empty one)."""
    return f.metadata["names"].get(value) or ("none" if value == "" else str(value))


def resume_options() -> tuple[str, ...]:
    """Names of the settings a resumed run may change (the architecture, schedule and seed stay)."""
    return tuple(f.name for f in options() if f.metadata["resume"])


def fitted_phase_kimg(total_kimg: float, resolution: int, start_res: int = 8, longest: float = 10.0) -> float:
    """Fade-in/stable phase length shortened so that a run of `total_kimg` still reaches `resolution`."""
    doublings = max(0, int(math.log2(resolution // start_res))) if resolution > start_res else 0
    # A run of d doublings has 2d phases before the last resolution; that one gets at least a phase of its own.
    return round(min(longest, total_kimg / (2 * doublings + 1)), 3)


def schedule_text(cfg: TrainConfig) -> str:
    """One line describing the growing schedule of `cfg`."""
    if cfg.init:
        wider = f", widened below 32² up to {cfg.channels_max} maps where it has fewer" if cfg.channels_max else ""
        return f"Starts from {PurePath(cfg.init).name} at its own resolution and architecture{wider}, without growing"
    if cfg.architecture != "stylegan1":
        return f"Trains at {cfg.resolution}² throughout (StyleGAN2 does not grow)"
    first = min(cfg.start_res, cfg.resolution)
    if not cfg.growing or first == cfg.resolution:
        return f"Trains at {cfg.resolution}² throughout"
    steps = growth_steps(cfg)
    last = cfg.total_kimg - cfg.stable_kimg - steps * cfg.fade_kimg - (steps - 1) * cfg.stable_kimg
    return (f"Grows {first}² → {cfg.resolution}²: {cfg.fade_kimg:g} kimg per fade-in, {cfg.stable_kimg:g} per "
            f"stable phase, then {max(last, 0):g} kimg at {cfg.resolution}²")


def growth_steps(cfg: TrainConfig) -> int:
    """Number of resolution doublings the run goes through."""
    grows = cfg.growing and cfg.architecture == "stylegan1"
    return int(math.log2(cfg.resolution // min(cfg.start_res, cfg.resolution))) if grows else 0


RUN_CONFIG = "config.json"  # a folder holding this file holds a run (resume it or choose another folder)


def holds_run(folder: str) -> bool:
    """Whether `folder` already holds a training run."""
    return os.path.isfile(os.path.join(folder, RUN_CONFIG))


def has_state(folder: str) -> bool:
    """Whether a run folder holds a training state to resume from (a run that failed before its first snapshot
    holds a config and no state)."""
    try:
        return any(n.startswith("state-") and n.endswith(".safetensors") for n in os.listdir(folder))
    except OSError:
        return False


def moved_data(folder: str) -> str:
    """The images path a run folder names when nothing is there any more (moved or copied runs), else ''."""
    try:
        with open(os.path.join(folder, RUN_CONFIG), encoding="utf-8") as f:
            data = json.load(f).get("data", "")
    except (OSError, ValueError, AttributeError):  # no or a damaged config: resuming says so itself
        return ""
    return data if isinstance(data, str) and data and not os.path.exists(data) else ""


def absolute_paths(values: dict) -> dict:
    """The path settings among `values` (PATH_FIELDS, when set) made absolute."""
    return {k: os.path.abspath(os.path.expanduser(v)) for k, v in values.items() if k in PATH_FIELDS and v}
