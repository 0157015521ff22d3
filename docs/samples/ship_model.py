"""Ships a training snapshot as the bundled model and refreshes the test's reference image.

Run from the repository root: python docs/samples/ship_model.py RUN_DIR/snapshot-NNNNNN.safetensors
The snapshot's G_ema is stored as float16 (the file stays small); the script prints how far the float16
renders are from float32 ones so the card can say so, then renders seeds 0-3 at psi 0.7 for the test.
With --kit it also writes the run's resume kit at that tick (G, D and G_ema in float16, without Adam's
moments) into docs/recipe/kit/, so a later session continues the bundled model with its D:
train --resume-kit docs/recipe/kit --out RUN_DIR --data ...
"""
from __future__ import annotations

import argparse
import dataclasses
import re
import shutil
from pathlib import Path

import numpy as np

from stylegan_studio.engine.files.bundled import BUNDLED_MODEL
from stylegan_studio.engine.render.synth import render_latents
from stylegan_studio.engine.files.modelfile import ModelMeta, load_model, save_model
from stylegan_studio.engine.files.pngio import save_png
from stylegan_studio.engine.contract.latents import Latent, RenderSettings
from stylegan_studio.engine.train.state import kit_from_state

REFERENCE = Path(__file__).resolve().parents[2] / "tests" / "data" / "bundled_seeds0-3_psi07.png"
KIT = Path(__file__).resolve().parents[1] / "recipe" / "kit"
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
    ap.add_argument("--kit", action="store_true",
                    help="also write the run's resume kit at the snapshot's tick into docs/recipe/kit/")
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
    if args.kit:
        write_kit(Path(args.snapshot), tick)


def write_kit(snapshot: Path, tick: int) -> None:
    """The compact resume kit of the state saved with `snapshot`, replacing the previous kit."""
    state = snapshot.with_name(f"state-{tick:06d}.safetensors")
    if not state.is_file():
        raise SystemExit(f"no {state.name} next to the snapshot: the kit needs the run's state at that tick")
    # Written beside the old kit and swapped in, so a failed write never leaves no kit at all.
    fresh, stale = KIT.with_name("kit.new"), KIT.with_name("kit.old")
    shutil.rmtree(fresh, ignore_errors=True)
    kind = kit_from_state(state, fresh)
    if KIT.exists():
        KIT.rename(stale)
    fresh.rename(KIT)
    shutil.rmtree(stale, ignore_errors=True)
    size = sum(p.stat().st_size for p in KIT.glob("*")) / 1e6
    print(f"resume kit ({kind}) of {state.name} in {KIT}: {size:.2f} MB")


if __name__ == "__main__":
    main()
