"""Ships a trained G_ema as the bundled model and refreshes the test's reference image.

Run from the repository root, with either source:
  python docs/samples/ship_model.py RUN_DIR/snapshot-NNNNNN.safetensors [--kit]   # a run's snapshot
  python docs/samples/ship_model.py GPU_OUT [--kit]   # what a lent GPU's session (or `train --export`) returned
G_ema is stored as float16 (the file stays small); the script prints how far the float16 renders are from
float32 ones so the card can say so, then renders seeds 0-3 at psi 0.7 for the test's reference image.
With --kit it also writes the run's resume kit at that tick into docs/recipe/kit/, so a later session continues
the bundled model with its D: train --resume-kit docs/recipe/kit --out RUN_DIR --data ...
(from a snapshot: G, D and G_ema in float16, without Adam's moments; from an export folder: its kit as it is,
an exact resume when the run's state fitted).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import re
import shutil
from pathlib import Path

import numpy as np

from stylegan_studio.engine.contract.errors import StudioError, UserError
from stylegan_studio.engine.files.bundled import BUNDLED_MODEL
from stylegan_studio.engine.render.synth import render_latents
from stylegan_studio.engine.files.modelfile import ModelMeta, load_model, save_model
from stylegan_studio.engine.files.pngio import save_png
from stylegan_studio.engine.contract.latents import Latent, RenderSettings
from stylegan_studio.engine.train.state import RunFiles, copy_kit, kit_from_state, read_kit

REFERENCE = Path(__file__).resolve().parents[2] / "tests" / "data" / "bundled_seeds0-3_psi07.png"
KIT = Path(__file__).resolve().parents[1] / "recipe" / "kit"
DATASET = "avatars64-100k.zip (stylegan-studio dataset avatars --count 100000 --resolution 64 --seed 0)"


@dataclasses.dataclass(frozen=True)
class Source:
    """What to ship: the G_ema file, its tick, how the card's source line names the run, and where its kit is."""

    model: Path
    tick: int
    label: str
    kit_from: Path   # a state file (a snapshot's) or an export folder holding a resume kit
    kit_read: bool = False  # an export folder's kit was read whole already


def snapshot_source(snapshot: Path, run_name: str) -> Source:
    """A run's snapshot-NNNNNN.safetensors; its kit comes from the state file of the same tick."""
    digits = re.findall(r"\d+", snapshot.stem)
    if not digits:
        raise UserError(f"{snapshot.name}: not a snapshot-NNNNNN file (give the run's snapshot or an export folder)")
    tick = int(digits[-1])
    return Source(snapshot, tick, f"run {run_name}, tick {tick}", snapshot.with_name(f"state-{tick:06d}.safetensors"))


def export_source(folder: Path) -> Source:
    """An export folder (a GPU session's $OUT): G_ema.safetensors, its resume kit and stats.jsonl."""
    model = folder / "G_ema.safetensors"
    if not model.is_file():
        raise UserError(f"{folder}: no G_ema.safetensors (not a training export or GPU session folder)")
    kimg = load_model(model)[1].kimg
    has_kit = any(folder.glob("resume-*.safetensors"))
    if has_kit:
        counters = json.loads(read_kit(folder)[0]["counters"])
        if abs(counters["nimg"] / 1000 - kimg) > 1e-3:  # a run stopped between writing the model and the kit
            raise UserError(f"{folder}: G_ema is at {kimg:g} kimg but the resume kit at {counters['nimg'] / 1000:g}")
        tick = counters["tick"]
    else:  # a run too wide for a kit (docs/gpu-training.md): the tick of G_ema's kimg in the stats
        ticks, _ = RunFiles(folder).history(kimg + 1e-3)  # the engine's reader, as a resume reads it
        tick = ticks[-1].tick if ticks else 0
    session = folder / "session.json"
    label = "an export"
    if session.is_file():
        train = json.loads(session.read_text())["stages"].get("train", {})
        label = f"a lent GPU's session, width {train.get('width')}, batch {train.get('batch')}"
    return Source(model, tick, f"{label}, tick {tick}", folder, kit_read=has_kit)


def render(G) -> np.ndarray:
    """Seeds 0-3 at psi 0.7, side by side."""
    return np.concatenate(list(render_latents(G, [Latent(seed=s) for s in range(4)], RenderSettings(psi=0.7))), 1)


def ship(src: Source, model_out: Path, reference: Path, base_kimg: float = 0.0) -> ModelMeta:
    """Store src's G_ema as float16 at `model_out` and its seeds 0-3 at psi 0.7 as the reference image."""
    G, meta = load_model(src.model)
    meta = dataclasses.replace(
        ModelMeta(), name="avatars64", kimg=round(meta.kimg + base_kimg, 3), dataset=DATASET, seed=0,
        source=f"stylegan-studio train on python-avatars faces ({src.label}), stored as float16")
    shipped = save_model(G, model_out, meta, half=True)
    half = render(load_model(model_out)[0])
    diff = np.abs(render(G).astype(np.int16) - half)
    save_png(reference, half, {"kind": "bundled-model reference", "seeds": "0-3", "psi": 0.7,
                               "model_id": shipped.model_id})
    print(f"shipped {model_out.name}: id {shipped.model_id}, {shipped.kimg:g} kimg, "
          f"{model_out.stat().st_size / 1e6:.2f} MB; float16 vs float32 renders: max {diff.max()}, "
          f"mean {diff.mean():.3f} levels")
    return shipped


def check_kit(src: Source) -> None:
    """One line if src has no whole resume kit at its tick."""
    if src.kit_from.is_dir():
        if not src.kit_read:
            read_kit(src.kit_from)  # no parts: the engine's one line
    elif not src.kit_from.is_file():
        raise UserError(f"no {src.kit_from.name} next to the snapshot: the kit needs the run's state at that tick")


def write_kit(src: Source, kit: Path) -> None:
    """The resume kit at src's tick, replacing the previous kit."""
    # Written beside the old kit and swapped in, so a failed write never leaves no kit at all.
    fresh, stale = kit.with_name(kit.name + ".new"), kit.with_name(kit.name + ".old")
    shutil.rmtree(fresh, ignore_errors=True)
    if src.kit_from.is_dir():
        kind = copy_kit(src.kit_from, fresh).get("kit", "full")
    else:
        kind = kit_from_state(src.kit_from, fresh)
    if kit.exists():
        kit.rename(stale)
    fresh.rename(kit)
    shutil.rmtree(stale, ignore_errors=True)
    size = sum(p.stat().st_size for p in kit.glob("*")) / 1e6
    print(f"resume kit ({kind}) at tick {src.tick} in {kit}: {size:.2f} MB")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source", type=Path, help="a run's snapshot-NNNNNN.safetensors, or an export / GPU session folder")
    ap.add_argument("--run-name", default="avatars64", help="the run's name on the card (snapshot sources)")
    ap.add_argument("--base-kimg", type=float, default=0.0,
                    help="kimg the run's --init model had already seen (added to the snapshot's count)")
    ap.add_argument("--kit", action="store_true", help="also write the run's resume kit at that tick")
    ap.add_argument("--model-out", type=Path, default=BUNDLED_MODEL, help=argparse.SUPPRESS)  # rehearsals
    ap.add_argument("--reference", type=Path, default=REFERENCE, help=argparse.SUPPRESS)
    ap.add_argument("--kit-dir", type=Path, default=KIT, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    try:
        if not args.source.exists():
            raise UserError(f"{args.source}: no such file or folder")
        src = export_source(args.source) if args.source.is_dir() else snapshot_source(args.source, args.run_name)
        if args.kit:  # checked before anything is replaced
            check_kit(src)
        ship(src, args.model_out, args.reference, args.base_kimg)
        if args.kit:
            write_kit(src, args.kit_dir)
    except (StudioError, OSError) as e:
        print(f"ship_model: {e}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
