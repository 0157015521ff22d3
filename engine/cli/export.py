"""CLI commands that export: `video` and `figure`."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..contract.directions import read
from ..contract.errors import UserError
from ..render import exports
from .render import add_class_option, add_transform_options, cli_model_record, load_cli_model
from ..contract.latentfile import read_latents
from ..contract.latents import DEFAULT_PSI, Latent, NoiseSpec, parse_layers, parse_seeds
from ..contract.requests import FIGURES, RenderFigure
from ..render.video import video_job
from ..contract.video import KINDS, VideoSpec, check_format, decode_path


def register(sub: argparse._SubParsersAction) -> None:
    """Add `video` and `figure` to the CLI."""
    p = sub.add_parser("video", help="export a latent walk, ψ sweep, noise animation, morph, grid or direction video")
    p.add_argument("--kind", choices=KINDS, default="walk")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--space", choices=("w", "z"), default="w", help="interpolate in W (lerp) or Z (slerp)")
    p.add_argument("--path", help="walk: a travelled path file (the window's Seed → Save Travelled Path…) instead "
                   "of --seeds; --frames-per-step is then frames per seed travelled, --space the path's own")
    p.add_argument("--latents", help="walk: a latents file (.npz of w: the window's favourites Save…, or "
                   "`project`'s) instead of --seeds: a walk in W through those faces")
    p.add_argument("--frames-per-step", type=int, default=30)
    p.add_argument("--fps", type=int, default=30)
    p.add_argument("--size", type=int, help="output size in px (upscaled with --filter)")
    p.add_argument("--psi", type=float, default=DEFAULT_PSI, help=f"truncation ψ (default {DEFAULT_PSI})")
    p.add_argument("--cutoff", type=int)
    p.add_argument("--layers", default="", help="morph: layers to interpolate (coarse, middle, fine, 0-3 …)")
    p.add_argument("--noise-res", default="", help="noise: resolutions to animate, e.g. 32,64 (default all)")
    p.add_argument("--noise", default="const", help="the other kinds: the noise every frame gets, as generate's "
                   "--noise (const, zero, random#SEED, or per resolution: 'const; 64:zero')")
    p.add_argument("--psi-range", default="-1,1.5", help="truncation: from,to")
    p.add_argument("--directions", help="direction: a directions file (from `directions`)")
    p.add_argument("--pick", default="0", help="direction: which one, by 0-based index or name")
    p.add_argument("--amount-range", default="-3,3", help="direction: from,to in σ (write --amount-range=-3,3)")
    p.add_argument("--no-loop", action="store_true")
    p.add_argument("--easing", choices=("linear", "smooth"), default="smooth")
    p.add_argument("--quality", type=int, default=80)
    p.add_argument("--filter", choices=("nearest", "bilinear", "lanczos"), default="lanczos")
    p.add_argument("--model", help="model file (default: the bundled model)")
    add_class_option(p)
    add_transform_options(p)
    p.add_argument("--out", required=True, help="FILE.mp4, .webm, .gif or .webp")
    p.set_defaults(run=run_video)
    p = sub.add_parser("figure", help="reproduce one of the paper's figures on a model")
    p.add_argument("name", choices=FIGURES)
    p.add_argument("--model", help="model file (default: the bundled model)")
    p.add_argument("--seeds", help="seeds to use (uncurated: 0-63)")
    p.add_argument("--psi", type=float, default=DEFAULT_PSI, help=f"truncation ψ (default {DEFAULT_PSI})")
    add_class_option(p)
    p.add_argument("--out", required=True)
    p.set_defaults(run=run_figure)


def spec_from_args(args: argparse.Namespace, ws_resolutions: tuple[int, ...]) -> VideoSpec:
    """VideoSpec from the command line."""
    extra = direction_args(args, ws_resolutions) if args.kind == "direction" else {}
    layers = extra.pop("layers", parse_layers(args.layers, ws_resolutions) if args.layers else ())
    if args.path:
        if args.kind != "walk":
            raise UserError("--path is a walk's path: use it with --kind walk")
        try:
            extra["path"], args.space = decode_path(Path(args.path).read_bytes())
        except OSError as exc:
            raise UserError(f"cannot read {args.path}: {exc.strerror or exc}") from None
    if args.latents:
        if args.kind != "walk" or args.path:
            raise UserError("--latents are the faces a walk goes through: use them with --kind walk, without --path")
        ws, _ = read_latents(args.latents)
        if len(ws) < 2:
            raise UserError(f"{args.latents} holds {len(ws)} face; a walk needs two or more")
        extra["latents"] = tuple(Latent(w=w) for w in ws)
    return VideoSpec(**extra, kind=args.kind, seeds=parse_seeds(args.seeds), space=args.space,
                     frames_per_step=args.frames_per_step, fps=args.fps, size=args.size, psi=args.psi,
                     cutoff=args.cutoff, layers=layers,
                     noise_res=_numbers("--noise-res", args.noise_res, int, "32,64"),
                     psi_range=_pair("--psi-range", args.psi_range), loop=not args.no_loop, easing=args.easing,
                     quality=args.quality, filter=args.filter, c=args.cls, translate=args.translate,
                     rotate=args.rotate, noise=NoiseSpec.parse(args.noise))


def direction_args(args: argparse.Namespace, ws_resolutions: tuple[int, ...]) -> dict:
    """VideoSpec fields of a direction sweep: the picked direction, its σ and layers (--layers or the file's)."""
    if not args.directions:
        raise UserError("a direction video needs --directions FILE (make one with `directions pca`)")
    ds = read(args.directions)
    k = ds.index(args.pick)
    amounts = _pair("--amount-range", args.amount_range, "-3,3")
    return {"direction": tuple(ds.vectors[k].tolist()), "sigma": float(ds.sigmas[k]), "amount_range": amounts,
            "direction_name": ds.names[k],
            "layers": parse_layers(args.layers, ws_resolutions) if args.layers else ds.layers}


def _numbers(option: str, text: str, kind: type = float, example: str = "-1,1.5") -> tuple:
    """'a,b,…' → numbers of `kind`; one line naming the option if they are not."""
    try:
        return tuple(kind(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise UserError(f"cannot read {option} {text!r}; use numbers like {example}") from None


def _pair(option: str, text: str, example: str = "-1,1.5") -> tuple[float, float]:
    """'from,to' (or one number for both) → (from, to)."""
    values = _numbers(option, text, float, example)
    if len(values) not in (1, 2):
        raise UserError(f"{option} needs from,to like {example}")
    return values[0], values[-1]


def run_video(args: argparse.Namespace) -> int:
    """`video`: render and encode with a progress bar."""
    check_format(args.out)
    G, meta, path = load_cli_model(args)
    spec = spec_from_args(args, G.ws_resolutions)
    for done, total in video_job(G, meta, path, spec, args.out):
        if sys.stderr.isatty():
            fill = int(30 * done / total)
            sys.stderr.write(f"\rvideo [{'#' * fill}{'.' * (30 - fill)}] {done}/{total} frames")
    print(f"\nwrote {args.out} ({total} frames at {spec.fps} fps)")
    return 0


def run_figure(args: argparse.Namespace) -> int:
    """`figure`: one of the paper's figure recipes as a PNG with provenance."""
    G, meta, path = load_cli_model(args)
    spec = RenderFigure(name=args.name, seeds=parse_seeds(args.seeds) if args.seeds else (), psi=args.psi, c=args.cls)
    exports.save(args.out, G, spec, cli_model_record(meta, path))
    print(f"wrote {args.out}")
    return 0
