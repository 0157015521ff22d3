"""CLI command `blend`: layer swapping between a base model and a model fine-tuned from it."""
from __future__ import annotations

import argparse
import sys

import numpy as np

from ..nets.device import default_device
from ..files.bundled import resolve_model
from ..files.fileio import check_suffix
from ..files.modelfile import save_model
from ..files.pngio import save_png
from ..files.provenance import APP
from .render import add_class_option
from ..nets.blend import describe_blend
from ..files.imported import open_model
from ..render.blend_render import CACHE, blend_rows, make_blend
from ..render.synth import check_class
from ..contract.blend import BlendSpec
from ..contract.latents import DEFAULT_PSI, RenderSettings, parse_seeds


def register(sub: argparse._SubParsersAction) -> None:
    """Add `blend` to the CLI."""
    p = sub.add_parser("blend", help="blend two models of the same architecture layer by layer (layer swapping)",
                       description="Synthesis layers below --at come from --base, layers at --at and above from "
                                   "--other, with a smooth transition --width doublings wide; the mapping network "
                                   "and w_avg come from --base. See docs/blending.md.")
    p.add_argument("--base", help="the base model: a model file or an official .pkl (default: the bundled model)")
    p.add_argument("--other", required=True, help="the model to take the higher resolutions from (e.g. one "
                                                  "fine-tuned from the base with train --init)")
    p.add_argument("--at", type=int, default=16, help="the resolution the swap happens at, e.g. 16 (default 16)")
    p.add_argument("--width", type=float, default=1.0,
                   help="transition width in resolution doublings, 0 = hard swap (default 1)")
    p.add_argument("--out", required=True, help="the blended model file to write (.safetensors)")
    p.add_argument("--half", action="store_true", help="store weights as float16")
    p.add_argument("--preview", help="also write a PNG: rows base, blend, other for --seeds")
    p.add_argument("--seeds", default="0-7", help="seeds of the preview (default 0-7)")
    p.add_argument("--psi", type=float, default=DEFAULT_PSI, help=f"ψ of the preview (default {DEFAULT_PSI})")
    add_class_option(p)
    p.set_defaults(run=run_blend)


def run_blend(args: argparse.Namespace) -> int:
    """`blend`: write the blended model, print its card, optionally a base | blend | other preview."""
    spec = BlendSpec(args.at, args.width)
    seeds = parse_seeds(args.seeds, limit=64) if args.preview else ()
    base_path = resolve_model(args.base)
    base, base_meta, notice = open_model(base_path, default_device())
    if notice:
        print(notice, file=sys.stderr)
    if args.preview:   # what the preview needs is checked before the model is written, not after
        check_suffix(args.preview, ".png")
        check_class(base, args.cls)
    G, meta = make_blend(base, str(base_path), base_meta, args.other, spec)
    meta = save_model(G, args.out, meta, half=args.half)
    print(f"wrote {args.out}: id {meta.model_id}, {meta.source}")
    print("\n".join(describe_blend(meta.blend)))
    if args.preview:
        other = CACHE.other(args.other, next(base.parameters()).device)[0]
        rows = [img for _, img in blend_rows(base, G, other, seeds, RenderSettings(psi=args.psi), None, args.cls)]
        grid = np.concatenate([np.concatenate(list(r), axis=1) for r in rows], axis=0)
        save_png(args.preview, grid, {"app": APP, "kind": "blend-preview", "rows": ["base", "blend", "other"],
                                      "seeds": list(seeds), "psi": args.psi, "class": args.cls, "model_id": meta.model_id,
                                      "blend": meta.blend})
        print(f"wrote {args.preview}: rows base, blend, other; seeds {args.seeds}; ψ {args.psi:g}")
    return 0
