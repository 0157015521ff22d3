"""Training speed: images/s at 16², 32², 64² for the paper-shaped and small models (prints a table).

Run: python bench/bench_train.py [--data ZIP] [--steps N] [--precision fp32 bf16]   (builds a small avatar zip when --data is absent)
     python bench/bench_train.py --base DIR [--data ZIP] [--rounds N] [--threads 1]

--base DIR times the bundled model's configuration (64², 64 channels, minibatch 32, the default recipe:
augmentation, lazy R1 every 4 steps) with this checkout's engine and with the engine of DIR (a checkout or
`git worktree` of an older commit, imported under another name), one minibatch of each in turn, so load
from other processes falls on both alike; R1 steps and plain steps are reported apart.
"""
from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
import tempfile
import time

from stylegan_studio.app.main import reexec_tuned  # no Qt: the launcher's tuning, one place

reexec_tuned(sys.argv, window=False)  # platform.md: malloc tuning is effective only from process start

from stylegan_studio.engine.train.avatars import build_avatar_zip  # noqa: E402
from stylegan_studio.engine.contract.training import TrainConfig  # noqa: E402
from stylegan_studio.engine.train.run import TrainingRun  # noqa: E402


def measure(data: str, res: int, channels: int, z_dim: int, batch: int, steps: int, r1: int,
            precision: str = "fp32") -> float:
    """Images/s over `steps` minibatches after two warm-up steps, at a fixed resolution."""
    with tempfile.TemporaryDirectory() as tmp:
        cfg = TrainConfig(data=data, resolution=res, channels=channels, z_dim=z_dim, growing=False,
                          batch=batch, total_kimg=1e6, r1_interval=r1, precision=precision)
        run = TrainingRun(cfg, os.path.join(tmp, "run"))
        run.step(), run.step()
        t = time.perf_counter()
        for _ in range(steps):
            run.step()
        return steps * batch / (time.perf_counter() - t)


def same_run(data: str, base: str, rounds: int, threads: int) -> None:
    """Minibatch times of this engine and `base`'s, interleaved, on the bundled model's configuration."""
    from bench_compare import load, load_engine, machine
    import torch
    torch.set_num_threads(threads)
    engines = {"this checkout": "stylegan_studio.engine", "base": load_engine(base, "base_engine").__name__}
    runs = {}
    for name, pkg in engines.items():
        cfg = importlib.import_module(f"{pkg}.train.config").TrainConfig(
            data=data, resolution=64, channels=64, growing=False, batch=32, total_kimg=1e6)
        runs[name] = importlib.import_module(f"{pkg}.train.run").TrainingRun(cfg, tempfile.mkdtemp())
    print(f"machine: {machine()}; {threads} thread(s); load average at start {load()}")
    for run in runs.values():  # warm-up; both runs stand at the same step, so lazy R1 falls alike
        run.step(), run.step()
    times = {name: {True: [], False: []} for name in runs}
    for _ in range(rounds * 4):
        for name, run in runs.items():
            r1 = (run.nimg // 32) % 4 == 0  # r1_interval 4: one minibatch in four carries R1
            t = time.perf_counter()
            run.step()
            times[name][r1].append(time.perf_counter() - t)
    print(f"load average at end {load()}")
    print("| engine | minibatch with R1 s | without R1 s | img/s (1 R1 in 4) | speed-up |")
    print("|---|---|---|---|---|")
    ips = {name: 128 / (statistics.median(ts[True]) + 3 * statistics.median(ts[False]))
           for name, ts in times.items()}
    for name, ts in times.items():
        print(f"| {name} | {statistics.median(ts[True]):.2f} | {statistics.median(ts[False]):.2f} | "
              f"{ips[name]:.2f} | {ips[name] / ips['base']:.2f}× |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", help="checkout of an older commit: time its trainer beside this one")
    ap.add_argument("--rounds", type=int, default=3, help="with --base: rounds of four minibatches")
    ap.add_argument("--threads", type=int, default=1, help="with --base: torch threads")
    ap.add_argument("--data")
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--only-small", action="store_true")
    ap.add_argument("--only-paper", action="store_true")
    ap.add_argument("--res", type=int, nargs="*", help="only these resolutions")
    ap.add_argument("--precision", nargs="*", default=["fp32", "bf16"], help="fp32 and/or bf16 (autocast)")
    args = ap.parse_args()
    data = args.data
    if not data:
        data = os.path.join(tempfile.mkdtemp(), "av.zip")
        build_avatar_zip(data, 256, 64, seed=0)
    if args.base:
        same_run(data, args.base, args.rounds, args.threads)
        return
    rows = [("paper-shaped", 512, 512, 8, (16, 32, 64))] if not args.only_small else []
    rows += [("small 128 ch", 128, 128, 16, (16, 32, 64)), ("small 64 ch", 64, 128, 16, (16, 32, 64)),
             ("small 64 ch", 64, 128, 32, (16, 32)), ("small 32 ch", 32, 128, 16, (32, 64))]
    if args.only_paper:
        rows = rows[:1]
    print(f"{'model':<14}{'batch':>6}{'res':>5}{'R1':>8}{'prec':>6}{'img/s':>9}")
    for name, ch, z, batch, resolutions in rows:
        for res in [r for r in resolutions if not args.res or r in args.res]:
            for r1 in (1, 4):
                for prec in args.precision:
                    ips = measure(data, res, ch, z, batch, args.steps, r1, prec)
                    print(f"{name:<14}{batch:>6}{res:>5}{'every' if r1 == 1 else 'lazy/4':>8}{prec:>6}{ips:>9.2f}",
                          flush=True)


if __name__ == "__main__":
    main()
