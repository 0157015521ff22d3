"""SIGKILL trials of training, video export and image save; prints trials / killed / passed per kind and moment.

    nice -n 19 env OMP_NUM_THREADS=1 .venv/bin/python bench/kill_trials.py --trials 20 [--seed 0]

Half the trials kill at a random moment, half the moment a temporary file of an atomic write appears (inside
a snapshot, state or image write). What is checked is in bench/killtrials.py; failures are printed.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path



def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=20, help="trials per kind (train, video, generate)")
    ap.add_argument("--kinds", default="train,video,generate")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kill-"))
    os.environ["STYLEGAN_STUDIO_CACHE"] = str(tmp / "cache")
    import numpy as np
    import killtrials as kt
    from synthetic import make_folder, tiny_generator
    from stylegan_studio.engine.files.modelfile import save_model
    kt.ENV["STYLEGAN_STUDIO_CACHE"] = str(tmp / "cache")
    data = make_folder(tmp / "data", n=32, size=16)
    model = tmp / "m.safetensors"
    save_model(tiny_generator(res=32), model)
    rng = np.random.default_rng(args.seed)
    rows, failed = Counter(), 0
    for kind in args.kinds.split(","):
        for i in range(args.trials):
            moment = ("random", "write")[i % 2]
            work = tmp / f"{kind}-{i}"
            work.mkdir()
            trial = (kt.train_trial(data, work, rng, moment) if kind == "train"
                     else kt.output_trial(kind, model, work, rng, moment))
            rows[kind, moment, "trials"] += 1
            rows[kind, moment, "killed"] += trial.killed
            rows[kind, moment, "passed"] += trial.ok
            print(f"  {kind} {i:2d} {moment:6s} killed={trial.killed!s:5s} ok={trial.ok!s:5s} {trial.detail}",
                  file=sys.stderr, flush=True)
            failed += not trial.ok
            shutil.rmtree(work, ignore_errors=True)
    print("| process | kill moment | trials | killed before it finished | passed |")
    print("|---|---|---:|---:|---:|")
    for kind, moment in sorted({(k, m) for k, m, _ in rows}):
        print(f"| {kind} | {moment} | {rows[kind, moment, 'trials']} | {rows[kind, moment, 'killed']} | "
              f"{rows[kind, moment, 'passed']} |")
    shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
