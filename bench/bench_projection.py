"""Projection quality and time on held-out images: PSNR/SSIM per (space, noise, distance), and a figure.

Run: nice -n 19 env OMP_NUM_THREADS=1 python bench/bench_projection.py --data work/data/heldout64.zip
     --count 20 --configs w,w+,w:noise,w+:noise [--distance pixel-multiscale] [--figure docs/projection.png]
A config is SPACE[:noise][:DISTANCE]. Held-out images were never used for training (seeds ≥ 1000000).
Prints one markdown table (mean ± standard deviation over the images; seconds per projection on this machine).
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from stylegan_studio.engine.files.bundled import resolve_model
from stylegan_studio.engine.files.modelfile import load_model
from stylegan_studio.engine.files.pngio import make_grid, save_png
from stylegan_studio.engine.render.project import Projection, psnr, ssim
from stylegan_studio.engine.contract.projection import DEFAULT_DISTANCE, DISTANCES, ProjectionOptions
from stylegan_studio.engine.files.dataset import ImageSource, decode, to_square


def parse_config(text: str, steps: int, distance: str) -> ProjectionOptions:
    """'w+:noise:pixel' → ProjectionOptions."""
    parts = text.split(":")
    dist = next((p for p in parts[1:] if p in DISTANCES), distance)
    return ProjectionOptions(space=parts[0], steps=steps, noise="noise" in parts[1:], distance=dist)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", help="model file (default: the bundled model)")
    ap.add_argument("--data", required=True, help="held-out images (zip or folder)")
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--distance", default=DEFAULT_DISTANCE)
    ap.add_argument("--configs", default="w,w+")
    ap.add_argument("--figure", help="PNG: per image a row target | first config | second config …")
    ap.add_argument("--dump", help="also keep targets and reconstructions in this .npz (one per config)")
    ap.add_argument("--figure-from", nargs="+", help="only build --figure from dumps of separate runs (in order)")
    args = ap.parse_args()
    if args.figure_from:
        return figure_from(args.figure_from, args.figure)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    G, _ = load_model(resolve_model(args.model), torch.device("cpu"))
    src = ImageSource(args.data)
    targets = [to_square(decode(src.read(n)), G.cfg.resolution) for n in src.names[:args.count]]
    configs = [c.strip() for c in args.configs.split(",")]
    rows, images = [], {c: [] for c in configs}
    for c in configs:
        opts = parse_config(c, args.steps, args.distance)
        scores, secs = [], []
        for t in targets:
            t0 = time.perf_counter()
            p = Projection(G, t, opts)
            for _ in p.steps():
                pass
            img = p.result().image
            secs.append(time.perf_counter() - t0)
            scores.append((psnr(img, t), ssim(img, t)))
            images[c].append(img)
        s = np.array(scores)
        rows.append(f"| {opts.space} | {'yes' if opts.noise else 'no'} | {opts.distance} | {s[:, 0].mean():.2f} ± "
                    f"{s[:, 0].std():.2f} | {s[:, 1].mean():.3f} ± {s[:, 1].std():.3f} | {np.mean(secs):.1f} |")
        print(rows[-1], flush=True)
    print(f"\n{len(targets)} images, {args.steps} steps, load average {os.getloadavg()[0]:.2f} at the end\n")
    print("| space | noise maps | distance | PSNR dB | SSIM | s / projection |\n|---|---|---|---|---|---|")
    print("\n".join(rows))
    if args.dump:
        np.savez(args.dump, targets=np.stack(targets), **{c: np.stack(images[c]) for c in configs})
    if args.figure:
        cells = [img for i, t in enumerate(targets) for img in (t, *(images[c][i] for c in configs))]
        save_png(args.figure, make_grid(np.stack(cells), 1 + len(configs), pad=2))
        print(f"wrote {args.figure}")


def figure_from(dumps: list[str], path: str) -> None:
    """target | each dump's reconstructions, one row per image, from runs made one config per process."""
    loaded = [np.load(d, allow_pickle=False) for d in dumps]
    targets = loaded[0]["targets"]
    columns = [d[k] for d in loaded for k in d.files if k != "targets"]
    cells = [img for i in range(len(targets)) for img in (targets[i], *(col[i] for col in columns))]
    save_png(path, make_grid(np.stack(cells), 1 + len(columns), pad=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
