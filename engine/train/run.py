"""The StyleGAN v1 training loop as a generator job that yields after every minibatch."""
from __future__ import annotations

import copy
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F

from . import distributed as dist_util
from .augment import augment
from .dataset import load_images
from ..errors import UserError
from ..messages import TickStats
from ..render.synth import to_uint8
from ..metrics.fid import FidMonitor
from ..nets.networks import Discriminator, Generator
from ..files.pngio import make_grid, save_png
from .config import TrainConfig, parse_policy
from .warmstart import init_notes, read_init, start_from
from .state import RunFiles, module_tensors, opt_tensors, read_state, restore_opt, write_state


@dataclass(frozen=True)
class TrainUpdate:
    """What one minibatch did; tick_stats/snapshot_path/fakes are set when a tick ends."""

    kimg: float
    total_kimg: float
    resolution: int
    fade: float
    tick: int
    tick_stats: TickStats | None = None
    snapshot_path: str | None = None
    fakes: np.ndarray | None = None
    message: str = ""
    partial: bool = False   # D has stepped, G has not: the minibatch is half done
    metric: tuple[str, float] | None = None   # (name, value) when a quality measurement finished


class TrainingRun:
    """Holds G, D, G_ema, optimizers and random streams of one run; `steps()` advances it."""

    def __init__(self, cfg: TrainConfig | None, run_dir: str | Path, resume: bool = False,
                 total_kimg: float | None = None, overrides: dict | None = None) -> None:
        """A new run from `cfg`, or (resume=True) the run stored in `run_dir`, optionally longer or with `overrides`."""
        self.rank, self.world = dist_util.rank_and_world()
        self.files = RunFiles(Path(run_dir))
        if resume:
            cfg = self.files.resumed_config(total_kimg, overrides)
        init = read_init(cfg.init) if cfg.init and not resume else None  # a resume continues from its state
        if init is not None:
            cfg = cfg.with_model(init.cfg, init.model_id)
        self.cfg = cfg
        self.notes = init_notes(cfg, init)
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        images, self.report = load_images(cfg.data, cfg.resolution)
        self.images = images[self.rank::self.world]  # each rank trains on its own shard
        if len(self.images) == 0:
            raise UserError(f"{cfg.data}: no images for rank {self.rank}")
        torch.manual_seed(cfg.seed)
        mcfg = cfg.model_config()
        self.G, self.D = Generator(mcfg), Discriminator(cfg.d_config())
        self.policy = parse_policy(cfg.augment)
        self.monitor = FidMonitor(cfg.metric_data, cfg.resolution) if cfg.metric else None
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
        if init is not None:
            start_from(init, self.G, self.G_ema, self.D)
        self.gen = torch.Generator().manual_seed(cfg.seed * 1000 + self.rank)
        self.rng = np.random.Generator(np.random.PCG64(cfg.seed * 1000 + self.rank))
        self.nimg, self.tick, self.cur_res = 0, 0, 0
        self.grid_z = torch.randn(32, mcfg.z_dim, generator=torch.Generator().manual_seed(cfg.seed + 123))
        self.bad_steps = 0
        self._tick_acc = _TickAccumulator()
        if resume:
            self.resumed_from = self._resume()
        else:
            self.files.start(cfg, self.rank == 0)
        dist_util.broadcast_params([self.G, self.D, self.G_ema])

    # ---------------------------------------------------------------- full training state
    def save_state(self, path: Path) -> None:
        """Everything needed to continue bit for bit: nets, optimizers, RNG streams, counters."""
        if self.cur_res == 0:  # stopped before its first minibatch: store the optimizers it would have started with
            self._prepare_phase(self.cfg.phase(self.kimg)[0])
        tensors = {f"{n}.{k}": v for n in ("G", "D", "G_ema") for k, v in getattr(self, n).state_dict().items()}
        opt_meta = {}
        for name in ("opt_G", "opt_D"):
            t, opt_meta[name] = opt_tensors(getattr(self, name), name)
            tensors.update(t)
        tensors["gen_state"] = self.gen.get_state()
        counters = {"nimg": self.nimg, "tick": self.tick, "cur_res": self.cur_res,
                    "tick_start_kimg": self._tick_acc.start_kimg}
        dataset = {"path": self.report.path, "count": self.report.count, "key": self.report.key}
        write_state(path, tensors, {"config": json.dumps(self.cfg.to_dict()), "counters": json.dumps(counters),
                                    "rng": json.dumps(self.rng.bit_generator.state), "opt": json.dumps(opt_meta),
                                    "dataset": json.dumps(dataset)})

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
            raise UserError(f"{self.files.root}: no training state to resume from")
        meta, tensors = read_state(path)
        try:
            self._restore(meta, tensors)
        except (KeyError, TypeError, ValueError, IndexError, RuntimeError, AttributeError, OverflowError) as exc:
            # the file read but its parts do not fit this run: a damaged or foreign state, never a traceback
            raise UserError(f"{path}: damaged training state ({type(exc).__name__}: {' '.join(str(exc).split())[:120]})") from None

    def _restore(self, meta: dict, tensors: dict) -> None:
        """Nets, optimizers, random streams and counters from a state's parts."""
        for name in ("G", "D", "G_ema"):
            getattr(self, name).load_state_dict(module_tensors(tensors, name))
        counters = json.loads(meta["counters"])
        self.nimg, self.tick = counters["nimg"], counters["tick"]
        self._prepare_phase(counters["cur_res"])
        opt = json.loads(meta["opt"])
        restore_opt(self.opt_G, "opt_G", opt["opt_G"], tensors)
        restore_opt(self.opt_D, "opt_D", opt["opt_D"], tensors)
        for group in self.opt_G.param_groups + self.opt_D.param_groups:  # a resume may have changed the lr
            group["lr"] = self.cfg.lr_at(self.cur_res)
        self.gen.set_state(tensors["gen_state"])
        self.rng.bit_generator.state = json.loads(meta["rng"])
        self._tick_acc = _TickAccumulator(counters["tick_start_kimg"])
        if json.loads(meta["dataset"])["key"] != self.report.key:  # training continues on the current files
            self.notes = self.notes + ("the dataset changed since the snapshot; continuing on the current files",)

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
        idx = self.rng.integers(0, len(self.images), n)
        x = torch.from_numpy(self.images[idx]).permute(0, 3, 1, 2).float() / 127.5 - 1.0
        if self.cfg.mirror:
            flip = torch.from_numpy(self.rng.random(n) < 0.5)
            x = torch.where(flip.view(-1, 1, 1, 1), x.flip(3), x)
        if res < x.shape[-1]:
            x = F.avg_pool2d(x, x.shape[-1] // res)
        if alpha < 1.0:
            low = F.interpolate(F.avg_pool2d(x, 2), scale_factor=2, mode="nearest")
            x = torch.lerp(low, x, alpha)
        return x

    def _ws(self, n: int, res: int) -> torch.Tensor:
        """Mapped latents with style-mixing regularisation, [n, num_ws, w_dim]."""
        z = torch.randn(n, self.G.cfg.z_dim, generator=self.gen)
        w = self.G.mapping(z)
        self.G.update_w_avg(w)
        ws = w.unsqueeze(1).repeat(1, self.G.num_ws, 1)
        if torch.rand((), generator=self.gen).item() < self.cfg.style_mixing:
            layers = 2 * int(math.log2(res)) - 2  # layers in use at this resolution
            cross = int(torch.randint(1, max(layers, 2), (), generator=self.gen))
            w2 = self.G.mapping(torch.randn(n, self.G.cfg.z_dim, generator=self.gen))
            ws[:, cross:] = w2.unsqueeze(1)
        return ws

    def _noise(self, n: int, res: int) -> list:
        """Fresh per-image noise maps for every layer up to `res`."""
        maps = []
        for r in self.G.cfg.resolutions:
            use = r <= res and self.cfg.noise_at(r)
            maps += [torch.randn(n, 1, r, r, generator=self.gen) if use else None for _ in (0, 1)]
        return maps

    def _fakes(self, n: int, res: int, alpha: float) -> torch.Tensor:
        return self.G.synthesis(self._ws(n, res), noise=self._noise(n, res), res=res, alpha=alpha)

    def _D(self, img: torch.Tensor, alpha: float) -> torch.Tensor:
        """D's score of images seen through the run's differentiable augmentation."""
        if self.policy:
            img = augment(img, self.policy, self.gen)
        return self.D(img, alpha).float()

    def _autocast(self) -> torch.autocast:
        """bfloat16 autocast for the forward passes when the run asks for it (weights and Adam stay fp32)."""
        return torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.cfg.precision == "bf16")

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
            real_score, fake_score = self._D(reals, alpha), self._D(fakes, alpha)
        loss = F.softplus(fake_score).mean() + F.softplus(-real_score).mean()
        r1 = torch.zeros(())
        if do_r1:
            (grad,) = torch.autograd.grad(real_score.sum(), reals, create_graph=True)
            r1 = grad.square().sum(dim=(1, 2, 3)).mean()
            loss = loss + r1 * (gamma / 2 * lazy)
        return {"loss_d": loss, "r1": r1.detach(), "score_real": real_score.detach().mean(),
                "score_fake": fake_score.detach().mean()}

    def _g_step(self, n: int, res: int, alpha: float) -> torch.Tensor:
        with self._autocast():
            score = self._D(self._fakes(n, res, alpha), alpha)
        return F.softplus(-score).mean()

    def _apply(self, opt: torch.optim.Optimizer, loss: torch.Tensor, module: torch.nn.Module) -> bool:
        """Backward and step unless the loss is not finite; True when stepped."""
        opt.zero_grad(set_to_none=True)
        if not torch.isfinite(loss):
            return False
        loss.backward()
        dist_util.average_grads(module)
        opt.step()
        return True

    def _update_ema(self, n: int) -> None:
        beta = 0.5 ** (n * self.world / (self.cfg.ema_half_life(self.kimg) * 1000.0))
        with torch.no_grad():
            for p_ema, p in zip(self.G_ema.parameters(), self.G.parameters()):
                p_ema.lerp_(p, 1.0 - beta)
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
        ok_d = self._apply(self.opt_D, d["loss_d"], self.D)
        yield None
        self.G.requires_grad_(True)
        self.D.requires_grad_(False)
        loss_g = self._g_step(n, res, alpha)
        ok_g = self._apply(self.opt_G, loss_g, self.G)
        loss_g = loss_g.detach()
        if not (ok_d and ok_g):
            yield self._recover(res)
            return
        self._update_ema(n)
        self.nimg += n * self.world
        self.bad_steps = 0
        yield {"loss_g": loss_g.item(), **{k: float(v.detach()) for k, v in d.items()}, "res": res, "alpha": alpha,
               "n": n * self.world}

    def step(self) -> dict:
        """Train D then G on one minibatch; returns its scalar statistics."""
        *_, out = self._minibatch()
        return out

    def _recover(self, res: int) -> dict:
        """A non-finite loss: the step was not applied; after repeated failures reload the last state."""
        self.bad_steps += 1
        msg = f"non-finite loss at {self.kimg:.2f} kimg: step skipped, weights kept from the last good step"
        if self.bad_steps >= 5:
            path = self.files.latest_state()
            if path is None:
                raise UserError("training diverged (non-finite losses) before the first snapshot")
            self.load_state(path)
            self.cur_res = 0
            msg = f"training diverged; rolled back to {path.name} ({self.kimg:.2f} kimg)"
            self.bad_steps = 0
        return {"message": msg, "res": res, "alpha": self.cfg.phase(self.kimg)[1], "n": 0}

    # ---------------------------------------------------------------- ticks, snapshots, the job
    def fakes_grid(self) -> np.ndarray:
        """G_ema on the run's fixed latents at the current training resolution, shown at full size."""
        res, alpha = self.cfg.phase(self.kimg)
        with torch.no_grad():
            imgs = self.G_ema(self.grid_z, res=res, alpha=alpha)
            if res < self.cfg.resolution:  # layers above `res` are still untrained
                imgs = F.interpolate(imgs, size=self.cfg.resolution, mode="nearest")
        return make_grid(to_uint8(imgs), 8)

    def snapshot(self) -> Path | None:
        """Write the G_ema model file and the full training state now (rank 0 only)."""
        if self.rank != 0:
            return None
        self.save_state(self.files.state_path(self.tick))
        path = self.files.write_model(self)
        self.files.prune(self.cfg.keep_snapshots)
        return path

    def _end_tick(self, stats: "TickStats") -> TrainUpdate:
        snap, fakes = None, None
        if self.rank == 0:
            fakes = self.fakes_grid()
            save_png(self.files.fakes_path(self.tick), fakes, {"kind": "training fakes", "kimg": self.kimg})
            self.files.append_stats(stats)
            if self.tick % self.cfg.snapshot_ticks == 0 or self.kimg >= self.cfg.total_kimg:
                snap = str(self.snapshot())
        return TrainUpdate(self.kimg, self.cfg.total_kimg, stats.resolution, stats.fade, self.tick, stats,
                           snap, fakes)

    def steps(self) -> Iterator[TrainUpdate]:
        """The job: yields halfway through and after every minibatch until total_kimg is reached."""
        acc = self._tick_acc
        while self.kimg < self.cfg.total_kimg:
            # Yielding between the D and G steps halves the longest wait of renders served between units.
            for out in self._minibatch():
                if out is None:
                    res, alpha = self.cfg.phase(self.kimg)
                    yield TrainUpdate(self.kimg, self.cfg.total_kimg, res, alpha, self.tick, partial=True)
            acc.add(out)
            res, alpha = out["res"], out["alpha"]
            if self.kimg >= acc.start_kimg + self.cfg.tick_kimg or self.kimg >= self.cfg.total_kimg:
                self.tick += 1
                stats = acc.finish(self.tick, self.kimg, res, alpha)
                self._tick_acc = acc = _TickAccumulator(self.kimg)  # before the snapshot, which stores it
                yield self._end_tick(stats)
                if self._metric_due():
                    yield from self._measure()
                    acc.t0 = time.time()  # the measurement's time is not the next tick's
            else:
                yield TrainUpdate(self.kimg, self.cfg.total_kimg, res, alpha, self.tick,
                                  message=out.get("message", ""))


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


class _TickAccumulator:
    """Running sums of one tick's statistics."""

    def __init__(self, start_kimg: float = 0.0) -> None:
        self.start_kimg, self.t0, self.sums, self.count, self.images = start_kimg, time.time(), {}, 0, 0

    def add(self, out: dict) -> None:
        if "loss_g" not in out:
            return
        self.count += 1
        self.images += out["n"]
        for k in ("loss_g", "loss_d", "r1", "score_real", "score_fake"):
            self.sums[k] = self.sums.get(k, 0.0) + out[k]
        self.batch = out["n"]

    def finish(self, tick: int, kimg: float, res: int, alpha: float) -> TickStats:
        dt = max(time.time() - self.t0, 1e-9)
        mean = {k: v / max(self.count, 1) for k, v in self.sums.items()}
        ips = self.images / dt
        return TickStats(tick, round(kimg, 3), res, round(alpha, 4), getattr(self, "batch", 0),
                         round(dt / max(self.images / 1000, 1e-9), 2), round(ips, 2), mean.get("loss_g", math.nan),
                         mean.get("loss_d", math.nan), mean.get("r1", math.nan), mean.get("score_real", math.nan),
                         mean.get("score_fake", math.nan), round(time.time(), 2))


def stats_line(s: TickStats) -> str:
    """One human line per tick."""
    return (f"tick {s.tick:<4} kimg {s.kimg:<8.2f} res {s.resolution:<4} fade {s.fade:<5.2f} batch {s.batch:<3} "
            f"{s.sec_per_kimg:7.1f} s/kimg {s.images_per_s:6.1f} img/s  G {s.loss_g:6.3f}  D {s.loss_d:6.3f}  "
            f"R1 {s.r1:7.4f}  real {s.score_real:6.2f} fake {s.score_fake:6.2f}")

