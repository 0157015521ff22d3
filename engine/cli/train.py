"""CLI commands for datasets and training: `dataset`, `train`, `timelapse`."""
from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

from ..train.avatars import build_avatar_zip
from ..files.dataset import validate
from ..contract.errors import UserError
from ..contract.training import MODEL_OPTIONS, TrainConfig, option_kind, options
from ..contract.messages import MakeAvatars
from ..train.state import RESUME_OVERRIDES, import_kit
from ..train.run import Drive, TrainingRun, stats_line
from ..train.timelapse import timelapse_job


def register(sub: argparse._SubParsersAction) -> None:
    """Add `dataset`, `train` and `timelapse` to the CLI."""
    p = sub.add_parser("dataset", help="build or check a training dataset")
    p.add_argument("kind", choices=("avatars", "check"), help="avatars: generate faces; check: validate PATH")
    p.add_argument("path", nargs="?", help="folder or zip to check (for 'check')")
    p.add_argument("--count", type=int, default=20000)
    p.add_argument("--resolution", type=int, help="image size (avatars: default 64; check: chosen from the images)")
    p.add_argument("--seed", type=int, default=0, help="first avatar seed (avatar i uses seed+i)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--out", help="zip to write (for 'avatars')")
    p.set_defaults(run=run_dataset)
    p = sub.add_parser("train", help="train a StyleGAN v1 or StyleGAN2 on a folder or zip of images, or "
                       "fine-tune a model")
    p.add_argument("--out", help="new run directory")
    p.add_argument("--resume", help="run directory to continue (a larger --kimg extends it; the settings "
                   "marked 'resumable' may change)")
    p.add_argument("--resume-kit", metavar="FOLDER", help="continue the run whose resume kit (resume-*.safetensors, "
                   "from --export) FOLDER holds, in a new run directory --out")
    p.add_argument("--minutes", type=float, help="wall-clock budget: after it the run snapshots and exits 0")
    p.add_argument("--export", metavar="FOLDER", help="also write the newest G_ema (fp16 above 16 MiB), fakes.png, "
                   "stats.jsonl and a resume kit into FOLDER as they are made (e.g. a GPU machine's $OUT)")
    for f in options():
        add_option(p, f)
    p.set_defaults(run=run_train)
    p = sub.add_parser("timelapse", help="a training run's fakes grids, tick after tick, as a video")
    p.add_argument("run_dir", metavar="RUNDIR", help="the run directory")
    p.add_argument("--out", required=True, help="video file: .mp4, .webm, .gif or .webp")
    p.add_argument("--fps", type=int, default=10, help="grids per second")
    p.add_argument("--quality", type=int, default=80, help="0-100")
    p.add_argument("--width", type=int, help="frame width in px, the grid (8 faces wide) resized by nearest "
                   "neighbour (default: enlarged a whole number of times to at least 1024 px)")
    p.set_defaults(run=run_timelapse)


def run_timelapse(args: argparse.Namespace) -> int:
    """`timelapse`: encode a run's fakes grids, each captioned with its tick and kimg."""
    done = total = 0
    for done, total in timelapse_job(args.run_dir, args.out, args.fps, args.quality, args.width):
        _bar(done, total, "timelapse")
    print(f"\nwrote {args.out} ({done} grids at {args.fps} fps)")
    return 0


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
    t0 = time.time()
    res = args.resolution or 64
    MakeAvatars(args.out, args.count, res, args.seed)  # the window's checks: count, size, seed
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


def flag_of(f) -> str:
    """The command-line flag of a TrainConfig field (--kimg for total_kimg)."""
    return "--" + (f.metadata["flag"] or f.name.replace("_", "-"))


def add_option(p: argparse.ArgumentParser, f) -> None:
    """One TrainConfig field as a flag; every flag defaults to None, meaning "not given"."""
    meta, kind = f.metadata, option_kind(f)
    flag = flag_of(f)
    default = "auto" if f.default is None else f.default if f.default != "" else "none"
    help_text = f"{meta['help']} (default {default!s}{'; resumable' if meta['resume'] else ''})"
    if kind == "bool":
        p.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        return
    types = {"int": int, "float": float, "auto-float": _auto_float, "str": str,
             "choice": type(meta["choices"][-1]) if meta["choices"] else str}
    choices = [c for c in meta["choices"] if c != ""] + (["none"] if "" in meta["choices"] else [])
    name = meta["pick"][0].rstrip("…") if meta.get("pick") else flag[2:]  # --init MODEL, not --init INIT
    p.add_argument(flag, dest=f.name, type=types[kind], choices=choices or None, default=None, help=help_text,
                   metavar=None if choices else name.upper().replace("-", "_"))


def _auto_float(text: str) -> float | str:
    if text == "auto":
        return "auto"
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'auto', got {text!r}") from None


def given_options(args: argparse.Namespace, names: tuple[str, ...] | None = None) -> dict:
    """The TrainConfig settings given on the command line ('auto' → None, 'none' → '')."""
    out = {}
    for f in options():
        v = getattr(args, f.name, None)
        if v is None or (names is not None and f.name not in names):
            continue
        out[f.name] = None if v == "auto" else "" if v == "none" else v
    return out


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """TrainConfig from the command line."""
    return TrainConfig(**given_options(args))


def _unused_by_init(args: argparse.Namespace, cfg: TrainConfig) -> tuple[str, ...]:
    """A note naming the architecture flags a run started from a model (--init) did not use."""
    unused = {k: v for k, v in given_options(args, MODEL_OPTIONS).items() if cfg.init and v != getattr(cfg, k)}
    if not unused:
        return ()
    flags = ", ".join(f"--{k.replace('_', '-')} {v}" for k, v in unused.items())
    return (f"{flags} not used: a run started from a model takes its architecture, without growing",)


def _kept_on_resume(args: argparse.Namespace, cfg: TrainConfig) -> tuple[str, ...]:
    """A note naming the flags a resumed run did not take: it keeps its architecture, schedule and seed."""
    kept = {k: v for k, v in given_options(args).items() if k not in RESUME_OVERRIDES and v != getattr(cfg, k)}
    if not kept:
        return ()
    flag = {f.name: flag_of(f) for f in options()}
    notes = []
    if "total_kimg" in kept:   # a longer length is taken; only a shorter one ends here
        notes.append(f"{flag['total_kimg']} {kept.pop('total_kimg')} not used: a resume can make a run longer, not "
                     f"shorter (it is {cfg.total_kimg:g} kimg)")
    if kept:
        flags = ", ".join(f"{flag[k]} {v}" for k, v in kept.items())
        notes.append(f"{flags} not used: a resumed run keeps its own (the settings marked 'resumable' in --help may "
                     "change)")
    return tuple(notes)


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
    if args.minutes is not None and args.minutes <= 0:
        raise UserError("--minutes must be positive")
    deadline = time.time() + args.minutes * 60 if args.minutes else None
    if args.resume_kit:
        if not args.out:
            raise UserError("--resume-kit needs --out, the new run directory")
        import_kit(Path(args.resume_kit), Path(args.out))
        args.resume = args.out
    if not args.resume and not (args.data and args.out):
        raise UserError("train needs --data and --out (or --resume RUNDIR)")
    if args.resume:
        run = TrainingRun(None, args.resume, resume=True, total_kimg=args.total_kimg,
                          overrides=given_options(args, RESUME_OVERRIDES), export=args.export)
    else:
        run = TrainingRun(config_from_args(args), args.out, export=args.export)
    notes = _kept_on_resume(args, run.cfg) if args.resume else _unused_by_init(args, run.cfg)
    return drive(run, deadline, resumed=bool(args.resume), extra_notes=notes)


def drive(run, deadline: float | None = None, resumed: bool = False, extra_notes: tuple[str, ...] = (),
          on_update=None) -> int:
    """Run `run` to its end, its deadline (time.time()) or Ctrl-C, printing one line per tick; returns 0.

    `on_update(update)`: called after every update (e.g. to keep a snapshot of a curve)."""
    lead = run.rank == 0
    if lead:
        print(f"dataset: {run.report.summary()}")
        for name, reason in run.report.skipped:
            print(f"  skipped {name}: {reason}")
        if resumed:
            print(f"resumed at {run.kimg:.3f} kimg (tick {run.tick}) from {run.resumed_from.name}")
        for note in run.notes + extra_notes:
            print(f"note: {note}")
        print(f"device: {run.device}")
    stop = _Interrupt()
    driver = Drive(run, lambda: stop.hit, deadline)
    try:
        for update in driver:
            if on_update is not None:
                on_update(update)
            if lead:
                _bar(round(update.kimg, 3), run.cfg.total_kimg, f"res {update.resolution}")
                if update.message:
                    print(f"\n{update.message}")
                if update.tick_stats:
                    spread = f"  diversity {update.diversity:.3f}" if update.diversity is not None else ""
                    print("\r" + stats_line(update.tick_stats) + spread + " " * 10, flush=True)
    finally:
        stop.restore()
    if lead:
        end = driver.end
        print(f"snapshot {end.snapshot}" if end.status == "out of time"
              else f"\ninterrupted at {run.kimg:.2f} kimg; snapshot {end.snapshot}" if end.status == "stopped"
              else f"done: {run.kimg:.2f} kimg; latest snapshot {end.snapshot}")
    return 0

