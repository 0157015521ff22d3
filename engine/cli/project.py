"""CLI command `project`: find the latent of an image file (W or W+), write it, its image and optionally a video."""
from __future__ import annotations

import argparse
import io
import json
import os
import time
from pathlib import Path

import numpy as np
import torch

from ..contract.errors import UserError
from ..files.fileio import atomic_write_bytes
from ..files.pngio import save_png
from ..render import exports
from ..render.synth import check_class
from ..render.project import Projection, load_target, psnr, ssim
from ..contract.projection import DEFAULT_DISTANCE, DEFAULT_SPACE, DEFAULT_STEPS, DISTANCES, SPACES, ProjectionOptions
from ..contract.latents import Latent, RenderSettings
from ..contract.requests import RenderImage
from .render import add_class_option, cli_model_record, ensure_dir, load_cli_model
from ..contract.video import check_format
from ..render.video import encode, upsample_nearest

VIDEO_FRAMES = 120   # at most this many frames of the optimisation (every k-th step)
VIDEO_SIDE = 256     # target | reconstruction, each enlarged (nearest) to about this size
THREADS = 1          # torch threads: 1 is 10–19× faster than 2 on a busy 2-core machine (docs/projection.md)


def register(sub: argparse._SubParsersAction) -> None:
    """Add `project` to the CLI."""
    p = sub.add_parser("project", help="find the latent whose image is closest to an image file")
    p.add_argument("image", help="the image (any size or mode; centre-cropped and resized to the model)")
    p.add_argument("--model", help="model file (default: the bundled model)")
    p.add_argument("--space", choices=SPACES, default=DEFAULT_SPACE,
                   help=f"w+: one w per layer (closer); w: one w for all layers (mixes and edits like a seed); "
                   f"default {DEFAULT_SPACE}, as the window")
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    p.add_argument("--noise", action="store_true", help="optimise the noise maps too (kept in the .npz)")
    p.add_argument("--distance", choices=DISTANCES, default=DEFAULT_DISTANCE,
                   help="what is minimised (docs/projection.md compares them)")
    p.add_argument("--seed", type=int, default=0, help="seed of the latent noise added early on")
    add_class_option(p)
    p.add_argument("--video", help="also write the optimisation as FILE.mp4, .webm, .gif or .webp")
    p.add_argument("--threads", type=int, default=THREADS,
                   help=f"torch threads (default {THREADS}: fastest on a busy machine; 0: all cores)")
    p.add_argument("--out", required=True, help="folder for NAME.npz, NAME-projected.png and NAME-target.png")
    p.set_defaults(run=run_project)


def run_project(args: argparse.Namespace) -> int:
    """`project`: optimise, then write the latent (.npz), the image with provenance, the target, the video."""
    options = ProjectionOptions(space=args.space, steps=args.steps, noise=args.noise, distance=args.distance,
                                seed=args.seed, c=args.cls)
    if args.video:
        check_format(args.video)  # before minutes of optimisation, not after
    if not 0 <= args.threads <= 1024:
        raise UserError(f"--threads must be 0 (all cores) to 1024, not {args.threads}")
    torch.set_num_threads(args.threads or os.cpu_count() or 1)
    G, meta, model_path = load_cli_model(args)
    if options.c is not None:  # before minutes of optimisation: a class the model has not got is one line
        check_class(G, options.c)
    target = load_target(args.image, G.img_resolution)
    out = Path(args.out)
    ensure_dir(out)
    stem = Path(args.image).stem
    proj = Projection(G, target, options)
    t0, frames = time.perf_counter(), []
    every = max(1, options.steps // VIDEO_FRAMES)
    for step in proj.steps():
        if args.video and (step.step % every == 0 or step.step == 1):
            frames.append(np.concatenate([target, step.image], axis=1))
        if step.step % 50 == 0 or step.step == step.total:
            print(f"step {step.step}/{step.total}  distance {step.distance:.5f}", flush=True)
    seconds = time.perf_counter() - t0
    result = proj.result()
    spec = RenderImage(latent=Latent(w=result.w), settings=RenderSettings(psi=1.0))  # stored noise, no truncation: the projection's
    img = exports.save(out / f"{stem}-projected.png", G, spec, cli_model_record(meta, model_path))
    save_png(out / f"{stem}-target.png", target)
    if result.noise is not None:
        save_png(out / f"{stem}-projected-noise.png", result.image)  # with its own noise maps (in the .npz)
    atomic_write_bytes(out / f"{stem}.npz", _npz(result, options, stem, meta.model_id))
    shown = result.image if result.noise is not None else img
    print(f"wrote {out / (stem + '.npz')} and {out / (stem + '-projected.png')}: in {options.space.upper()}, "
          f"PSNR {psnr(shown, target):.2f} dB, "
          f"SSIM {ssim(shown, target):.3f}, {seconds:.1f} s ({seconds / options.steps * 1000:.0f} ms a step)")
    if args.video:
        _write_video(args.video, frames, options, meta.model_id)
        print(f"wrote {args.video} ({len(frames)} frames)")
    return 0


def _npz(result, options: ProjectionOptions, stem: str, model_id: str) -> bytes:
    """w [1, w_dim] (the favourites file's key) or ws [1, num_ws, w_dim]; noise maps; what was asked."""
    arrays = {"w" if options.space == "w" else "ws": result.w[None], "labels": np.array([f"projected {stem}"])}
    for i, m in enumerate(result.noise or ()):
        arrays[f"noise_{i}"] = m
    arrays["options"] = np.array(json.dumps({**options.__dict__, "model_id": model_id}))
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _write_video(path: str, frames: list[np.ndarray], options: ProjectionOptions, model_id: str) -> None:
    stack = np.stack(frames)
    factor = max(1, VIDEO_SIDE // stack.shape[1])
    comment = json.dumps({"app": "stylegan-studio", "model_id": model_id, "projection": options.__dict__})
    for _ in encode([upsample_nearest(stack, factor)], path, 25, 80, comment):
        pass
