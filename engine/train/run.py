"""The training loop of StyleGAN v1 and StyleGAN2 (new, or from a model) as a job that yields after every
minibatch.

The loop is written for an accelerator: the dataset sits on the run's device as uint8 and is sampled
there, every random tensor is drawn there, and a minibatch never waits for the device (no .item() or
host copy per step): losses, statistics and the non-finite count are summed on the device and read
once per tick. On the CPU the same code runs; the waits it avoids simply cost nothing there.
"""
from __future__ import annotations

import copy
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F

from . import distributed as dist_util
from .augment import AugmentStrength, augment
from ..files.dataset import load_images
from ..contract.errors import UserError
from ..contract.messages import TickStats
from ..nets.device import default_device
from ..render.synth import to_uint8
from ..metrics.fid import FidMonitor
from ..nets.registry import new_networks
from ..nets import trainable
from ..files.pngio import make_grid
from ..contract.training import TrainConfig, parse_policy
from .warmstart import architecture_notes, init_notes, read_init, resolved_arch, start_from, with_init
from .state import RunFiles, module_tensors, opt_tensors, read_state, restore_opt, write_state

STAT_KEYS = ("loss_g", "loss_d", "r1", "score_real", "score_fake", "augment_p", "r_t")  # TickStats' means
DIVERSITY_SAMPLES = 64
# Path-length regularisation as StyleGAN2 takes it: every PL_INTERVAL-th G step (lazy, weight × interval), on
# half the minibatch, against a running mean of the lengths (decay PL_DECAY).
PL_INTERVAL, PL_BATCH_SHRINK, PL_DECAY = 4, 2, 0.01


def train_device(cfg: TrainConfig) -> torch.device:
    """The device a run trains on: its `device` setting, 'auto' meaning CUDA when present."""
    if cfg.device == "cpu":
        return torch.device("cpu")
    if default_device().type != "cuda":
        if cfg.device == "cuda":
            raise UserError("--device cuda: this machine has no CUDA device torch can use")
        return torch.device("cpu")
    return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))  # torchrun: one GPU per rank


def prepare_device(device: torch.device) -> None:
    """CUDA: this rank's GPU, TF32 matrix products and convolutions, cuDNN's autotuner (fixed shapes)."""
    if device.type != "cuda":
        return
    torch.cuda.set_device(device)
    torch.set_float32_matmul_precision("high")  # TF32: 10-bit mantissa products, fp32 accumulation
    torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = True


@dataclass(frozen=True)
class TrainUpdate:
    """What one minibatch did; tick_stats/snapshot_path/fakes are set when a tick ends."""

    kimg: float
    total_kimg: float
    resolution: int
    fade: float
    tick: int
    tick_stats: TickStats | None = None
    diversity: float | None = None  # at a tick's end: G_ema samples' spread ÷ the reals' (≪ 1: collapse)
    snapshot_path: str | None = None
    fakes: np.ndarray | None = None
    message: str = ""
    partial: bool = False   # D has stepped, G has not: the minibatch is half done
    metric: tuple[str, float] | None = None   # (name, value) when a quality measurement finished
    out_of_time: bool = False   # the last update of a run stopped by its deadline (snapshot_path: its snapshot)


def warmup_notes(cfg: TrainConfig) -> tuple[str, ...]:
    """The D warm-up, said once at the start (its ticks show G's loss as 0)."""
    if not cfg.d_warmup_kimg:
        return ()
    return (f"the first {cfg.d_warmup_kimg:g} kimg train D only: G and G_ema are held (G's loss reads 0)",)


def dataset_note(saved: dict, report) -> str:
    """What a resume says of its images against those its state was saved with ('' when they are the same)."""
    if "content" in saved:  # the files alone: a copy the run was pointed at elsewhere is the same dataset
        same = saved["content"] == report.content
    elif saved.get("path") == report.path:
        same = saved["key"] == report.key
    else:  # an older state read from another place: its key named that place, so it cannot tell
        return f"the images are now read from {report.path} (the state was saved with {saved.get('path')})"
    return "" if same else "the dataset changed since the snapshot; continuing on the current files"


class TrainingRun:
    """Holds G, D, G_ema, optimizers and random streams of one run; `steps()` advances it."""

    def __init__(self, cfg: TrainConfig | None, run_dir: str | Path, resume: bool = False,
                 total_kimg: float | None = None, overrides: dict | None = None, export: str | Path | None = None,
                 data: tuple[np.ndarray, object] | None = None) -> None:
        """A new run from `cfg`, or (resume=True) the run stored in `run_dir`, optionally longer or with `overrides`.

        `export`: a folder that receives copies of the newest G_ema, fakes grid, stats and resume kit as they
        are written (see RunFiles.export). `data`: images and report already loaded by `load_images`.
        """
        self.rank, self.world = dist_util.rank_and_world()
        self.files = RunFiles(Path(run_dir), Path(export) if export and self.rank == 0 else None)
        if resume:
            cfg = self.files.resumed_config(total_kimg, overrides)
        else:
            cfg = cfg.with_absolute_paths()
        init = read_init(cfg.init) if cfg.init and not resume else None  # a resume continues from its state
        if init is not None:
            cfg = with_init(cfg, init)
        asked = cfg
        self.cfg = cfg = resolved_arch(cfg)
        self.notes = init_notes(cfg, init) + architecture_notes(asked, cfg) + warmup_notes(cfg)
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        self.device = train_device(cfg)
        prepare_device(self.device)
        if cfg.metric and self.device.type != "cpu":
            raise UserError("the training metric (--metric) runs on CPU runs only; measure FID after the run")
        images, self.report = data or load_images(cfg.data, cfg.resolution)
        shard = np.ascontiguousarray(images[self.rank::self.world])  # each rank trains on its own shard
        if len(shard) == 0:
            raise UserError(f"{cfg.data}: no images for rank {self.rank}")
        self.images = torch.from_numpy(shard).to(self.device)  # uint8 [N, R, R, 3], sampled on the device
        mcfg = cfg.model_config()
        self.G, self.D = new_networks(mcfg, cfg.d_config(), cfg.seed)
        self.pl_weight = cfg.pl_weight if cfg.pl_weight is not None else trainable.recipe_pl_weight(self.G.arch)
        self.pl_mean = torch.zeros((), device=self.device)  # running mean of path lengths (a state tensor)
        self.policy = parse_policy(cfg.augment)
        # no augmentation: p 0, so the stats say what D saw
        self.strength = AugmentStrength(cfg.augment_p if self.policy else 0.0, cfg.augment_target, self.device)
        self.monitor = FidMonitor(cfg.metric_data, cfg.resolution) if cfg.metric else None
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
        if init is not None:
            start_from(init, self.G, self.G_ema, self.D)
        for net in (self.G, self.D, self.G_ema):
            net.to(self.device)
        self._synthesis, self._D_fast = self._compiled(cfg.compile)
        # Tensors are drawn from `gen` on the device; the host `rng` makes the per-minibatch choices
        # (style mixing, its layer), which must be known on the host without asking the device.
        self.gen = torch.Generator(self.device).manual_seed(cfg.seed * 1000 + self.rank)
        self.rng = np.random.Generator(np.random.PCG64(cfg.seed * 1000 + self.rank))
        self.nimg, self.tick, self.cur_res, self.g_steps = 0, 0, 0, 0
        self.grid_z = torch.randn(DIVERSITY_SAMPLES, self.G.z_dim, generator=torch.Generator().manual_seed(cfg.seed + 123))
        pick = torch.randperm(len(self.images), generator=torch.Generator().manual_seed(cfg.seed + 7))
        self._diversity_reals = self.images[pick[:DIVERSITY_SAMPLES].to(self.device)]
        self._tick_acc = _TickAccumulator()
        if resume:
            self.resumed_from = self._resume()
            if self.kimg >= cfg.total_kimg:  # e.g. a finished run resumed without a longer length
                self.notes = self.notes + (f"the run is already at its length ({cfg.total_kimg:g} kimg): give a "
                                           "longer length (--kimg, or Length in the Training pane) to go on",)
        else:
            self.files.start(cfg, self.rank == 0)
        dist_util.broadcast_params([self.G, self.D, self.G_ema])

    # ---------------------------------------------------------------- full training state
    def save_state(self, path: Path) -> None:
        """Everything needed to continue bit for bit: nets, optimizers, RNG streams, counters."""
        tensors, meta = self.state_parts()
        write_state(path, tensors, meta)
        if self.files.export is not None:
            self.files.export_kit(tensors, meta)

    def state_parts(self) -> tuple[dict, dict]:
        """(tensors, JSON-string meta) of the full training state."""
        if self.cur_res == 0:  # stopped before its first minibatch: store the optimizers it would have started with
            self._prepare_phase(self.cfg.phase(self.kimg)[0])
        tensors = {f"{n}.{k}": v for n in ("G", "D", "G_ema") for k, v in getattr(self, n).state_dict().items()}
        opt_meta = {}
        for name in ("opt_G", "opt_D"):
            t, opt_meta[name] = opt_tensors(getattr(self, name), name)
            tensors.update(t)
        tensors["gen_state"] = self.gen.get_state()
        tensors["pl_mean"] = self.pl_mean.detach()
        aug_tensors, aug_counters = self.strength.state()
        tensors.update(aug_tensors)
        counters = {"nimg": self.nimg, "tick": self.tick, "cur_res": self.cur_res, "g_steps": self.g_steps,
                    "tick_start_kimg": self._tick_acc.start_kimg, "gen_device": self.device.type, **aug_counters}
        dataset = {"path": self.report.path, "count": self.report.count, "key": self.report.key,
                   "content": self.report.content}
        return tensors, {"config": json.dumps(self.cfg.to_dict()), "counters": json.dumps(counters),
                         "rng": json.dumps(self.rng.bit_generator.state), "opt": json.dumps(opt_meta),
                         "dataset": json.dumps(dataset)}

    def _resume(self) -> Path:
        """Load the newest state that reads whole (older ones when it does not); returns its path."""
        if self.rank == 0:
            removed = self.files.remove_temps()
            if removed:
                self.notes = self.notes + (f"removed {len(removed)} unfinished temporary file(s) of an interrupted "
                                           f"write: {', '.join(removed[:3])}",)
        states = self.files.states()
        for path in states:
            try:
                self.load_state(path)
                return path
            except UserError as exc:
                if path == states[-1]:
                    raise
                self.notes = self.notes + (f"{exc}; trying the previous state",)
        self.load_state(None)  # no state at all: one line saying so

    def load_state(self, path: Path | None) -> None:
        """Restore the run from a full training state file."""
        if path is None:
            raise UserError(f"{self.files.root}: no training state to resume from (the run ended before its first "
                            "snapshot): start a new run in another folder")
        meta, tensors = read_state(path)
        try:
            self._restore(meta, tensors)
        except (KeyError, TypeError, ValueError, IndexError, RuntimeError, AttributeError, OverflowError) as exc:
            # the file read but its parts do not fit this run: a damaged or foreign state, never a traceback
            raise UserError(f"{path}: damaged training state ({type(exc).__name__}: {' '.join(str(exc).split())[:120]})") from None

    def _restore(self, meta: dict, tensors: dict) -> None:
        """Nets, optimizers, random streams and counters from a state's parts."""
        for name in ("G", "D", "G_ema"):
            getattr(self, name).load_state_dict({k: v.float() for k, v in module_tensors(tensors, name).items()})
        counters = json.loads(meta["counters"])
        self.nimg, self.tick = int(counters["nimg"]), int(counters["tick"])  # a damaged header fails here, in one line
        self.g_steps = int(counters.get("g_steps", 0))  # states before path-length regularisation: none taken
        if "pl_mean" in tensors:
            self.pl_mean = tensors["pl_mean"].float().reshape(()).to(self.device)
        self.strength.load(tensors, counters)
        self._prepare_phase(counters["cur_res"])
        opt = json.loads(meta["opt"])
        restore_opt(self.opt_G, "opt_G", opt["opt_G"], tensors)
        restore_opt(self.opt_D, "opt_D", opt["opt_D"], tensors)
        for group in self.opt_G.param_groups + self.opt_D.param_groups:  # a resume may have changed the lr
            group["lr"] = self.cfg.lr_at(self.cur_res)
        self.rng.bit_generator.state = json.loads(meta["rng"])
        if counters.get("gen_device", "cpu") == self.device.type:
            self.gen.set_state(tensors["gen_state"])
        else:  # a CPU stream does not fit a CUDA generator (or back): continue on a fresh stream from rng
            self.gen.manual_seed(int(self.rng.integers(1 << 62)))
            self.notes = self.notes + (f"the state was saved on {counters.get('gen_device', 'cpu')}, this run "
                                       f"trains on {self.device.type}: the random stream continues from a new seed",)
        self._tick_acc = _TickAccumulator(counters["tick_start_kimg"])
        note = dataset_note(json.loads(meta["dataset"]), self.report)
        if note:  # training continues on the current files
            self.notes = self.notes + (note,)

    # ---------------------------------------------------------------- schedule
    @property
    def kimg(self) -> float:
        """Thousands of real images shown so far (over all ranks)."""
        return self.nimg / 1000.0

    def _prepare_phase(self, res: int) -> None:
        """Reset Adam when the training resolution changes (official behaviour)."""
        if res == self.cur_res:
            return
        lr = self.cfg.lr_at(res)
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=lr, betas=(0.0, 0.99), eps=1e-8)
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=lr, betas=(0.0, 0.99), eps=1e-8)
        self.cur_res = res

    # ---------------------------------------------------------------- data and latents
    def _reals(self, n: int, res: int, alpha: float) -> torch.Tensor:
        """A minibatch of reals at `res`, blended like the official fade-in, [-1, 1]."""
        idx = torch.randint(0, len(self.images), (n,), generator=self.gen, device=self.device)
        x = unit_range(self.images[idx])
        if self.cfg.mirror:
            flip = torch.rand(n, generator=self.gen, device=self.device) < 0.5
            x = torch.where(flip.view(-1, 1, 1, 1), x.flip(3), x)
        return self.at_phase(x, res, alpha)

    @staticmethod
    def at_phase(x: torch.Tensor, res: int, alpha: float) -> torch.Tensor:
        """Full-size reals in [-1, 1] as D sees them at training resolution `res` and fade-in `alpha`."""
        if res < x.shape[-1]:
            x = F.avg_pool2d(x, x.shape[-1] // res)
        if alpha < 1.0:
            low = F.interpolate(F.avg_pool2d(x, 2), scale_factor=2, mode="nearest")
            x = torch.lerp(low, x, alpha)
        return x

    def _ws(self, n: int, res: int) -> torch.Tensor:
        """Mapped latents with style-mixing regularisation, [n, num_ws, w_dim]."""
        z = torch.randn(n, self.G.z_dim, generator=self.gen, device=self.device)
        w = self.G.mapping(z)
        self.G.update_w_avg(w)
        ws = w.unsqueeze(1).repeat(1, self.G.num_ws, 1)
        if self.rng.random() < self.cfg.style_mixing:
            layers = trainable.mixing_ws(self.G, res)  # layers in use at this resolution
            cross = int(self.rng.integers(1, max(layers, 2)))
            w2 = self.G.mapping(torch.randn(n, self.G.z_dim, generator=self.gen, device=self.device))
            ws[:, cross:] = w2.unsqueeze(1)
        return ws

    def _noise(self, n: int, res: int, gen: torch.Generator | None = None) -> list:
        """Fresh per-image noise maps for every noise input up to `res` that trains with noise (others off)."""
        return [torch.randn(n, 1, r, r, generator=gen or self.gen, device=self.device)
                if r <= res and self.cfg.noise_at(r) else None for r in self.G.noise_resolutions]

    def _fakes(self, n: int, res: int, alpha: float, ws: torch.Tensor | None = None) -> torch.Tensor:
        # Without gradients the layers cache their scaled weights (nets/layers.py: frozen), which a compiled
        # graph would see as a new constant every step: the D step's fakes run eager. So does a pass given its
        # ws (the path-length penalty's), which needs a double backward a compiled graph does not have.
        synthesis = self._synthesis if torch.is_grad_enabled() and ws is None else self.G.synthesis
        ws = self._ws(n, res) if ws is None else ws
        return synthesis(ws, noise=self._noise(n, res), **trainable.synthesis_kwargs(self.G, res, alpha))

    def _D(self, img: torch.Tensor, alpha: float, r1: bool = False) -> torch.Tensor:
        """D's score of images seen through the run's differentiable augmentation."""
        if self.policy:
            img = augment(img, self.policy, self.gen, self.strength.arg())
        # A compiled graph has no double backward: R1's pass runs D as written.
        return (self.D if r1 else self._D_fast)(img, *trainable.d_args(self.G, alpha)).float()

    def _compiled(self, on: bool) -> tuple:
        """(G's synthesis, D) as the minibatch calls them: torch.compile'd when the run asks for it."""
        if not on:
            return self.G.synthesis, self.D
        return torch.compile(self.G.synthesis), torch.compile(self.D)

    def _autocast(self) -> torch.autocast:
        """bfloat16 autocast for the forward passes when the run asks for it (weights and Adam stay fp32)."""
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.cfg.precision == "bf16")

    # ---------------------------------------------------------------- one minibatch
    def _d_step(self, n: int, res: int, alpha: float) -> dict:
        reals = self._reals(n, res, alpha)
        with torch.no_grad(), self._autocast():
            fakes = self._fakes(n, res, alpha).float()
        lazy = self.cfg.r1_interval
        gamma = self.cfg.gamma_at(res) * self.cfg.r1_scale(res)
        do_r1 = gamma > 0 and (self.nimg // max(n * self.world, 1)) % lazy == 0
        reals.requires_grad_(do_r1)  # R1 is taken on the reals before augmentation, as in StyleGAN2-ADA
        with self._autocast():
            real_score, fake_score = self._D(reals, alpha, r1=do_r1), self._D(fakes, alpha)
        loss = F.softplus(fake_score).mean() + F.softplus(-real_score).mean()
        r1 = torch.zeros((), device=self.device)
        if do_r1:
            (grad,) = torch.autograd.grad(real_score.sum(), reals, create_graph=True)
            r1 = grad.square().sum(dim=(1, 2, 3)).mean()
            loss = loss + r1 * (gamma / 2 * lazy)
        p = self.strength.p.clone()  # the p these scores were taken with (observe may move it)
        self.strength.observe(real_score, n * self.world)
        return {"loss_d": loss, "r1": r1.detach(), "score_real": real_score.detach().mean(),
                "score_fake": fake_score.detach().mean(), "augment_p": p,
                "r_t": real_score.detach().sign().mean()}

    def _g_step(self, n: int, res: int, alpha: float) -> tuple[torch.Tensor, torch.Tensor]:
        """(G's adversarial loss, the loss to minimise: with the path-length penalty on the steps that take one)."""
        with self._autocast():
            score = self._D(self._fakes(n, res, alpha), alpha)
        loss = F.softplus(-score).mean()
        total = loss
        if self.pl_weight > 0 and self.g_steps % PL_INTERVAL == 0:
            total = loss + self._path_length(max(n // PL_BATCH_SHRINK, 1), res, alpha) * (self.pl_weight * PL_INTERVAL)
        self.g_steps += 1
        return loss, total

    def _path_length(self, n: int, res: int, alpha: float) -> torch.Tensor:
        """StyleGAN2's path-length penalty: (|J_w^T y| − its running mean)² for y random image-space noise."""
        ws = self._ws(n, res)
        img = self._fakes(n, res, alpha, ws=ws).float()  # fp32: a second-order term in bf16 would be noise
        y = torch.randn(img.shape, generator=self.gen, device=self.device) / math.sqrt(img.shape[2] * img.shape[3])
        (grad,) = torch.autograd.grad((img * y).sum(), ws, create_graph=True)
        lengths = grad.square().sum(2).mean(1).sqrt()
        # As NVIDIA's loss: the penalty's gradient also flows through this step's update of the mean
        # (bench/check_stylegan2_loss.py measures the difference a detached mean makes: ~1 % of G's gradients).
        pl_mean = self.pl_mean.lerp(lengths.mean().float(), PL_DECAY)
        with torch.no_grad():  # a non-finite step (skipped by _apply) must not poison the stored mean for good
            self.pl_mean.copy_(torch.where(torch.isfinite(pl_mean), pl_mean, self.pl_mean))
        return (lengths - pl_mean).square().mean()

    def _apply(self, opt: torch.optim.Optimizer, loss: torch.Tensor, module: torch.nn.Module) -> torch.Tensor:
        """Backward and step; a non-finite loss leaves the weights as they were. Returns that flag (on the device).

        Asking the host whether the loss is finite would stall the device every step, so the step always
        runs, with the gradients zeroed when it is not: Adam (β1 = 0) then moves no weight.
        """
        opt.zero_grad(set_to_none=True)
        loss.backward()
        dist_util.average_grads(module)
        bad = ~torch.isfinite(loss.detach())
        grads = [p.grad for p in module.parameters() if p.grad is not None]
        for g in grads:
            g.masked_fill_(bad, 0.0)  # masked_fill, not a product: NaN · 0 is NaN
        opt.step()
        return bad

    def _update_ema(self, n: int) -> None:
        beta = 0.5 ** (n * self.world / (self.cfg.ema_half_life(self.kimg) * 1000.0))
        with torch.no_grad():
            torch._foreach_lerp_(list(self.G_ema.parameters()), list(self.G.parameters()), 1.0 - beta)
            for b_ema, b in zip(self.G_ema.buffers(), self.G.buffers()):
                b_ema.copy_(b)

    def _minibatch(self) -> Iterator[dict | None]:
        """Train D, yield None (the caller may serve other work there), then train G and yield the statistics."""
        res, alpha = self.cfg.phase(self.kimg)
        self._prepare_phase(res)
        n = max(1, self.cfg.batch_at(res) // self.world)
        self.G.requires_grad_(False)
        self.D.requires_grad_(True)
        d = self._d_step(n, res, alpha)
        bad_d = self._apply(self.opt_D, d["loss_d"], self.D)
        yield None
        if self.kimg < self.cfg.d_warmup_kimg:  # D catches up with a G it has not seen; G and G_ema wait
            loss_g, bad_g = torch.zeros((), device=self.device), torch.zeros((), dtype=torch.bool, device=self.device)
        else:
            self.G.requires_grad_(True)
            self.D.requires_grad_(False)
            loss_g, total = self._g_step(n, res, alpha)
            bad_g = self._apply(self.opt_G, total, self.G)
            self._update_ema(n)
        self.nimg += n * self.world
        stats = torch.stack([loss_g.detach().float()] + [d[k].detach().float() for k in STAT_KEYS[1:]])
        yield {"stats": stats, "bad": bad_d | bad_g, "res": res, "alpha": alpha, "n": n * self.world}

    def step(self) -> dict:
        """Train D then G on one minibatch; returns its statistics as numbers (reading them waits for the device)."""
        *_, out = self._minibatch()
        result = {**dict(zip(STAT_KEYS, out["stats"].tolist())), "res": out["res"], "alpha": out["alpha"],
                  "n": out["n"]}
        if bool(out["bad"]):
            result["message"] = f"non-finite loss at {self.kimg:.2f} kimg: step skipped, weights kept"
        return result

    def _recover(self, bad: int, steps: int) -> str:
        """A tick with non-finite losses: say so; when no step of it was good, roll back to the last state."""
        if bad < steps:
            return f"non-finite loss in {bad} of {steps} minibatches before {self.kimg:.2f} kimg: those steps skipped"
        path = self.files.latest_state()
        if path is None:
            raise UserError("training diverged (non-finite losses) before the first snapshot")
        self.load_state(path)
        self.cur_res = 0  # a fresh Adam after the rollback
        return f"training diverged; rolled back to {path.name} ({self.kimg:.2f} kimg)"

    # ---------------------------------------------------------------- ticks, snapshots, the job
    def _samples(self) -> torch.Tensor:
        """G_ema on the run's fixed latents with per-sample noise (fixed too), at full size, [64, C, R, R]."""
        res, alpha = self.cfg.phase(self.kimg)
        gen = torch.Generator(self.device).manual_seed(self.cfg.seed + 321)  # the same noise every tick
        with torch.no_grad():
            noise = self._noise(len(self.grid_z), res, gen)
            imgs = trainable.render(self.G_ema, self.grid_z.to(self.device), noise, res, alpha).float()
            if res < self.cfg.resolution:  # layers above `res` are still untrained
                imgs = F.interpolate(imgs, size=self.cfg.resolution, mode="nearest")
        return imgs

    def fakes_grid(self, imgs: torch.Tensor | None = None) -> np.ndarray:
        """The first 32 of `_samples` as one 8-wide grid."""
        imgs = self._samples() if imgs is None else imgs
        return make_grid(to_uint8(imgs[:32]), 8)

    def diversity(self, imgs: torch.Tensor | None = None) -> float:
        """Mean pairwise distance of 64 G_ema samples ÷ the same for 64 reals (near 1: as varied; near 0: collapse)."""
        imgs = self._samples() if imgs is None else imgs
        reals = unit_range(self._diversity_reals)
        return float(_spread(imgs) / _spread(reals).clamp_min(1e-8))

    def growth(self) -> tuple[int, float] | None:
        """The growing phase G_ema is in now, which snapshots and the live view show; None once fully grown."""
        res, alpha = self.cfg.phase(self.kimg)
        return None if (res, alpha) == (self.cfg.resolution, 1.0) else (res, alpha)

    def snapshot(self) -> Path | None:
        """Write the G_ema model file and the full training state now (rank 0 only)."""
        if self.rank != 0:
            return None
        self.save_state(self.files.state_path(self.tick))
        path = self.files.write_model(self)
        self.files.prune(self.cfg.keep_snapshots)
        return path

    def _end_tick(self, stats: "TickStats", message: str = "") -> TrainUpdate:
        snap, fakes, spread = None, None, None
        if self.rank == 0:
            imgs = self._samples()
            fakes, spread = self.fakes_grid(imgs), self.diversity(imgs)
            self.files.write_fakes(self.tick, fakes, {"kind": "training fakes", "kimg": self.kimg})
            self.files.append_stats(stats, {"diversity": round(spread, 4)})
            if self.tick % self.cfg.snapshot_ticks == 0 or self.kimg >= self.cfg.total_kimg:
                snap = str(self.snapshot())
        return TrainUpdate(self.kimg, self.cfg.total_kimg, stats.resolution, stats.fade, self.tick, stats,
                           spread, snap, fakes, message)

    def steps(self, deadline: float | None = None) -> Iterator[TrainUpdate]:
        """The job: yields halfway through and after every minibatch until total_kimg is reached.

        `deadline` (time.time()): past it, the run ends its tick where it is, snapshots and stops.
        """
        acc = self._tick_acc
        while self.kimg < self.cfg.total_kimg:
            # Yielding between the D and G steps halves the longest wait of renders served between units.
            for out in self._minibatch():
                if out is None:
                    res, alpha = self.cfg.phase(self.kimg)
                    yield TrainUpdate(self.kimg, self.cfg.total_kimg, res, alpha, self.tick, partial=True)
            acc.add(out)
            res, alpha = out["res"], out["alpha"]
            late = deadline is not None and time.time() >= deadline
            if late or self.kimg >= acc.start_kimg + self.cfg.tick_kimg or self.kimg >= self.cfg.total_kimg:
                stats, bad = acc.finish(self.tick + 1, self.kimg, res, alpha)  # the tick's one wait for the device
                message = self._recover(bad, acc.count) if bad else ""
                if message.startswith("training diverged"):  # rolled back: this tick did not happen
                    self._tick_acc = acc = _TickAccumulator(self.kimg)
                    yield TrainUpdate(self.kimg, self.cfg.total_kimg, res, alpha, self.tick, message=message)
                    continue
                self.tick += 1
                self._tick_acc = acc = _TickAccumulator(self.kimg)  # before the snapshot, which stores it
                update = self._end_tick(stats, message)
                yield update
                if late:
                    yield self._stop_update(update.snapshot_path or self.snapshot())
                    return
                if self._metric_due():
                    yield from self._measure()
                    acc.t0 = time.time()  # the measurement's time is not the next tick's
            else:
                yield TrainUpdate(self.kimg, self.cfg.total_kimg, res, alpha, self.tick)

    def _stop_update(self, path: str | Path | None) -> TrainUpdate:
        """The update a run stopped by its time budget ends with."""
        res, alpha = self.cfg.phase(self.kimg)
        return TrainUpdate(self.kimg, self.cfg.total_kimg, res, alpha, self.tick,
                           snapshot_path=str(path) if path else None,
                           message=f"time budget reached at {self.kimg:.2f} kimg", out_of_time=True)


    def _metric_due(self) -> bool:
        done = self.kimg >= self.cfg.total_kimg
        return self.monitor is not None and self.rank == 0 and (self.tick % self.cfg.metric_ticks == 0 or done)

    def _measure(self) -> Iterator[TrainUpdate]:
        """FID of G_ema now, in small steps (each yields), then one update carrying the value."""
        res, alpha = self.cfg.phase(self.kimg)
        t0 = time.time()
        for value in self.monitor.measure(self.G_ema, res, alpha, seed=self.cfg.seed):
            if value is None:
                yield TrainUpdate(self.kimg, self.cfg.total_kimg, res, alpha, self.tick)
                continue
            record = {"tick": self.tick, "kimg": round(self.kimg, 3), self.cfg.metric: round(value, 3),
                      "seconds": round(time.time() - t0, 1)}
            self.files.append_metric(record)
            yield TrainUpdate(self.kimg, self.cfg.total_kimg, res, alpha, self.tick,
                              message=f"{self.cfg.metric} {value:.2f} at {self.kimg:.2f} kimg",
                              metric=(self.cfg.metric, value))


@dataclass(frozen=True)
class RunEnd:
    """How Drive left a run: "finished" (total_kimg reached), "stopped" (asked to) or "out of time" (its
    deadline passed), and its last snapshot."""

    status: str
    snapshot: str  # the model file last written ("" when none, or on ranks other than 0)


class Drive:
    """Drives a run until it finishes, `stop_requested()` or its deadline: the one loop the CLI and the engine
    thread share.

    Iterating yields every update. A stop is honoured only between whole minibatches (a half-done one is
    finished, so a resume stays exact), then a snapshot is written; `end` then says how the run ended.
    `deadline` (time.time()) is passed to TrainingRun.steps, which ends the tick, snapshots and stops.
    """

    def __init__(self, run: TrainingRun, stop_requested: Callable[[], bool], deadline: float | None = None) -> None:
        self.run, self.stop_requested, self.deadline = run, stop_requested, deadline
        self.end: RunEnd | None = None  # set when iteration is over

    def __iter__(self) -> Iterator[TrainUpdate]:
        steps, mid = self.run.steps(self.deadline), False
        while mid or not self.stop_requested():
            update = next(steps, None)
            if update is None:
                snaps = self.run.files.snapshots()
                self.end = RunEnd("finished", str(snaps[-1]) if snaps else "")
                return
            mid = update.partial
            yield update
            if update.out_of_time:
                self.end = RunEnd("out of time", update.snapshot_path or "")
                return
        path = self.run.snapshot()
        self.end = RunEnd("stopped", str(path) if path else "")


def unit_range(images: torch.Tensor) -> torch.Tensor:
    """uint8 images [N, H, W, 3] as float [N, 3, H, W] in [-1, 1], as G draws and D reads them."""
    return images.permute(0, 3, 1, 2).float() / 127.5 - 1.0


def _spread(imgs: torch.Tensor) -> torch.Tensor:
    """Mean Euclidean distance between the distinct pairs of a batch of images (on their device)."""
    flat = imgs.float().flatten(1)
    d = torch.cdist(flat, flat)
    n = flat.shape[0]
    return d.sum() / max(n * (n - 1), 1)


class _TickAccumulator:
    """One tick's statistics, summed on the device; `finish` reads them once."""

    def __init__(self, start_kimg: float = 0.0) -> None:
        self.start_kimg, self.t0, self.count, self.images, self.batch = start_kimg, time.time(), 0, 0, 0
        self.sums, self.bad = None, None

    def add(self, out: dict) -> None:
        self.count += 1
        self.images += out["n"]
        self.batch = out["n"]
        good = torch.where(out["bad"], torch.zeros_like(out["stats"]), out["stats"])  # a skipped step's NaNs stay out
        self.sums = good if self.sums is None else self.sums + good
        self.bad = out["bad"].int() if self.bad is None else self.bad + out["bad"].int()

    def finish(self, tick: int, kimg: float, res: int, alpha: float) -> tuple[TickStats, int]:
        """(the tick's TickStats, how many of its minibatches had a non-finite loss)."""
        if self.sums is None:
            values, bad = [math.nan] * len(STAT_KEYS), 0
        else:
            *values, bad = torch.cat([self.sums, self.bad.view(1).float()]).tolist()  # one host read
        good = self.count - int(bad)
        mean = [v / good if good else math.nan for v in values]
        dt = max(time.time() - self.t0, 1e-9)
        ips = self.images / dt
        return TickStats(tick=tick, kimg=round(kimg, 3), resolution=res, fade=round(alpha, 4), batch=self.batch,
                         sec_per_kimg=round(dt / max(self.images / 1000, 1e-9), 2), images_per_s=round(ips, 2),
                         time=round(time.time(), 2), **dict(zip(STAT_KEYS, mean))), int(bad)


def stats_line(s: TickStats) -> str:
    """One human line per tick."""
    return (f"tick {s.tick:<4} kimg {s.kimg:<8.2f} res {s.resolution:<4} fade {s.fade:<5.2f} batch {s.batch:<3} "
            f"{s.sec_per_kimg:7.1f} s/kimg {s.images_per_s:6.1f} img/s  G {s.loss_g:6.3f}  D {s.loss_d:6.3f}  "
            f"R1 {s.r1:7.4f}  real {s.score_real:6.2f} fake {s.score_fake:6.2f}  aug p {s.augment_p:4.2f} "
            f"r_t {s.r_t:+5.2f}")

