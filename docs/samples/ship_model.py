"""Ships a training snapshot as the bundled model and refreshes the test's reference image.

Run from the repository root: python docs/samples/ship_model.py RUN_DIR/snapshot-NNNNNN.safetensors
The snapshot's G_ema is stored as float16 (the file stays small); the script prints how far the float16
renders are from float32 ones so the card can say so, then renders seeds 0-3 at psi 0.7 for the test.
"""
from __future__ import annotations

import argparse
import dataclasses
import re
from pathlib import Path

import numpy as np

from stylegan_studio.engine.files.bundled import BUNDLED_MODEL
from stylegan_studio.engine.render.synth import render_latents
from stylegan_studio.engine.files.modelfile import ModelMeta, load_model, save_model
from stylegan_studio.engine.files.pngio import save_png
from stylegan_studio.engine.contract.latents import Latent, RenderSettings

REFERENCE = Path(__file__).resolve().parents[2] / "tests" / "data" / "bundled_seeds0-3_psi07.png"
DATASET = "avatars64-100k.zip (stylegan-studio dataset avatars --count 100000 --resolution 64 --seed 0)"


def render(G) -> np.ndarray:
    """Seeds 0-3 at psi 0.7, side by side."""
    return np.concatenate(list(render_latents(G, [Latent(seed=s) for s in range(4)], RenderSettings(psi=0.7))), 1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("snapshot")
    ap.add_argument("--run-name", default="avatars64")
    ap.add_argument("--base-kimg", type=float, default=0.0,
                    help="kimg the run's --init model had already seen (added to the snapshot's count)")
    args = ap.parse_args()
    G, meta = load_model(args.snapshot)
    tick = int(re.findall(r"\d+", Path(args.snapshot).stem)[-1])
    meta = dataclasses.replace(
        ModelMeta(), name="avatars64", kimg=round(meta.kimg + args.base_kimg, 3), dataset=DATASET, seed=0,
        source=f"stylegan-studio train on python-avatars faces (run {args.run_name}, tick {tick}), stored as float16")
    shipped = save_model(G, BUNDLED_MODEL, meta, half=True)
    G16, _ = load_model(BUNDLED_MODEL)
    full, half = render(G).astype(np.int16), render(G16)
    diff = np.abs(full - half)
    save_png(REFERENCE, half, {"kind": "bundled-model reference", "seeds": "0-3", "psi": 0.7,
                               "model_id": shipped.model_id})
    print(f"shipped {BUNDLED_MODEL.name}: id {shipped.model_id}, {shipped.kimg:g} kimg, "
          f"{BUNDLED_MODEL.stat().st_size / 1e6:.2f} MB; float16 vs float32 renders: max {diff.max()}, "
          f"mean {diff.mean():.3f} levels")


if __name__ == "__main__":
    main()
