"""CLI commands that render images: `generate` and `mix` (thin callers of engine/render/exports.py)."""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from ..render import exports
from ..files.bundled import resolve_model
from ..nets.api import feature_layers
from ..nets.device import default_device
from ..contract.errors import UserError
from ..contract.latentfile import read_latents
from ..files.fileio import make_dir
from ..files.imported import cached_conversion, is_official_pickle, open_model
from ..files.modelfile import read_header
from ..files.pngio import read_request
from ..files.provenance import model_record
from ..contract.latents import (DEFAULT_PSI, Latent, NoiseSpec, RenderSettings, ResNoise, SpecError, parse_layers,
                               parse_seeds, parse_translate)
from ..contract.requests import LAYER_MODES, RenderImage, RenderLayer, RenderMixGrid, RenderRequest, RenderSeedGrid

def as_argument(parse):
    """An argparse type from a parser that raises SpecError: its own message, not "invalid parse_x value"."""
    def parsed(text: str):
        try:
            return parse(text)
        except SpecError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return parsed


def add_class_option(p: argparse.ArgumentParser) -> None:
    """--class N: the class seeds are mapped with on a class-conditional model."""
    p.add_argument("--class", dest="cls", type=int, metavar="N",
                   help="class of a class-conditional model (0 to classes-1); unconditional models take none")


def add_transform_options(p: argparse.ArgumentParser) -> None:
    """--translate X,Y and --rotate DEG: the input transform of a StyleGAN3 model."""
    p.add_argument("--translate", type=as_argument(parse_translate), default=(0.0, 0.0), metavar="X,Y",
                   help="move a StyleGAN3 model's input, e.g. 0.1,-0.2 (as NVIDIA's gen_images.py)")
    p.add_argument("--rotate", type=float, default=0.0, metavar="DEG",
                   help="rotate a StyleGAN3 model's input by DEG degrees")


def add_render_options(p: argparse.ArgumentParser) -> None:
    """--model, --psi, --cutoff, --noise, --noise-seed, --class, --translate, --rotate."""
    p.add_argument("--model", help="model file (default: the bundled model)")
    p.add_argument("--psi", type=float, default=DEFAULT_PSI,
                   help=f"truncation ψ (default {DEFAULT_PSI}, as the paper and the window; 1 = none)")
    p.add_argument("--cutoff", type=int, help="truncate only layers below this index (default: all)")
    p.add_argument("--noise", default="const",
                   help="const (stored maps), random, zero (NVIDIA's noise_mode const/random/none), "
                        "or per resolution: 'const; 64:random#3x0.5'")
    p.add_argument("--noise-seed", type=int, default=0, help="seed of the noise maps for --noise random")
    add_class_option(p)
    add_transform_options(p)


def register(sub: argparse._SubParsersAction) -> None:
    """Add `generate` and `mix` to the CLI."""
    p = sub.add_parser("generate", help="render seeds to PNG files or one grid")
    p.add_argument("--seeds", help="e.g. 0-7,42")
    p.add_argument("--latents", help="a latents file (.npz: the window's favourites Save…, or `project`'s) "
                   "instead of --seeds, with --out: one PNG per face, numbered in the file's order")
    p.add_argument("--from-png", help="regenerate a studio PNG exactly from its provenance (image, grid, "
                   "mixing grid, figure, noise map or ψ strip, saved by the window or the CLI)")
    add_render_options(p)
    out = p.add_mutually_exclusive_group()
    out.add_argument("--out", help="folder for one PNG per seed")
    out.add_argument("--grid", help="one PNG holding all seeds (with --from-png: the file to write)")
    p.add_argument("--cols", type=int, help="grid columns (default: about square)")
    p.set_defaults(run=run_generate)
    p = sub.add_parser("mix", help="render a style-mixing grid")
    p.add_argument("--rows", required=True, help="row seeds (take the layers not chosen)")
    p.add_argument("--cols", required=True, help="column seeds (give the chosen layers)")
    p.add_argument("--layers", default="coarse", help="coarse, middle, fine, all or indices like 0-3,7")
    add_render_options(p)
    p.add_argument("--out", required=True, help="PNG file of the grid")
    p.set_defaults(run=run_mix)
    p = sub.add_parser("layers", help="show what one synthesis layer computes for seeds (channel grids by default)")
    p.add_argument("--seeds", required=True, help="e.g. 0-3")
    p.add_argument("--layer", help="a layer such as 16x16/conv1 (leave out to list the model's layers)")
    p.add_argument("--mode", choices=LAYER_MODES, default="grid",
                   help="grid: every channel, highest energy first; channel: one enlarged; rgb: three as colours")
    p.add_argument("--channels", default="", help="channel: one number; rgb: three, e.g. 0,5,7")
    p.add_argument("--size", type=int, help="channel / rgb: side in px (default: the layer's own)")
    add_render_options(p)
    p.add_argument("--out", help="PNG file: one view per seed, side by side")
    p.set_defaults(run=run_layers)


def settings_from_args(args: argparse.Namespace) -> RenderSettings:
    """RenderSettings from --psi/--cutoff/--noise/--noise-seed/--translate/--rotate."""
    text = args.noise.strip()
    noise = NoiseSpec(ResNoise("random", args.noise_seed)) if text == "random" else NoiseSpec.parse(text)
    return RenderSettings(psi=args.psi, cutoff=args.cutoff, noise=noise, translate=args.translate, rotate=args.rotate)


def load_cli_model(args: argparse.Namespace):
    """(G, meta, path) for the --model option, on CUDA when present; an official .pkl is converted once."""
    path = resolve_model(args.model)
    G, meta, notice = open_model(path, default_device())
    if notice:
        print(notice, file=sys.stderr)
    return G, meta, path


def cli_model_record(meta, path) -> dict:
    """The provenance's model part for a model the CLI opened."""
    return model_record(meta.model_id, meta.name, path)


def check_cutoff(settings: RenderSettings, num_ws: int) -> None:
    """Reject a cutoff beyond the model's layers."""
    if settings.cutoff is not None and settings.cutoff > num_ws:
        raise UserError(f"--cutoff {settings.cutoff} is beyond this model's {num_ws} layers")


def ensure_dir(path: Path) -> None:
    """Create an output folder, or fail with one line."""
    make_dir(path)


def read_png_spec(args: argparse.Namespace) -> tuple[RenderRequest, dict]:
    """(request, record) a studio PNG carries; the model it names must be the one used."""
    found = read_request(args.from_png)
    if found is None:
        raise UserError(f"{args.from_png} carries no stylegan-studio provenance")
    spec, rec = found
    model = args.model or rec.get("model_path", "")
    if not isinstance(model, str):
        raise UserError(f"{args.from_png}: the provenance's model_path is not a file name")
    source = resolve_model(model)
    cfg_id = read_header(cached_conversion(source)[0] if is_official_pickle(source) else source)[1].model_id
    if cfg_id != rec.get("model_id"):
        raise UserError(f"{model} is model {cfg_id}, but the PNG was made with model {str(rec.get('model_id'))[:40]}")
    args.model = model
    return spec, rec


def regenerate(args: argparse.Namespace) -> int:
    """`generate --from-png`: the same request rendered again (an image into --out DIR, others to a file; --grid
    FILE names the file for any kind)."""
    spec, rec = read_png_spec(args)
    stem = Path(args.from_png).with_suffix("")
    if isinstance(spec, RenderImage) and not args.grid:
        folder = Path(args.out or f"{stem}-regenerated")
        ensure_dir(folder)
        target = folder / (f"seed{spec.latent.seed:04d}.png" if spec.latent.seed is not None else Path(args.from_png).name)
    else:
        target = Path(args.grid or args.out or f"{stem}-regenerated.png")
    G, meta, path = load_cli_model(args)
    model = cli_model_record(meta, path)
    exports.save(target, G, spec, model)
    print(f"wrote {target} ({rec['kind']})")
    return 0


def run_generate(args: argparse.Namespace) -> int:
    """`generate`: one PNG per seed (--out) or a single grid (--grid)."""
    if args.from_png:
        return regenerate(args)
    if args.latents:
        return generate_latents(args)
    if not args.seeds or not (args.out or args.grid):
        raise UserError("generate needs --seeds (or --latents) and --out DIR or --grid FILE (or --from-png FILE)")
    seeds = parse_seeds(args.seeds)
    settings = settings_from_args(args)
    G, meta, path = load_cli_model(args)
    model = cli_model_record(meta, path)
    check_cutoff(settings, G.num_ws)
    if args.grid:
        spec = RenderSeedGrid(seeds=seeds, settings=settings, thumb=None, cols=args.cols or math.ceil(math.sqrt(len(seeds))),
                              c=args.cls)
        exports.save(args.grid, G, spec, model)
        print(f"wrote {args.grid} ({len(seeds)} images)")
        return 0
    return write_faces(args, G, [RenderImage(latent=Latent(seed=s, c=args.cls), settings=settings) for s in seeds],
                       model)


def generate_latents(args: argparse.Namespace) -> int:
    """`generate --latents FILE --out DIR`: one PNG per face of a latents file, named by its labels."""
    if args.seeds or args.grid or not args.out:
        raise UserError("--latents takes the place of --seeds and writes one PNG per face: give --out DIR")
    if args.cls is not None:
        raise UserError("--class goes with seeds; a latents file's w already holds its class")
    ws, labels = read_latents(args.latents)
    settings = settings_from_args(args)
    G, meta, path = load_cli_model(args)
    check_cutoff(settings, G.num_ws)
    return write_faces(args, G, [RenderImage(latent=Latent(w=w), settings=settings) for w in ws],
                       cli_model_record(meta, path), labels)


def write_faces(args: argparse.Namespace, G, specs: list[RenderImage], model: dict, labels=()) -> int:
    """One PNG per face into --out, as the window's Export Faces writes them."""
    for _ in exports.write_faces(G, specs, args.out, model, labels):
        pass
    print(f"wrote {len(specs)} images to {args.out}")
    return 0


def run_mix(args: argparse.Namespace) -> int:
    """`mix`: a grid whose cell (r, c) is row r with the chosen layers from column c."""
    rows, cols = parse_seeds(args.rows), parse_seeds(args.cols)
    settings = settings_from_args(args)
    G, meta, path = load_cli_model(args)
    model = cli_model_record(meta, path)
    check_cutoff(settings, G.num_ws)
    layers = parse_layers(args.layers, G.ws_resolutions)
    spec = RenderMixGrid(rows=tuple(Latent(seed=s, c=args.cls) for s in rows),
                         cols=tuple(Latent(seed=s, c=args.cls) for s in cols),
                         layers=layers, settings=settings, thumb=None)
    exports.save(args.out, G, spec, model)
    print(f"wrote {args.out} ({len(rows)}×{len(cols)} cells, layers {','.join(map(str, layers)) or 'none'})")
    return 0


def run_layers(args: argparse.Namespace) -> int:
    """`layers`: one layer's view (a channel grid, one channel or three as RGB) of each seed, in one PNG."""
    G, meta, path = load_cli_model(args)
    if not args.layer or not args.out:
        print("layers of this model (name, resolution, channels):")
        for name, res, ch in feature_layers(G):
            print(f"  {name:<14} {res}x{res}  {ch}")
        if not args.layer and not args.out:
            return 0
        raise UserError("layers needs --layer NAME and --out FILE (the list above names the layers)")
    try:
        channels = tuple(int(c) for c in args.channels.replace(" ", "").split(",") if c)
    except ValueError:
        raise UserError(f"cannot read channels {args.channels!r}; use numbers like 0,5,7") from None
    need = {"channel": 1, "rgb": 3}.get(args.mode, 0)
    if len(channels) != need:   # the contract's line, in the command line's words
        raise UserError(f"--mode {args.mode} takes {need or 'no'} channel number{'s' * (need != 1)} in --channels, "
                        f"got {len(channels)}" + (" (e.g. --channels 0,5,7)" if need == 3 else ""))
    settings = settings_from_args(args)
    check_cutoff(settings, G.num_ws)
    req = RenderLayer(latents=tuple(Latent(seed=s) for s in parse_seeds(args.seeds)), settings=settings,
                      layer=args.layer, mode=args.mode, channels=channels, size=args.size)
    exports.save(args.out, G, req, cli_model_record(meta, path))
    print(f"wrote {args.out} ({args.layer}, {args.mode}, {len(req.latents)} seeds)")
    return 0
