"""CLI commands `directions` (compute a direction set) and `edit` (a grid of faces moved along one direction)."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..directions import attributes, compute
from ..contract.directions import read
from ..contract.errors import UserError
from ..render import exports
from ..contract.latents import Latent, parse_layers, parse_seeds
from ..contract.requests import RenderEditGrid
from .render import add_render_options, check_cutoff, cli_model_record, load_cli_model, settings_from_args
from ..directions import classifier

METHODS = ("pca", "sefa", "attributes", "classifier")
ATTRIBUTE_SAMPLES = 3000


def register(sub: argparse._SubParsersAction) -> None:
    """Add `directions` and `edit` to the CLI."""
    p = sub.add_parser("directions", help="find directions in W: pca (GANSpace), sefa (closed form), attributes "
                       "(linear boundaries of classified faces); classifier trains the attribute classifier")
    p.add_argument("method", choices=METHODS)
    p.add_argument("--data", help="classifier: the avatars zip (with attributes.json) to train on")
    p.add_argument("--heldout", help="classifier: the held-out avatars zip it is measured on")
    p.add_argument("--classifier", help="attributes: classifier file (default: the bundled one)")
    p.add_argument("--images", type=int, default=20000, help="classifier: training faces used (default 20000)")
    p.add_argument("--epochs", type=int, default=3, help="classifier: passes over them (default 3)")
    p.add_argument("--model", help="model file (default: the bundled model)")
    p.add_argument("--count", type=int, default=20, help="directions kept (default 20)")
    p.add_argument("--samples", type=int, help="pca/sefa: mapped samples for PCA and σ (default 20000); "
                   f"attributes: generated faces classified (default {ATTRIBUTE_SAMPLES})")
    p.add_argument("--layers", default="all", help="layers the directions are for: coarse, middle, fine, all, 0-3")
    p.add_argument("--seed", type=int, default=0, help="seed of the sampled z (default 0)")
    p.add_argument("--out", required=True, help="directions file (.npz)")
    p.set_defaults(run=run_directions)
    p = sub.add_parser("edit", help="a grid of faces (rows) moved along one direction (columns)")
    p.add_argument("--seeds", required=True, help="faces, e.g. 0-4")
    p.add_argument("--directions", required=True, help="directions file from `directions`")
    p.add_argument("--pick", default="0", help="direction by 0-based index or name (default 0)")
    p.add_argument("--amounts", default="-3,0,3", help="steps in σ, e.g. -3,0,3 (write --amounts=-3,0,3)")
    p.add_argument("--layers", help="layers to move (default: the directions' own layers)")
    add_render_options(p)
    p.add_argument("--out", required=True, help="PNG file of the grid")
    p.set_defaults(run=run_edit)


def run_classifier(args: argparse.Namespace) -> int:
    """Train the attribute classifier and print its held-out accuracy per attribute."""
    if not args.data or not args.heldout:
        raise UserError("directions classifier needs --data TRAIN.zip and --heldout HELDOUT.zip")

    def progress(step, steps, loss):
        print(f"step {step}/{steps} loss {loss:.3f}", file=sys.stderr, flush=True)
    result = classifier.fit(args.data, args.heldout, args.out, args.images, args.epochs, progress)
    for name, acc in result["accuracy"].items():
        chance = result["majority_class"].get(name)
        print(f"{name:18s} {acc:6.1%}" + (f"   (majority class {chance:.1%})" if chance is not None else ""))
    print(f"wrote {args.out} ({result['train_count']} faces × {args.epochs} epochs, {result['seconds']} s)")
    return 0


def run_directions(args: argparse.Namespace) -> int:
    """Compute a direction set and write it."""
    if args.method == "classifier":
        return run_classifier(args)
    samples = args.samples or (ATTRIBUTE_SAMPLES if args.method == "attributes" else 20000)
    if not 1 <= args.count <= 4096 or not 2 <= samples <= 10_000_000:
        raise UserError("--count must be 1-4096 and --samples 2-10000000")
    G, meta, _ = load_cli_model(args)
    layers = parse_layers(args.layers, G.ws_resolutions)
    t0 = time.perf_counter()
    if args.method == "attributes":
        job = attributes.attribute_directions(G, load_classifier(args.classifier), meta.model_id, samples)
    elif args.method == "pca":
        job = compute.pca(G, meta.model_id, args.count, samples, args.seed, layers)
    else:
        job = compute.sefa(G, meta.model_id, args.count, layers, samples, args.seed)
    ds = compute.run(job)
    compute.save(args.out, ds)
    top = ", ".join(f"{n} {s:.3f}" for n, s in zip(ds.names[:5], ds.scores[:5]))
    print(f"wrote {args.out}: {len(ds)} {args.method.rstrip('s')} directions for layers {_span(ds.layers)} "
          f"({ds.score_name}: {top}) in {time.perf_counter() - t0:.1f} s")
    return 0


def load_classifier(path: str | None):
    """The attribute classifier at `path`, else the bundled one."""
    path = path or attributes.bundled_classifier()
    if not Path(path).is_file():
        raise UserError(f"no attribute classifier at {path}; train one with `directions classifier`")
    return classifier.load(path)


def _span(layers) -> str:
    return f"{layers[0]}-{layers[-1]}" if list(layers) == list(range(layers[0], layers[-1] + 1)) else \
        ",".join(map(str, layers))


def parse_amounts(text: str) -> tuple[float, ...]:
    """'-3,0,3' → (-3.0, 0.0, 3.0)."""
    try:
        amounts = tuple(float(a) for a in text.split(",") if a.strip())
    except ValueError:
        raise UserError(f"cannot read --amounts {text!r}; use numbers like -3,0,3") from None
    if not amounts:
        raise UserError("--amounts needs at least one number")
    return amounts


def run_edit(args: argparse.Namespace) -> int:
    """Render the edit grid as a PNG whose provenance holds the direction itself."""
    ds = read(args.directions)
    k = ds.index(args.pick)
    seeds, amounts, settings = parse_seeds(args.seeds), parse_amounts(args.amounts), settings_from_args(args)
    G, meta, path = load_cli_model(args)
    check_cutoff(settings, G.num_ws)
    if ds.w_dim != G.w_dim:
        raise UserError(f"{args.directions} is for a w of {ds.w_dim} values; this model's has {G.w_dim}")
    if ds.model_id != meta.model_id:
        print(f"note: {args.directions} was made for model {ds.model_id}, not {meta.model_id}", file=sys.stderr)
    layers = parse_layers(args.layers, G.ws_resolutions) if args.layers else ds.layers
    spec = RenderEditGrid(latents=tuple(Latent(seed=s, c=args.cls) for s in seeds), direction=tuple(ds.vectors[k].tolist()),
                          sigma=float(ds.sigmas[k]), amounts=amounts, layers=tuple(layers), name=ds.names[k],
                          settings=settings)
    exports.save(args.out, G, spec, cli_model_record(meta, path))
    print(f"wrote {args.out} ({len(seeds)}×{len(amounts)}: {ds.names[k]} at {', '.join(f'{a:+g}σ' for a in amounts)}"
          f" on layers {_span(layers)})")
    return 0
