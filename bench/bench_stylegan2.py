"""Batch-1 latency and peak memory of the FFHQ-1024 StyleGAN2 config-f generator on this CPU: ours vs NVIDIA's.

Run: python bench/bench_stylegan2.py --nvidia PATH [--nvidia PATH2] [--rounds 5] [--threads 1] [--preview 128]
Each PATH is a checkout of stylegan2-ada-pytorch (training.networks) or stylegan3 (training.networks_stylegan2);
its code is imported from there at run time, never copied. Both generators get random weights of the stylegan2-ada
'paper1024' shape (channel_base 32768, channel_max 512, 8 mapping layers, num_fp16_res 4, conv_clamp 256; the
fp16 layers run in fp32 on a CPU) and render z → image with ψ 0.7 and the stored noise. Each runs in its own
worker process (so each has its own peak RSS); the parent drives them in interleaved rounds, so the machine's
load falls on both alike, and prints a markdown table of medians with the load average before and after.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SYN = dict(channel_base=32768, channel_max=512, num_fp16_res=4, conv_clamp=256)


def _rss_mb() -> float:
    """Current resident set size in MB (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def _peak_mb() -> float:
    """Peak resident set size of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _build(kind: str, nvidia: str, preview: int):
    """A render function z → image for one implementation."""
    import torch
    torch.manual_seed(0)
    if kind == "nvidia":
        sys.path.insert(0, nvidia)
        ada = (Path(nvidia) / "training" / "networks.py").exists()
        if ada:
            from training.networks import Generator  # noqa: E402  (their code, from the given path)
            G = Generator(z_dim=512, c_dim=0, w_dim=512, img_resolution=1024, img_channels=3,
                          mapping_kwargs=dict(num_layers=8), synthesis_kwargs=SYN).eval()
            extra = dict(force_fp32=True)
        else:
            from training.networks_stylegan2 import Generator  # noqa: E402
            G = Generator(z_dim=512, c_dim=0, w_dim=512, img_resolution=1024, img_channels=3,
                          mapping_kwargs=dict(num_layers=8), **SYN).eval()
            extra = {}
        return lambda z: G(z, None, truncation_psi=0.7, noise_mode="const", **extra)
    sys.path.insert(0, str(ROOT))
    from engine.nets.stylegan2 import Generator
    from engine.nets.stylegan2_config import Stylegan2Config
    from engine.render.synth import truncate
    G = Generator(Stylegan2Config(z_dim=512, w_dim=512, img_resolution=1024, mapping_layers=8, **SYN)).eval()
    stop = preview if kind == "preview" else None
    return lambda z: G.synthesis(truncate(G.mapping(z).unsqueeze(1).repeat(1, G.num_ws, 1), G.w_avg, 0.7),
                                 None, res=stop)


def worker(kind: str, nvidia: str, threads: int, preview: int) -> None:
    """Build one generator, then render once per line read from stdin, answering `seconds peak_mb`."""
    import torch
    torch.set_num_threads(threads)
    render = _build(kind, nvidia, preview)
    print(f"ready {_rss_mb():.1f}", flush=True)
    gen = torch.Generator().manual_seed(1)
    for _ in sys.stdin:
        z = torch.randn([1, 512], generator=gen)
        with torch.no_grad():
            t0 = time.perf_counter()
            img = render(z)
            dt = time.perf_counter() - t0
        del img
        print(f"{dt:.4f} {_peak_mb():.1f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nvidia", required=True, action="append", help="checkout of stylegan2-ada-pytorch or stylegan3")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--preview", type=int, default=128, help="also time our early preview at this resolution")
    ap.add_argument("--worker", choices=("ours", "nvidia", "preview"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(args.worker, args.nvidia[0], args.threads, args.preview)
    runs = {"ours": ("ours", ""), **{f"nvidia{i}": ("nvidia", p) for i, p in enumerate(args.nvidia)},
            "preview": ("preview", "")}
    kinds = tuple(runs)
    load0 = os.getloadavg()
    procs = {}
    for kind, (what, path) in runs.items():
        cmd = [sys.executable, __file__, "--worker", what, "--nvidia", path or "-", "--threads", str(args.threads),
               "--preview", str(args.preview)]
        procs[kind] = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    built = {k: float(p.stdout.readline().split()[1]) for k, p in procs.items()}
    times = {k: [] for k in kinds}
    peak = {}
    for r in range(args.rounds + 1):  # round 0 warms up (first-call allocations, lazy init)
        for kind in kinds:
            p = procs[kind]
            p.stdin.write("go\n")
            p.stdin.flush()
            dt, pk = map(float, p.stdout.readline().split())
            if r:
                times[kind].append(dt)
            peak[kind] = pk
    for p in procs.values():
        p.stdin.close()
        p.wait()
    load1 = os.getloadavg()
    names = {"ours": "ours (engine/nets/stylegan2.py)", "preview": f"ours, preview res={args.preview}",
             **{f"nvidia{i}": f"NVIDIA {Path(p).resolve().name}" for i, p in enumerate(args.nvidia)}}
    print(f"FFHQ-1024 config-f, batch 1, z → image (ψ 0.7, stored noise), {args.threads} torch thread(s), "
          f"{args.rounds} interleaved rounds after 1 warm-up; load average {load0[0]:.1f} → {load1[0]:.1f}\n")
    print("| generator | median s | min s | ours ÷ it | RSS after build MB | peak RSS MB | peak − build MB |")
    print("|---|---|---|---|---|---|---|")
    base = statistics.median(times["ours"])
    for kind in kinds:
        med = statistics.median(times[kind])
        print(f"| {names[kind]} | {med:.2f} | {min(times[kind]):.2f} | {med / base:.2f}× | {built[kind]:.0f} | "
              f"{peak[kind]:.0f} | {peak[kind] - built[kind]:.0f} |")


if __name__ == "__main__":
    main()
