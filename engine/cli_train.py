"""CLI commands for datasets and training: `dataset`, `train`."""
from __future__ import annotations

import argparse
import signal
import sys
import time

from .avatars import build_avatar_zip
from .dataset import validate
from .errors import UserError
from .train_config import TrainConfig
from .train_state import RESUME_OVERRIDES


def register(sub: argparse._SubParsersAction) -> None:
    """Add `dataset` and `train` to the CLI."""
    p = sub.add_parser("dataset", help="build or check a training dataset")
    p.add_argument("kind", choices=("avatars", "check"), help="avatars: generate faces; check: validate PATH")
    p.add_argument("path", nargs="?", help="folder or zip to check (for 'check')")
    p.add_argument("--count", type=int, default=20000)
    p.add_argument("--resolution", type=int, help="image size (avatars: default 64; check: chosen from the images)")
    p.add_argument("--seed", type=int, default=0, help="first avatar seed (avatar i uses seed+i)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--out", help="zip to write (for 'avatars')")
    p.set_defaults(run=run_dataset)
    p = sub.add_parser("train", help="train a StyleGAN v1 on a folder or zip of images")
    p.add_argument("--data", help="folder or zip of images")
    p.add_argument("--out", help="new run directory")
    p.add_argument("--resume", help="run directory to continue")
    p.add_argument("--resolution", type=int, default=64)
    p.add_argument("--kimg", type=float, help="total length in thousands of images (0.1 = 100; default 100); "
                   "with --resume a larger value extends the run")
    p.add_argument("--batch", type=int, default=0, help="minibatch (default: per resolution)")
    # None marks "not given": a resumed run keeps its stored value unless one is given.
    p.add_argument("--gamma", type=float, help="R1 weight (default 10)")
    p.add_argument("--lr", type=float, help="Adam learning rate (default 0.001: official per-resolution schedule)")
    p.add_argument("--r1-interval", type=int, help="lazy R1: penalty every N steps (default 1)")
    p.add_argument("--mirror", action=argparse.BooleanOptionalAction, default=True, help="x-flip augmentation")
    p.add_argument("--no-growing", action="store_true", help="train at full resolution from the start")
    p.add_argument("--start-res", type=int, default=8)
    p.add_argument("--fade-kimg", type=float, default=10.0)
    p.add_argument("--stable-kimg", type=float, default=10.0)
    p.add_argument("--channels", type=int, default=64)
    p.add_argument("--z-dim", type=int, default=128)
    p.add_argument("--ema-kimg", type=float, help="G_ema half-life in kimg (default 2; official 10)")
    p.add_argument("--tick-kimg", type=float, default=1.0)
    p.add_argument("--snapshot-ticks", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--precision", choices=("fp32", "bf16"),
                   help="bf16: bfloat16 autocast for convolutions and dense layers (weights stay fp32)")
    p.set_defaults(run=run_train)


def run_dataset(args: argparse.Namespace) -> int:
    """`dataset avatars` builds a zip; `dataset check PATH` prints the validation report."""
    if args.kind == "check":
        if not args.path:
            raise UserError("dataset check needs a PATH")
        report, _ = validate(args.path, args.resolution or 0)
        print(report.summary())
        for name, reason in report.skipped:
            print(f"  skipped {name}: {reason}")
        return 0
    if not args.out:
        raise UserError("dataset avatars needs --out FILE.zip")
    if args.count < 1:
        raise UserError("--count must be at least 1")
    t0 = time.time()
    res = args.resolution or 64
    build_avatar_zip(args.out, args.count, res, args.seed, args.workers, progress=lambda d, n: _bar(d, n, "avatars"))
    print(f"\nwrote {args.out}: {args.count} avatars at {res}² in {time.time() - t0:.1f} s")
    return 0


def _bar(done: float, total: float, what: str) -> None:
    if not sys.stderr.isatty():
        return
    width = 30
    fill = int(width * min(done / max(total, 1e-9), 1.0))
    sys.stderr.write(f"\r{what} [{'#' * fill}{'.' * (width - fill)}] {done:g}/{total:g}")
    sys.stderr.flush()


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """TrainConfig from the command line."""
    return TrainConfig(data=args.data or "", resolution=args.resolution, channels=args.channels,
                       z_dim=args.z_dim, total_kimg=args.kimg or 100.0, growing=not args.no_growing,
                       start_res=args.start_res, fade_kimg=args.fade_kimg, stable_kimg=args.stable_kimg,
                       batch=args.batch, mirror=args.mirror, tick_kimg=args.tick_kimg,
                       snapshot_ticks=args.snapshot_ticks, seed=args.seed,
                       **{k: v for k, v in _overrides(args).items() if v is not None})


def _overrides(args: argparse.Namespace) -> dict:
    """The settings given on the command line that a resumed run may change (None: not given)."""
    return {name: getattr(args, name) for name in RESUME_OVERRIDES}  # CLI dests share the field names


class _Interrupt:
    """Ctrl-C sets a flag; the loop finishes its minibatch, snapshots and exits 0."""

    def __init__(self) -> None:
        self.hit = False
        self.prev = signal.signal(signal.SIGINT, self._handle)

    def _handle(self, *_: object) -> None:
        self.hit = True

    def restore(self) -> None:
        signal.signal(signal.SIGINT, self.prev)


def run_train(args: argparse.Namespace) -> int:
    """`train`: run (or resume) a training job with one line per tick."""
    from .training import TrainingRun, stats_line
    if not args.resume and not (args.data and args.out):
        raise UserError("train needs --data and --out (or --resume RUNDIR)")
    if args.resume:
        run = TrainingRun(None, args.resume, resume=True, total_kimg=args.kimg, overrides=_overrides(args))
    else:
        run = TrainingRun(config_from_args(args), args.out)
    lead = run.rank == 0
    if lead:
        print(f"dataset: {run.report.summary()}")
        for name, reason in run.report.skipped:
            print(f"  skipped {name}: {reason}")
        if getattr(run, "dataset_changed", False):
            print("note: the dataset changed since the snapshot; continuing on the current files")
    stop = _Interrupt()
    try:
        for update in run.steps():
            if lead:
                _bar(round(update.kimg, 3), run.cfg.total_kimg, f"res {update.resolution}")
                if update.message:
                    print(f"\n{update.message}")
                if update.tick_stats:
                    print("\r" + stats_line(update.tick_stats) + " " * 10)
            if stop.hit and not update.partial:  # a minibatch is never left half done
                path = run.snapshot()
                if lead:
                    print(f"\ninterrupted at {run.kimg:.2f} kimg; snapshot {path}")
                return 0
    finally:
        stop.restore()
    if lead:
        print(f"done: {run.kimg:.2f} kimg; latest snapshot {run.files.snapshots()[-1]}")
    return 0

