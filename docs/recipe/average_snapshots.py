"""Averages the G_ema weights of several snapshots of one run into one model file (checkpoint averaging).

Run from the repository root: python docs/recipe/average_snapshots.py OUT.safetensors SNAPSHOT...
The snapshots must share one architecture (one run's snapshots do); buffers such as w_avg are averaged too.
The recipe's averaging table (docs/training-recipe.md) was measured with it.
"""
from __future__ import annotations

import argparse
import dataclasses

import torch

from stylegan_studio.engine.files.modelfile import load_model, save_model


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("snapshots", nargs="+")
    args = ap.parse_args()
    G, meta = load_model(args.snapshots[0])
    total = {k: v.double().clone() for k, v in G.state_dict().items()}
    kimg = meta.kimg
    for path in args.snapshots[1:]:
        other, other_meta = load_model(path)
        kimg = max(kimg, other_meta.kimg)
        for k, v in other.state_dict().items():
            total[k] += v.double()
    n = len(args.snapshots)
    dtypes = {k: v.dtype for k, v in G.state_dict().items()}
    G.load_state_dict({k: (v / n).to(dtypes[k]) for k, v in total.items()})
    meta = dataclasses.replace(meta, kimg=kimg, source=f"{meta.source}; mean of {n} snapshots")
    saved = save_model(G, args.out, meta)
    print(f"{args.out}: mean of {n} snapshots, id {saved.model_id}, newest at {saved.kimg:g} kimg")


if __name__ == "__main__":
    main()
