"""Training speed: images/s at 16², 32², 64² for the paper-shaped and small models (prints a table).

Run: python bench/bench_train.py [--data ZIP] [--steps N] [--precision fp32 bf16]   (builds a small avatar zip when --data is absent)
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

TUNE = "glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736"
if "GLIBC_TUNABLES" not in os.environ and sys.platform == "linux":
    os.environ["GLIBC_TUNABLES"] = TUNE  # platform.md: effective only from process start
    os.execv(sys.executable, [sys.executable, *sys.argv])

from stylegan_studio.engine.train.avatars import build_avatar_zip  # noqa: E402
from stylegan_studio.engine.train.config import TrainConfig  # noqa: E402
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


def main() -> None:
    ap = argparse.ArgumentParser()
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
