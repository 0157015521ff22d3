"""StyleGAN3 'T' and 'R' on this CPU, ours vs NVIDIA's own code: batch-1 render latency and peak memory.

Run: python bench/bench_stylegan3.py --nvidia PATH/TO/stylegan3 [--res 256 512 1024] [--configs T R]
                                     [--impls ours nvidia] [--repeat 2] [--threads 2]   (prints a table)

The FFHQ-1024 configurations as NVIDIA's train.py sets them (z, w 512; 2 mapping layers; 'T': channel_base 32768,
channel_max 512; 'R': 65536 / 1024, 1×1 convolutions, radial filters), random weights, at each --res. NVIDIA's
Generator comes from the checkout given at run time (its CPU reference ops: no CUDA plugin off a GPU); nothing of
it is part of the project. Timed: seed → z → mapping → truncation ψ 0.7 → synthesis → uint8, batch 1, fp32 (a CPU
never runs the fp16-marked layers in half). Each (implementation, config, resolution) runs in its own process, so
"peak RSS" is that process's high-water mark and "weights" the model's state alone; the load average is sampled
before and after each row, since the machine may be shared.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def ffhq_kwargs(config: str, res: int) -> dict:
    """NVIDIA's Generator init kwargs for the FFHQ-1024 'T' or 'R' configuration, at resolution `res`."""
    kwargs = dict(z_dim=512, c_dim=0, w_dim=512, img_resolution=res, img_channels=3, channel_base=32768,
                  channel_max=512, magnitude_ema_beta=0.5 ** (32 / 20000), mapping_kwargs=dict(num_layers=2))
    if config == "R":
        kwargs.update(channel_base=65536, channel_max=1024, conv_kernel=1, use_radial_filters=True)
    return kwargs


def _build(impl: str, config: str, res: int, nvidia: str | None):
    """(G, render(seed) → uint8 image) for our network or NVIDIA's."""
    import numpy as np
    import torch

    kwargs = ffhq_kwargs(config, res)
    torch.manual_seed(0)
    if impl == "nvidia":
        sys.path.insert(0, nvidia)
        from training.networks_stylegan3 import Generator as NvGenerator  # the checkout, imported at run time
        G = NvGenerator(**kwargs).eval().requires_grad_(False)

        def render(seed: int):
            z = torch.from_numpy(np.random.RandomState(seed).randn(1, 512)).float()
            img = G(z, None, truncation_psi=0.7, noise_mode="const")
            return (img * 127.5 + 128).clamp(0, 255).to(torch.uint8)
        return G, render
    from stylegan_studio.engine.nets.stylegan3 import Generator
    from stylegan_studio.engine.nets.stylegan3_config import config_from_nvidia
    G = Generator(config_from_nvidia("training.networks_stylegan3", "Generator", kwargs)).eval()
    G.requires_grad_(False)

    def render(seed: int):
        z = torch.from_numpy(np.random.RandomState(seed).randn(1, 512)).float()
        ws = G.w_avg.lerp(G.mapping(z).unsqueeze(1).repeat(1, G.num_ws, 1), 0.7)
        return (G.synthesis(ws) * 127.5 + 128).clamp(0, 255).to(torch.uint8)
    return G, render


def child(impl: str, config: str, res: int, repeat: int, threads: int, nvidia: str | None) -> dict:
    """Time `repeat` batch-1 renders in this process; returns one row."""
    import resource

    import torch
    torch.set_num_threads(threads)
    load0 = os.getloadavg()[0]
    G, render = _build(impl, config, res, nvidia)
    weights_mb = sum(v.numel() * v.element_size() for v in G.state_dict().values()) / 2**20
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    times = []
    with torch.no_grad():
        for seed in range(repeat):
            t = time.perf_counter()
            render(seed)
            times.append(time.perf_counter() - t)
    return dict(impl=impl, config=config, res=res, first_s=times[0], best_s=min(times), weights_mb=weights_mb,
                rss_before_mb=rss_before, peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                load=(load0, os.getloadavg()[0]), threads=threads)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nvidia", help="path of a stylegan3 checkout (omit: ours only)")
    ap.add_argument("--res", type=int, nargs="+", default=[1024])
    ap.add_argument("--configs", nargs="+", default=["T", "R"], choices=["T", "R"])
    ap.add_argument("--impls", nargs="+", default=["ours", "nvidia"], choices=["ours", "nvidia"])
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        impl, config, res = args.child
        print(json.dumps(child(impl, config, int(res), args.repeat, args.threads, args.nvidia)))
        return
    impls = [i for i in args.impls if i == "ours" or args.nvidia]
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch threads {args.threads}, "
          f"batch 1, fp32, psi 0.7, {args.repeat} renders each")
    print("| config | res | impl | first (s) | best (s) | weights (MB) | peak RSS (MB) | RSS before render (MB) "
          "| load avg (start → end) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for res in args.res:
        for config in args.configs:
            for impl in impls:
                cmd = [sys.executable, os.path.abspath(__file__), "--child", impl, config, str(res),
                       "--repeat", str(args.repeat), "--threads", str(args.threads)]
                if args.nvidia:
                    cmd += ["--nvidia", args.nvidia]
                out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
                if out.returncode != 0:
                    print(f"| {config} | {res} | {impl} | failed: {out.stderr.strip().splitlines()[-1:]} |")
                    continue
                r = json.loads(out.stdout.strip().splitlines()[-1])
                print(f"| {config} | {res}² | {impl} | {r['first_s']:.1f} | {r['best_s']:.1f} | "
                      f"{r['weights_mb']:.0f} | {r['peak_mb']:.0f} | {r['rss_before_mb']:.0f} | "
                      f"{r['load'][0]:.1f} → {r['load'][1]:.1f} |", flush=True)


if __name__ == "__main__":
    main()
