"""Which generator width the window can still render: batch-1 latency of one 64² face per width, 2 threads.

Run: python bench/bench_width.py [--widths 64 128 192 256 512] [--channels-max 0 256] [--arch stylegan1 stylegan2]
     [--repeat 30] [--no-tune]
Prints a table; not a test. Each width is a fresh (random) generator with the bundled model's latent size
and mapping depth; only the feature maps change (StyleGAN2: the config `train --architecture stylegan2`
builds for that width; `--channels-max`: `train --channels-max`, wider layers below 32²). The bundled model is timed in the same run, interleaved
with the candidates, so a load change on this shared machine moves both and the ratio stays fair. The
window's limit is 60 ms per batch-1 render (issue 24).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

from stylegan_studio.app.main import reexec_tuned  # no Qt: the launcher's tuning, one place

if "--no-tune" not in sys.argv:
    reexec_tuned(sys.argv, window=True)  # malloc tuning and passive waits, as the window runs

import torch  # noqa: E402

from stylegan_studio.engine.files.modelfile import load_model  # noqa: E402
from stylegan_studio.engine.contract.training import TrainConfig  # noqa: E402
from stylegan_studio.engine.nets.api import GeneratorNet  # noqa: E402
from stylegan_studio.engine.nets.registry import build_generator, init_w_avg  # noqa: E402
from stylegan_studio.engine.train.warmstart import resolved_arch  # noqa: E402
from stylegan_studio.engine.render import synth  # noqa: E402
from stylegan_studio.engine.contract.latents import Latent, RenderSettings  # noqa: E402

BUNDLED = os.path.join(os.path.dirname(__file__), "..", "resources", "models", "avatars64.safetensors")
LIMIT_MS = 60.0


def render_once(G: GeneratorNet, seed: int) -> None:
    """One batch-1 render as the window asks for it (ψ 0.7, stored noise)."""
    synth.render_latents(G, [Latent(seed=seed)], RenderSettings(psi=0.7), batch=1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--widths", type=int, nargs="+", default=[64, 128, 192, 256, 512])
    ap.add_argument("--channels-max", type=int, nargs="+", default=[0],
                    help="feature maps below 32² up to this (0: as the width), each with each width")
    ap.add_argument("--arch", nargs="+", default=["stylegan1"], choices=["stylegan1", "stylegan2"])
    ap.add_argument("--repeat", type=int, default=30, help="timed renders per model per round")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds (bundled, widths…) per model")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-tune", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    bundled, _ = load_model(BUNDLED)
    base = bundled.cfg
    models = {"bundled": bundled}
    for arch in args.arch:
        for c in args.widths:
            for top in args.channels_max:
                torch.manual_seed(0)
                cfg = resolved_arch(TrainConfig(data="-", architecture=arch, resolution=base.resolution, channels=c,
                                                channels_max=top, z_dim=base.z_dim,
                                                mapping_layers=base.mapping_layers)).model_config()
                G = build_generator(cfg).eval().requires_grad_(False)
                init_w_avg(G)  # ψ 0.7 truncates towards w_avg, as for a trained model
                models[(arch, c, top)] = G
    times = {k: [] for k in models}
    for k, G in models.items():  # warm-up: first calls build the weight caches and oneDNN primitives
        for s in range(3):
            render_once(G, s)
    for _ in range(args.rounds):
        for k, G in models.items():
            for s in range(args.repeat):
                t = time.perf_counter()
                render_once(G, s)
                times[k].append(time.perf_counter() - t)
    ref = statistics.median(times["bundled"]) * 1000
    load = os.getloadavg()[0]
    print(f"threads {args.threads}, load average {load:.2f} at the end, {args.rounds}×{args.repeat} renders each")
    print(f"| model | G params | batch-1 median ms | p90 ms | ÷ bundled | within {LIMIT_MS:.0f} ms |")
    print("|---|---|---|---|---|---|")
    for k, G in models.items():
        xs = sorted(times[k])
        med, p90 = statistics.median(xs) * 1000, xs[int(0.9 * (len(xs) - 1))] * 1000
        name = f"bundled ({base.fmap_max} maps)" if k == "bundled" else f"{k[0]} width {k[1]}"
        name += f", up to {k[2]} below 32²" if k != "bundled" and k[2] > k[1] else ""
        params = sum(p.numel() for p in G.parameters()) / 1e6
        ok = "yes" if med <= LIMIT_MS else "no"
        print(f"| {name} | {params:.2f} M | {med:.1f} | {p90:.1f} | {med / ref:.2f} | {ok} |", flush=True)


if __name__ == "__main__":
    main()
