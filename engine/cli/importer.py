"""CLI command `import`: an official StyleGAN v1 pickle → a studio model file (nothing in the pickle runs)."""
from __future__ import annotations

import argparse

from .model import count
from ..files.imported import describe_import, import_to_file


def register(sub: argparse._SubParsersAction) -> None:
    """Add `import` to the CLI."""
    p = sub.add_parser("import", help="convert an official StyleGAN v1 pickle (NVIDIA's .pkl) into a model file",
                       description="Reads NVIDIA's StyleGAN v1 snapshot pickles (FFHQ, CelebA-HQ, LSUN, your own "
                                   "runs) without TensorFlow and without running anything inside them; writes "
                                   "Gs, the averaged generator.")
    p.add_argument("pkl", help="official pickle, e.g. karras2019stylegan-ffhq-1024x1024.pkl")
    p.add_argument("--out", required=True, help="model file to write (.safetensors)")
    p.add_argument("--half", action="store_true", help="store weights as float16")
    p.set_defaults(run=run_import)


def run_import(args: argparse.Namespace) -> int:
    """`import`: convert, write atomically, report what was read."""
    models, meta = import_to_file(args.pkl, args.out, half=args.half)
    cfg = models.cfg
    print(f"wrote {args.out}: {cfg.resolution}² StyleGAN v1 generator, {count(models.G_ema):,} parameters, "
          f"{cfg.num_ws} layers, id {meta.model_id}")
    print("\n".join(describe_import(models.record) + [f"note      {n}" for n in models.notes]))
    return 0
