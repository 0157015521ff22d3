"""The window's OpenMP wait policy: render latency while training vs training speed, per policy.

Run: python bench/bench_omp_wait.py [--policies PASSIVE spin:10000 default] [--rounds 2] [--threads 2]

The window sets OMP_WAIT_POLICY=PASSIVE (app/main.py): idle OpenMP workers sleep at once, so the GUI
and a render never wait on spinning workers, but every parallel region then pays a wake-up. libgomp
(torch's OpenMP here) also takes GOMP_SPINCOUNT: workers spin that many rounds, then sleep. Each policy
runs bench/bench_latency.py (the engine as the window drives it: 64² model with 64 channels, training at
64², one request at a time) in its own process, since the policy is read at process start; policies
alternate over rounds so load from other processes falls on all of them. Prints a markdown table.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def policy_env(policy: str) -> dict:
    """The environment of one policy: PASSIVE / ACTIVE, spin:N (GOMP_SPINCOUNT), or default (libgomp's own)."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "GLIBC_TUNABLES")}
    if policy.startswith("spin:"):
        env["GOMP_SPINCOUNT"] = policy.split(":", 1)[1]
        env["OMP_WAIT_POLICY"] = ""  # present but empty: bench_latency's setdefault leaves libgomp's default
    elif policy == "default":
        env["OMP_WAIT_POLICY"] = ""
    else:
        env["OMP_WAIT_POLICY"] = policy
    return env


def one(policy: str, threads: int, frames: int) -> dict:
    """Idle and training render latency and the minibatch time of one bench_latency run."""
    out = subprocess.run([sys.executable, os.path.join(HERE, "bench_latency.py"), "--channels", "64",
                          "--train-res", "64", "--frames", str(frames), "--threads", str(threads)],
                         env=policy_env(policy), capture_output=True, text=True, check=True).stdout
    idle = re.search(r"idle: one request at a time\s+\d+\s+([\d.]+)\s+([\d.]+)", out)
    train = re.search(r"training at 64² \(minibatch (\d+) ms\)\s+\d+\s+([\d.]+)\s+([\d.]+)", out)
    return {"idle": float(idle.group(1)), "idle95": float(idle.group(2)), "minibatch": float(train.group(1)),
            "train": float(train.group(2)), "train95": float(train.group(3))}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--policies", nargs="+", default=["PASSIVE", "spin:10000", "default"])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--frames", type=int, default=20)
    args = ap.parse_args()
    print(f"{os.cpu_count()} logical cores, {args.threads} torch threads; "
          f"load average at start {os.getloadavg()[0]:.2f}")
    runs = {p: [] for p in args.policies}
    for _ in range(args.rounds):
        for p in args.policies:
            runs[p].append(one(p, args.threads, args.frames))
    print(f"load average at end {os.getloadavg()[0]:.2f}")
    print("| policy | render idle median / p95 ms | render while training median / p95 ms | "
          "minibatch ms (16 images, 64²) | training img/s |")
    print("|---|---|---|---|---|")
    for p, rs in runs.items():
        med = {k: statistics.median(r[k] for r in rs) for k in rs[0]}
        print(f"| {p} | {med['idle']:.0f} / {med['idle95']:.0f} | {med['train']:.0f} / {med['train95']:.0f} | "
              f"{med['minibatch']:.0f} | {16000 / med['minibatch']:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
