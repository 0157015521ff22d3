"""Where a blend sits between its parents: image distances to the base and to the other model per swap point.

Run: python bench/blend_between.py BASE OTHER [--seeds 0-63] [--width 1] [--psi 0.7]

For each swap resolution `at` (and width), over the same seeds: the mean absolute pixel difference (0-255) of
the blend's faces to the base's and to the other's, and the same on "layout" (each face in grey, shrunk to
16², normalised to zero mean and unit spread, so a global change of colour counts for nothing and the
position of shapes counts for everything). A blend between its parents is nearer each of them than they are
to each other; moving `at` up moves it from the other model to the base.
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

from stylegan_studio.engine.files.bundled import resolve_model
from stylegan_studio.engine.nets.blend import blend_generators
from stylegan_studio.engine.files.imported import open_model
from stylegan_studio.engine.render.blend_render import blend_rows
from stylegan_studio.engine.contract.blend import BlendSpec
from stylegan_studio.engine.contract.latents import RenderSettings, parse_seeds


def layout(imgs: np.ndarray) -> np.ndarray:
    """[N, H, W, 3] uint8 → [N, 16, 16] grey, per image zero mean and unit standard deviation."""
    g = torch.from_numpy(imgs.astype(np.float32).mean(-1))[:, None]
    g = torch.nn.functional.adaptive_avg_pool2d(g, 16)[:, 0].numpy()
    g = g - g.mean(axis=(1, 2), keepdims=True)
    return g / (g.std(axis=(1, 2), keepdims=True) + 1e-6)


def dist(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("base")
    ap.add_argument("other")
    ap.add_argument("--seeds", default="0-63")
    ap.add_argument("--width", type=float, default=1.0)
    ap.add_argument("--psi", type=float, default=0.7)
    args = ap.parse_args()
    torch.set_num_threads(1)
    seeds, settings = parse_seeds(args.seeds), RenderSettings(psi=args.psi)
    base, _, _ = open_model(resolve_model(args.base))
    other, _, _ = open_model(args.other)
    rows = None
    print(f"{len(seeds)} seeds, ψ {args.psi:g}, width {args.width:g}")
    print("| swap at | pixels: blend↔base | blend↔other | layout: blend↔base | blend↔other |")
    print("|---|---|---|---|---|")
    for k in range(2, int(np.log2(base.img_resolution)) + 2):
        spec = BlendSpec(2 ** k, args.width)
        G = blend_generators(base, other, spec)
        rows = dict(blend_rows(base, G, other, seeds, settings, None))
        print(f"| {spec.at}² | {dist(rows[1], rows[0]):.1f} | {dist(rows[1], rows[2]):.1f} | "
              f"{dist(layout(rows[1]), layout(rows[0])):.3f} | {dist(layout(rows[1]), layout(rows[2])):.3f} |")
    print(f"parents: base↔other pixels {dist(rows[0], rows[2]):.1f}, layout "
          f"{dist(layout(rows[0]), layout(rows[2])):.3f}")


if __name__ == "__main__":
    main()
