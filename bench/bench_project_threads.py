"""Projection speed by torch thread count, on a quiet machine and beside CPU burners: what `project` defaults to.

Run: python bench/bench_project_threads.py [--steps 60] [--threads 1,2] [--burners 0,1,2]
Each (threads, burners) cell runs in its own process (torch's thread pool is fixed once used); a burner is a
Python busy loop in another process, started before and stopped after the cell. Prints a markdown table of
ms a step and steps/s (median step after 5 warm-up steps) with the load average at each cell's end.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

BURN = "while True: pass"


def child(threads: int, steps: int) -> None:
    """One cell: project a generated face (seed 1,000,000) for `steps` steps; print the median step in ms."""
    import torch
    torch.set_num_threads(threads)
    from stylegan_studio.engine.files.bundled import bundled_model_path
    from stylegan_studio.engine.files.modelfile import load_model
    from stylegan_studio.engine.render import exports
    from stylegan_studio.engine.render.project import Projection
    from stylegan_studio.engine.contract.projection import ProjectionOptions
    from stylegan_studio.engine.contract.latents import Latent, RenderSettings
    from stylegan_studio.engine.contract.requests import RenderImage
    G, _ = load_model(bundled_model_path(), torch.device("cpu"))
    target = exports.image(G, RenderImage(latent=Latent(seed=1_000_000), settings=RenderSettings(psi=1.0)))
    times, t0 = [], time.perf_counter()
    for _ in Projection(G, target, ProjectionOptions(steps=steps)).steps():
        t1 = time.perf_counter()
        times.append(t1 - t0)
        t0 = t1
    print(statistics.median(times[5:]) * 1000)


def cell(threads: int, burners: int, steps: int) -> tuple[float, float]:
    """(median ms a step, load average after) with `burners` busy loops running beside."""
    burn = [subprocess.Popen([sys.executable, "-c", BURN]) for _ in range(burners)]
    try:
        time.sleep(1 if burners else 0)
        out = subprocess.run([sys.executable, __file__, "--child", str(threads), "--steps", str(steps)],
                             capture_output=True, text=True, check=True).stdout
        return float(out.split()[-1]), os.getloadavg()[0]
    finally:
        for p in burn:
            p.kill()
            p.wait()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--burners", default="0,1,2")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args.child, args.steps)
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the start, {args.steps} steps a cell\n")
    print("| burners beside | threads | ms a step | steps/s | load average |\n|---|---|---|---|---|")
    for burners in (int(b) for b in args.burners.split(",")):
        for threads in (int(t) for t in args.threads.split(",")):
            ms, load = cell(threads, burners, args.steps)
            print(f"| {burners} | {threads} | {ms:.0f} | {1000 / ms:.1f} | {load:.2f} |", flush=True)


if __name__ == "__main__":
    main()
