"""One lent GPU session, start to end: `python -m engine.cli.gpu_session --out $OUT` (docs/gpu-training.md).

It installs the carried wheels, generates the avatars with every core, measures images/s of a few widths
and batches for a few seconds each, trains the widest width that still reaches the target kimg in the time
left (else the fastest, saying what limited it) until its wall-clock budget, and leaves in --out what the
device copies back: the newest G_ema (fp16 above 16 MiB), fakes.png, stats.jsonl (with the diversity
figure per tick), the resume kit, session.json and curve.safetensors (G_ema at a few earlier kimg, for the
FID curve measured back on the CPU). On a CPU with tiny settings the same code is the
rehearsal (tests/cli/test_gpu_session.py).

Only the standard library is imported before the wheels are installed: the engine needs platformdirs,
which the GPU machine lacks.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SITE = "/tmp/site"  # where the carried wheels are installed (the device README's line)
# The recipe of the long run: `train`'s defaults (docs/training-recipe.md) at one resolution (no growing),
# with issue 12's larger minibatch-stddev group against collapse and the official G_ema half-life.
RECIPE = {"growing": False, "mbstd_group": 16, "ema_kimg": 10.0, "lr": 0.002}
# Augmentation (--augment-p): none by default. On 100k avatars no augmentation led at 20 kimg, and a 64-map D
# after 6.4 epochs scored its training images no higher than unseen ones (r_t 0.689 vs 0.681) while its r_t
# sat above auto's 0.6 target, so auto would augment a D that is not memorising (docs/training-recipe.md,
# "Is D memorising?"). The session measures that gap at its end (the "memorisation" stage) for the next one.
AUGMENT_CHOICES = ("none", "auto")
# Unseen avatars for that gap: the held-out seeds (1,000,000+, as the CPU's FID set).
HELDOUT_SEED = 1_000_000
# The FID curve: G_ema at up to CURVE_POINTS evenly spaced kimg before the end, float16, in one file of at most
# CURVE_BYTES (--out returns 8 files, 64 MiB together: with the kit, G_ema and the rest, width 128 stays under).
CURVE_FILE, CURVE_POINTS, CURVE_BYTES = "curve.safetensors", 6, 12 << 20


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The session's settings; the defaults are the lent GPU's run."""
    p = argparse.ArgumentParser(prog="gpu_session", description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, help="folder the device copies back ($OUT)")
    p.add_argument("--work", default="/tmp/gpu-session", help="local folder for the avatars and the run")
    p.add_argument("--wheels", help="folder of carried wheels to install first (skipped when all import)")
    p.add_argument("--seconds", type=float, default=560.0, help="wall-clock budget of the whole session")
    p.add_argument("--reserve", type=float, default=15.0, help="seconds kept for the last snapshot and summary")
    p.add_argument("--count", type=int, default=100_000, help="avatars to generate")
    p.add_argument("--resolution", type=int, default=64)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes generating avatars")
    p.add_argument("--widths", type=int, nargs="+", default=[128, 192, 256], help="candidate G/D feature maps")
    p.add_argument("--batches", type=int, nargs="+", default=[64, 128, 256, 512], help="candidate minibatches")
    p.add_argument("--measure-seconds", type=float, default=20.0, help="time measuring all candidates together")
    p.add_argument("--target-kimg", type=float, default=1000.0, help="kimg the chosen candidate must reach")
    p.add_argument("--precision", default="fp32", choices=("fp32", "bf16"))
    p.add_argument("--architecture", default="stylegan1", choices=("stylegan1", "stylegan2"),
                   help="what the run trains (train --architecture)")
    p.add_argument("--compile", action="store_true", help="torch.compile the nets (measured as part of each candidate)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--augment-p", type=augment_choice,
                   help="D's augmentation: none (a new run's default), auto (train's default: adaptive p), or a "
                   "fixed probability; with --resume-kit it changes the resumed run's (default: kept)")
    p.add_argument("--smoke", action=argparse.BooleanOptionalAction, default=True,
                   help="first a few seconds of the training path on random images (--no-smoke: on a machine that "
                   "already passed it, a warm rerun)")
    p.add_argument("--resume-kit", metavar="FOLDER", help="continue an earlier session's run from the resume kit "
                   "it returned (resume-*.safetensors, stats.jsonl) instead of measuring and starting afresh")
    return p.parse_args(argv)


def augment_choice(text: str) -> str:
    """--augment-p's value: none, auto or a probability in [0, 1]."""
    if text in AUGMENT_CHOICES:
        return text
    try:
        if 0.0 <= float(text) <= 1.0:
            return text
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"{text!r}: give none, auto or a probability in [0, 1]")


def augment_settings(choice: str | None) -> dict:
    """The TrainConfig fields of an --augment-p choice (None: a new run's default, none); auto and a number
    augment with train's default operations."""
    from ..contract.training import TrainConfig  # deliberate: only after install_wheels (see the docstring)
    if choice in (None, "none"):
        return {"augment": ""}
    return {"augment": TrainConfig().augment, "augment_p": None if choice == "auto" else float(choice)}


def install_wheels(folder: str | None) -> str:
    """pip-install the carried wheels into SITE and put it on sys.path; '' when nothing was missing."""
    missing = [m for m in ("python_avatars", "resvg_py", "platformdirs") if importlib.util.find_spec(m) is None]
    if not missing:
        return ""
    if not folder:
        raise SystemExit(f"gpu_session: {', '.join(missing)} missing and no --wheels folder given")
    wheels = sorted(str(p) for p in Path(folder).glob("*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--no-compile",
                    "--no-cache-dir", "--upgrade", "--target", SITE, *wheels], check=True)
    sys.path.insert(0, SITE)
    os.environ["PYTHONPATH"] = os.pathsep.join([SITE, os.environ.get("PYTHONPATH", "")])  # the avatar workers
    return f"installed {len(wheels)} wheels into {SITE}"


class Session:
    """The session's clock, log and summary (session.json in --out, rewritten after every stage)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args, self.t0 = args, time.time()
        self.out = Path(args.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.summary = {"settings": vars(args), "stages": {}}

    def left(self) -> float:
        """Seconds of the budget left."""
        return self.args.seconds - (time.time() - self.t0)

    def stage(self, name: str, t_start: float, **info) -> None:
        """Record a finished stage and say it."""
        self.summary["stages"][name] = {"seconds": round(time.time() - t_start, 1), **info}
        print(f"[{time.time() - self.t0:6.1f} s] {name}: {json.dumps(self.summary['stages'][name])}", flush=True)
        self.save()

    def save(self) -> None:
        from ..files.fileio import atomic_write_bytes  # deliberate: only after install_wheels (see the docstring)
        atomic_write_bytes(self.out / "session.json", json.dumps(self.summary, indent=1).encode())


def candidate_config(args: argparse.Namespace, data: str, width: int, batch: int, **kw):
    """The TrainConfig of one candidate: the session recipe at `width` and `batch`."""
    from ..contract.training import TrainConfig  # deliberate: only after install_wheels (see the docstring)
    return TrainConfig(data=data, resolution=args.resolution, channels=width, batch=batch, seed=args.seed,
                       precision=args.precision, compile=args.compile, architecture=args.architecture,
                       **{**RECIPE, **augment_settings(args.augment_p), **kw})


def measure(args: argparse.Namespace, data: str, loaded, work: Path, seconds: float) -> list[dict]:
    """images/s of every (width, batch) candidate, each for an equal share of `seconds` after a warm-up."""
    import torch  # deliberate: only after install_wheels (see the docstring)
    from ..train.run import TrainingRun  # deliberate: only after install_wheels (see the docstring)
    pairs = [(w, b) for w in args.widths for b in args.batches]
    share = seconds / len(pairs)
    rows = []
    for i, (width, batch) in enumerate(pairs):
        cfg = candidate_config(args, data, width, batch, total_kimg=1e6, tick_kimg=1e6)  # no tick while timed
        try:
            row = time_candidate(TrainingRun(cfg, tempfile.mkdtemp(prefix=f"candidate-{i}-", dir=work),
                                             data=loaded), share)
        except torch.cuda.OutOfMemoryError:
            row = {"images_per_s": 0.0, "error": "out of GPU memory"}
        rows.append({"width": width, "batch": batch, **row})
        print(f"  width {width:4} batch {batch:4}: {json.dumps(row)}", flush=True)
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    return rows


def time_candidate(run, seconds: float) -> dict:
    """images/s of `run`'s training loop over whole R1 periods for about `seconds`, after one period of warm-up."""
    import torch  # deliberate: only after install_wheels (see the docstring)
    cuda = run.device.type == "cuda"
    if cuda:
        torch.cuda.reset_peak_memory_stats(run.device)
    t_build, steps = time.time(), run.steps()
    lazy = run.cfg.r1_interval  # whole R1 periods, so every candidate pays its share of the penalty

    def minibatches(k: int) -> None:
        done = 0
        while done < k:
            done += not next(steps).partial

    minibatches(lazy)  # warm-up: cuDNN's autotuner, allocator, compile when asked
    sync(run.device)
    warm = time.time() - t_build
    t, n = time.time(), 0
    while n == 0 or time.time() - t < seconds:
        minibatches(lazy)
        n += lazy
        sync(run.device)
    ips = n * run.cfg.batch / (time.time() - t)
    row = {"images_per_s": round(ips, 1), "G_params": sum(p.numel() for p in run.G.parameters()),
           "warmup_s": round(warm, 1), "minibatches": n}
    if cuda:  # how far the batch is from filling the card's memory
        row["peak_gib"] = round(torch.cuda.max_memory_allocated(run.device) / 2 ** 30, 2)
    return row


def smoke(args: argparse.Namespace, work: Path) -> None:
    """A few seconds of the whole training path on random images (in a subprocess, so CUDA starts after the
    avatar workers fork): a failure here costs seconds of device time, not the session."""
    code = "import sys; from engine.cli.gpu_session import smoke_run; smoke_run(*sys.argv[1:6])"
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    subprocess.run([sys.executable, "-c", code, tempfile.mkdtemp(prefix="smoke-", dir=work), args.precision,
                    "1" if args.compile else "", args.architecture, args.augment_p or "none"], check=True, env=env,
                   cwd=root)


def smoke_run(folder: str, precision: str, compile_: str, architecture: str = "stylegan1",
              augment_p: str = "none") -> None:
    """The smoke test's body: 2 ticks of a width-8 run at 16² with an export folder, then its kit resumed."""
    import numpy as np  # deliberate: only after install_wheels (see the docstring)
    from ..contract.training import TrainConfig  # deliberate: only after install_wheels (see the docstring)
    from ..files.dataset import DatasetReport  # deliberate: only after install_wheels (see the docstring)
    from ..train.run import TrainingRun  # deliberate: only after install_wheels (see the docstring)
    from ..train.state import import_kit  # deliberate: only after install_wheels (see the docstring)
    images = np.random.default_rng(0).integers(0, 256, (64, 16, 16, 3), dtype=np.uint8)
    data = (images, DatasetReport("random", 64, 16, (), "random"))
    cfg = TrainConfig(data="random", resolution=16, channels=8, batch=16, total_kimg=0.064, tick_kimg=0.032,
                      snapshot_ticks=1, precision=precision, compile=bool(compile_), architecture=architecture,
                      **RECIPE, **augment_settings(augment_p))
    run = TrainingRun(cfg, Path(folder) / "run", export=Path(folder) / "out", data=data)
    for _ in run.steps():
        pass
    import_kit(Path(folder) / "out", Path(folder) / "again")
    again = TrainingRun(None, Path(folder) / "again", resume=True, total_kimg=0.096, data=data)
    for _ in again.steps():
        pass
    print(f"smoke: {run.device}, {again.kimg:.3f} kimg after a resume from the kit", flush=True)


def sync(device) -> None:
    """Wait for the device (timing only)."""
    import torch  # deliberate: only after install_wheels (see the docstring)
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def choose(rows: list[dict], seconds: float, target: float) -> tuple[dict, str]:
    """The widest width reaching `target` kimg in `seconds` (its smallest such batch: the most steps per kimg);
    else the fastest candidate, with the reason."""
    reach = [r for r in rows if r["images_per_s"] * seconds / 1000 >= target]
    if reach:
        width = max(r["width"] for r in reach)
        pick = min((r for r in reach if r["width"] == width), key=lambda r: r["batch"])
        return pick, (f"widest width reaching {target:g} kimg in {seconds:.0f} s: width {width}, batch "
                      f"{pick['batch']} ({pick['images_per_s'] * seconds / 1000:.0f} kimg expected)")
    best = max(rows, key=lambda r: r["images_per_s"])
    return best, (f"no candidate reaches {target:g} kimg in {seconds:.0f} s: limited by throughput; the fastest "
                  f"(width {best['width']}, batch {best['batch']}, {best['images_per_s']:.0f} img/s) reaches "
                  f"{best['images_per_s'] * seconds / 1000:.0f} kimg")


def main(argv: list[str] | None = None) -> int:
    """The whole session; returns 0 when the run ended by its budget or its length."""
    args = parse(argv)
    session = Session(args)
    t = time.time()
    note = install_wheels(args.wheels)
    session.stage("wheels", t, note=note or "all present")

    import torch  # deliberate: only after install_wheels (see the docstring)
    from ..train.avatars import build_avatar_zip  # deliberate: only after install_wheels (see the docstring)
    from ..files.dataset import load_images  # deliberate: only after install_wheels (see the docstring)
    from ..train.run import TrainingRun  # deliberate: only after install_wheels (see the docstring)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("STYLEGAN_STUDIO_CACHE", str(work / "cache"))

    if args.smoke:
        t = time.time()
        smoke(args, work)
        session.stage("smoke", t, note="a tiny run on random images: minibatches, ticks, snapshots, export, resume")
    t = time.time()
    data = work / f"avatars{args.resolution}-{args.count}.zip"
    n_unseen = heldout_count(args)
    heldout = work / f"heldout{args.resolution}-{n_unseen}.zip"
    for zip_path, count, seed in ((data, args.count, 0), (heldout, n_unseen, HELDOUT_SEED)):
        if not zip_path.is_file():
            build_avatar_zip(zip_path, count, args.resolution, seed=seed, workers=args.workers)
    session.stage("avatars", t, count=args.count, heldout=n_unseen, workers=args.workers)

    t = time.time()
    loaded = load_images(data, args.resolution, workers=args.workers)
    unseen = load_images(heldout, args.resolution, workers=args.workers)[0]
    session.stage("load", t, images=loaded[1].count, heldout=len(unseen))
    # Only now touch CUDA: the avatar and decoding workers are forked, and a forked CUDA context is unusable.
    session.summary["device"] = torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"
    session.summary["torch"] = torch.__version__

    if args.resume_kit:
        return resume(session, loaded, unseen, work)
    t = time.time()
    rows = measure(args, str(data), loaded, work, args.measure_seconds)
    session.summary["candidates"] = rows
    train_s = session.left() - args.reserve
    # Ticks (fakes, diversity) and snapshots (state, export) are not in the timed minibatches: allow 10 %.
    usable = [r for r in rows if r["images_per_s"] > 0]
    if not usable:
        raise SystemExit("gpu_session: every candidate ran out of GPU memory; give smaller --widths or --batches")
    pick, reason = choose(usable, 0.9 * train_s, args.target_kimg)
    session.stage("measure", t, chosen={"width": pick["width"], "batch": pick["batch"]}, reason=reason)

    expected = pick["images_per_s"] * 0.9 * train_s / 1000
    tick = max(expected / 50, 1e-3)  # ~50 ticks: a stats line, fakes grid and diversity figure each
    cfg = candidate_config(args, str(data), pick["width"], pick["batch"], total_kimg=1e6,
                           tick_kimg=round(tick, 3), snapshot_ticks=5, keep_snapshots=1)
    t = time.time()
    run = TrainingRun(cfg, tempfile.mkdtemp(prefix="run-", dir=work), export=session.out, data=loaded)
    return train(session, run, t, expected, unseen)


def heldout_count(args: argparse.Namespace) -> int:
    """Unseen avatars for the memorisation stage: as many as it measures, fewer in a rehearsal's tiny dataset."""
    from ..train.memorisation import COUNT  # deliberate: only after install_wheels (see the docstring)
    return min(COUNT, args.count)


def resume(session: Session, loaded, unseen, work: Path) -> int:
    """Continue the run of an earlier session's resume kit until this session's budget (its stats continue too)."""
    from ..train.run import TrainingRun  # deliberate: only after install_wheels (see the docstring)
    from ..train.state import import_kit  # deliberate: only after install_wheels (see the docstring)
    t = time.time()
    run_dir = Path(tempfile.mkdtemp(prefix="resumed-", dir=work))
    import_kit(Path(session.args.resume_kit), run_dir)
    stats = run_dir / "stats.jsonl"
    if stats.is_file():  # the export's stats.jsonl continues the earlier session's
        (session.out / "stats.jsonl").write_bytes(stats.read_bytes())
    changes = augment_settings(session.args.augment_p) if session.args.augment_p else None
    run = TrainingRun(None, run_dir, resume=True, export=session.out, data=loaded, overrides=changes)
    session.stage("resume", t, kimg=round(run.kimg, 3), width=run.cfg.channels, batch=run.cfg.batch,
                  augment=run.cfg.augment, augment_p=run.cfg.augment_p,
                  kit=str(session.args.resume_kit), notes=list(run.notes))
    last = [json.loads(line) for line in stats.read_text().splitlines()[-1:]] if stats.is_file() else []
    rate = last[0].get("images_per_s", 0.0) if last else 0.0  # the earlier session's pace, for the curve's spacing
    return train(session, run, time.time(), rate * 0.9 * (session.left() - session.args.reserve) / 1000, unseen)


class CurvePoints:
    """Keeps G_ema at evenly spaced kimg of the run in --out (CURVE_FILE), so its FID curve is measured back on
    the CPU; the last point is the run's end (G_ema.safetensors), so these lie before it."""

    def __init__(self, out: Path, run, expected_kimg: float) -> None:
        from ..files.curvefile import CurveWriter  # deliberate: only after install_wheels (see the docstring)
        self.run, self.writer = run, CurveWriter(out / CURVE_FILE, CURVE_BYTES)
        slots = min(CURVE_POINTS, self.writer.room(run.G_ema)) if expected_kimg > 0 else 0
        self.marks = [run.kimg + expected_kimg * (i + 1) / (slots + 1) for i in range(slots)]

    def __call__(self, update) -> None:
        """After a snapshot past the next mark (not the deadline's last one: that is G_ema.safetensors): add G_ema."""
        if self.marks and update.snapshot_path and not update.out_of_time and self.run.kimg >= self.marks[0]:
            self.writer.add(self.run.G_ema, self.run.kimg)
            while self.marks and self.run.kimg >= self.marks[0]:
                self.marks.pop(0)


def train(session: Session, run, t: float, expected_kimg: float, unseen) -> int:
    """Train `run` until the session's deadline (keeping the curve's points), record the stage, then how D
    scores training against unseen avatars."""
    from .train import drive  # deliberate: only after install_wheels (see the docstring)
    curve = CurvePoints(session.out, run, expected_kimg)
    drive(run, deadline=session.t0 + session.args.seconds - session.args.reserve, on_update=curve)
    ticks = [json.loads(line) for line in (session.out / "stats.jsonl").read_text().splitlines()]
    session.stage("train", t, kimg=round(run.kimg, 3), ticks=run.tick, width=run.cfg.channels, batch=run.cfg.batch,
                  run_dir=str(run.files.root), last_tick_images_per_s=ticks[-1]["images_per_s"] if ticks else None,
                  diversity=[x.get("diversity") for x in ticks], curve_kimg=[k for k, _ in curve.writer.points])
    memorisation_stage(session, run, unseen)
    session.summary["files"] = sorted(p.name for p in session.out.iterdir())
    session.save()
    return 0


def memorisation_stage(session: Session, run, unseen) -> None:
    """D's r_t and mean score on training avatars, unseen ones and fakes (seconds on a GPU); the run's files are
    written already, so a failure here is recorded, not raised."""
    from ..train import memorisation  # deliberate: only after install_wheels (see the docstring)
    t = time.time()
    try:
        result = memorisation.measure(run, run.images[:len(unseen)], unseen, len(unseen))
    except Exception as exc:  # noqa: BLE001 (deliberate: the run is saved; say what failed and finish)
        session.stage("memorisation", t, error=f"{type(exc).__name__}: {exc}")
        return
    session.stage("memorisation", t, **result)
    print(memorisation.table(result), flush=True)


if __name__ == "__main__":
    sys.exit(main())
