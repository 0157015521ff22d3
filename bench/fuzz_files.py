"""Fuzz every file the studio reads with thousands of seeded cases; prints cases / ok / one line / crashes / hangs.

    nice -n 19 env OMP_NUM_THREADS=1 .venv/bin/python bench/fuzz_files.py --cases 1000 [--kinds model,png] [--seed 0]

Each case runs in this process under a wall-clock limit (a hang is a case that runs past it) and the whole
process under an address-space limit (a memory blow-up is a MemoryError, counted as a crash). The corpus
comes from bench/fuzzfiles.py and the seed; nothing is stored. Crashing cases are written to --keep for replay.
"""
from __future__ import annotations

import argparse
import os
import resource
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


class Hang(BaseException):
    """A case ran past its time limit."""


def _alarm(*_):
    raise Hang()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=1000, help="cases per file type")
    ap.add_argument("--kinds", default="", help="comma-separated subset of the file types")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds before a case counts as a hang")
    ap.add_argument("--memory-gb", type=float, default=8.0, help="address-space limit of the process")
    ap.add_argument("--keep", default="work/fuzz-crashes", help="folder for crashing cases")
    ap.add_argument("--nvidia-pkl", type=Path, help="the StyleGAN2-ADA pickle the nvidia-pkl corpus starts from, "
                    "e.g. tests/data/nvidia/sg2ada_uncond.pkl (without it that file type is skipped)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="fuzz-"))
    os.environ["STYLEGAN_STUDIO_CACHE"] = str(tmp / "cache")
    import torch
    torch.set_num_threads(1)
    import contextlib, io
    import fuzzfiles as fz
    with contextlib.redirect_stdout(io.StringIO()):
        fx = fz.Fixtures(tmp / "fixtures", nvidia_pkl=args.nvidia_pkl)
    limit = int(args.memory_gb * (1 << 30))
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    signal.signal(signal.SIGALRM, _alarm)
    kinds = args.kinds.split(",") if args.kinds else [k for k in fz.KINDS if k != "nvidia-pkl" or args.nvidia_pkl]
    print(f"| file type | cases | valid result | one line | crashes | hangs | slowest case (s) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    total_bad = 0
    for kind in kinds:
        counts, slowest = Counter(), 0.0
        stream = fz.cases(kind, fx.good(kind), args.seed)
        for i in range(args.cases):
            label, data = next(stream)
            t0 = time.perf_counter()
            signal.setitimer(signal.ITIMER_REAL, args.timeout)
            try:
                with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                    outcome = fz.run_case(fx, kind, data, tmp / "work")
            except Hang:
                outcome = "hang"
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            slowest = max(slowest, time.perf_counter() - t0)
            counts[outcome.split(":")[0]] += 1
            if outcome not in ("ok", "line"):
                keep = ROOT / args.keep / kind
                keep.mkdir(parents=True, exist_ok=True)
                (keep / f"{i:05d}-{label}.bin").write_bytes(data)
                print(f"  {kind} case {i} ({label}): {outcome}", file=sys.stderr)
        total_bad += counts["crash"] + counts["hang"]
        print(f"| {kind} | {args.cases} | {counts['ok']} | {counts['line']} | {counts['crash']} | {counts['hang']} "
              f"| {slowest:.1f} |", flush=True)
    return 1 if total_bad else 0


if __name__ == "__main__":
    sys.exit(main())
