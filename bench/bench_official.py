"""The official StyleGAN v1 architecture on this machine: batch-1 render latency and peak memory.

Run: python bench/bench_official.py [--res 256 512 1024] [--repeat 5] [--threads N]   (prints a table)

Random weights in the official architecture (fmap_base 8192, fmap_max 512, z and w 512, 8 mapping
layers): what an imported FFHQ / CelebA-HQ (1024²), cars (512²) or LSUN (256²) pickle costs. The
timed path is the viewer's: seed → z → mapping → truncation (ψ 0.7, cutoff 8) → synthesis with the
stored noise → uint8. The thumbnail columns time one seed-grid thumbnail rendered in full and
downscaled vs stopped at a lower resolution's ToRGB (engine/render/renderer.py preview_res).
Each resolution runs in its own process, so "peak RSS" is that process's high
water mark (weights, activations, allocator caches) and "model" the weights alone.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

from stylegan_studio.app.main import reexec_tuned  # no Qt: the launcher's tuning, one place

if "--no-tune" not in sys.argv:
    reexec_tuned(sys.argv, window=False)  # malloc tuning: effective only from process start (platform.md)


THUMB = 64  # the Seeds pane's thumbnail size


def child(res: int, repeat: int, threads: int) -> dict:
    """Time `repeat` batch-1 renders at `res` in this process; returns one row."""
    import resource

    import torch

    from stylegan_studio.engine.contract.modelconfig import ModelConfig
    from stylegan_studio.engine.nets.networks import Generator
    from stylegan_studio.engine.render.renderer import preview_res, render_thumbs
    from stylegan_studio.engine.render.streams import stream
    from stylegan_studio.engine.contract.requests import RenderImage
    from stylegan_studio.engine.render.synth import latents_to_w, styled_ws
    from stylegan_studio.engine.contract.latents import Latent, RenderSettings
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    t = time.perf_counter()
    G = Generator(ModelConfig(resolution=res)).eval().requires_grad_(False)
    build_s = time.perf_counter() - t
    model_mb = sum(v.numel() * v.element_size() for v in G.state_dict().values()) / 2**20
    settings = RenderSettings(psi=0.7, cutoff=8)
    next(stream(G, RenderImage(latent=Latent(seed=0), settings=settings)))  # warm-up: first-call allocations and kernel choice
    times = []
    for seed in range(1, repeat + 1):
        t = time.perf_counter()
        next(stream(G, RenderImage(latent=Latent(seed=seed), settings=settings)))  # the viewer's path
        times.append(time.perf_counter() - t)
    low = preview_res(G.output_resolutions, THUMB)
    thumbs = {"full": None, "preview": low}
    ws = styled_ws(G, latents_to_w(G, [Latent(seed=0)]), settings)
    render_thumbs(G, ws, settings, THUMB, res=low)  # warm-up
    grid = {k: [] for k in thumbs}
    for seed in range(1, repeat + 1):  # interleaved, so load falls on both alike
        ws = styled_ws(G, latents_to_w(G, [Latent(seed=seed)]), settings)
        for k, r in thumbs.items():
            t = time.perf_counter()
            render_thumbs(G, ws, settings, THUMB, res=r)
            grid[k].append(time.perf_counter() - t)
    return {"res": res, "preview_res": low, "thumb_full_s": statistics.median(grid["full"]),
            "thumb_preview_s": statistics.median(grid["preview"]), "layers": G.num_ws,
            "params": sum(p.numel() for p in G.parameters()), "model_mb": model_mb,
            "build_s": build_s, "median_s": statistics.median(times), "min_s": min(times), "max_s": max(times),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def machine() -> str:
    """CPU model, cores and the load when the run started."""
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{cpu}, {os.cpu_count()} logical cores, load average {load:.2f} at start"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--res", type=int, nargs="+", default=[256, 512, 1024])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--no-tune", action="store_true", help="skip the allocator settings")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.repeat, args.threads)))
        return 0
    print(f"machine: {machine()}; torch threads {args.threads}")
    print(f"| res | layers | G params | weights MB | batch-1 render median (min-max) s | peak RSS MB | "
          f"{THUMB}² thumbnail: full render s | preview s (at res) | speed-up |")
    print("|---|---|---|---|---|---|---|---|---|")
    for res in args.res:
        out = subprocess.run([sys.executable, __file__, "--child", str(res), "--repeat", str(args.repeat),
                              "--threads", str(args.threads)], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"| {res}² | {r['layers']} | {r['params']:,} | {r['model_mb']:.0f} | "
              f"{r['median_s']:.2f} ({r['min_s']:.2f}-{r['max_s']:.2f}) | {r['peak_rss_mb']:.0f} | "
              f"{r['thumb_full_s']:.2f} | {r['thumb_preview_s']:.2f} ({r['preview_res']}²) | "
              f"{r['thumb_full_s'] / r['thumb_preview_s']:.1f}× |", flush=True)
    print(f"load average at end: {os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
