"""CLI command `import`: an official pickle (StyleGAN v1, StyleGAN2-ADA, StyleGAN3) → a studio model file (nothing in
the pickle runs)."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..thread.describe import count
from ..files.imported import describe_import, import_to_file, snapshot_model
from ..contract.errors import StudioError, UserError
from ..files.modelfile import read_header, save_model
from ..files.persist import pickle_kind, read_snapshot


def register(sub: argparse._SubParsersAction) -> None:
    """Add `import` to the CLI."""
    p = sub.add_parser("import", help="convert an official pickle (NVIDIA's .pkl: StyleGAN v1, StyleGAN2-ADA, "
                                      "StyleGAN3) into a model file",
                       description="Reads NVIDIA's StyleGAN v1 snapshot pickles (FFHQ, CelebA-HQ, LSUN, your own "
                                   "runs) without TensorFlow, and StyleGAN2-ADA / StyleGAN3 PyTorch snapshots, "
                                   "without running anything inside them; writes the averaged generator (Gs, G_ema).")
    p.add_argument("pkl", help="official pickle, e.g. karras2019stylegan-ffhq-1024x1024.pkl")
    p.add_argument("--out", required=True, help="model file to write (.safetensors)")
    p.add_argument("--half", action="store_true", help="store weights as float16")
    p.set_defaults(run=run_import)


def run_import(args: argparse.Namespace) -> int:
    """`import`: convert, write atomically, report what was read."""
    if is_model_file(args.pkl):
        raise UserError(f"{Path(args.pkl).name} is a studio model file already: open it as it is (--model, or in the "
                        "window); import converts NVIDIA's .pkl files")
    if pickle_kind(args.pkl) == "pytorch":
        G, meta = snapshot_model(read_snapshot(args.pkl))
        meta = save_model(G, args.out, meta, half=args.half)
        print(f"wrote {args.out}: {G.img_resolution}² {G.arch} generator, {count(G):,} parameters, "
              f"{G.num_ws} ws, id {meta.model_id}")
        print("\n".join(describe_import(meta.imported)))
        return 0
    models, meta = import_to_file(args.pkl, args.out, half=args.half)
    cfg = models.cfg
    print(f"wrote {args.out}: {cfg.resolution}² StyleGAN v1 generator, {count(models.G_ema):,} parameters, "
          f"{cfg.num_ws} layers, id {meta.model_id}")
    print("\n".join(describe_import(models.record) + [f"note      {n}" for n in models.notes]))
    return 0


def is_model_file(path: str) -> bool:
    """Whether `path` is one of our model files (its header reads as one; nothing else is loaded)."""
    try:
        read_header(path)
    except StudioError:
        return False
    return True
