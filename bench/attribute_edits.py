"""Do attribute directions move the attribute they are named after? The classifier's mean P(yes) along each.

Run: python bench/attribute_edits.py DIRS.npz [--model M] [--faces 64] [--amounts -3,0,3] [--layers all]
For each direction of an attributes set: faces of seeds 300000… (ψ 1, stored noise) moved by each amount (σ)
on the chosen layers, classified again; prints mean P(yes) of every binary attribute, so a row shows both that
its own attribute moves and which others move with it (entanglement).
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from stylegan_studio.engine.cli.directions import load_classifier, parse_amounts
from stylegan_studio.engine.directions import classifier
from stylegan_studio.engine.contract.directions import read
from stylegan_studio.engine.files.bundled import resolve_model
from stylegan_studio.engine.files.modelfile import load_model
from stylegan_studio.engine.contract.latents import Edit, Latent, RenderSettings, parse_layers
from stylegan_studio.engine.render.synth import latents_ws, synthesize, to_uint8


@torch.inference_mode()
def mean_p(G, net, latents) -> dict[str, float]:
    ws = latents_ws(G, latents, RenderSettings())
    imgs = np.concatenate([to_uint8(synthesize(G, ws[i:i + 16], None)) for i in range(0, len(ws), 16)])
    return {k: float(v.mean()) for k, v in classifier.binary(net, classifier.probabilities(net, imgs)).items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("directions")
    ap.add_argument("--model")
    ap.add_argument("--classifier")
    ap.add_argument("--faces", type=int, default=64)
    ap.add_argument("--amounts", default="-3,0,3")
    ap.add_argument("--layers", default="all")
    args = ap.parse_args()
    t0 = time.perf_counter()
    G, _ = load_model(resolve_model(args.model))
    net, ds = load_classifier(args.classifier), read(args.directions)
    layers, amounts = parse_layers(args.layers, G.ws_resolutions), parse_amounts(args.amounts)
    seeds = range(300_000, 300_000 + args.faces)
    names = list(classifier.BINARY)
    print(f"mean P(yes) over {args.faces} faces, layers {args.layers}; columns: attributes, rows: direction @ amount")
    print(f"{'direction':>24s} " + " ".join(f"{n[:10]:>10s}" for n in names))
    for k, name in enumerate(ds.names):
        for a in amounts:
            off = tuple((np.float32(a * ds.sigmas[k]) * ds.vectors[k]).tolist())
            lats = [Latent(seed=s, edit=Edit(off, layers) if a else None) for s in seeds]
            p = mean_p(G, net, lats)
            print(f"{name + f' {a:+g}σ':>24s} " + " ".join(f"{p[n]:10.2f}" for n in names), flush=True)
    print(f"{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
