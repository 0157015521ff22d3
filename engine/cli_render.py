"""CLI commands that render images: `generate` and `mix`."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from .bundled import resolve_model
from .errors import UserError
from .explore import default_device, render_latents, render_mixing
from .fileio import WriteError, describe_os_error
from .imported import cached_conversion, is_official_pickle
from .modelfile import load_model, read_header
from .pngio import make_grid, read_provenance, save_png
from .provenance import provenance, settings_from
from .specs import Latent, NoiseSpec, RenderSettings, ResNoise, parse_layers, parse_seeds


def add_render_options(p: argparse.ArgumentParser) -> None:
    """--model, --psi, --cutoff, --noise, --noise-seed."""
    p.add_argument("--model", help="model file (default: the bundled model)")
    p.add_argument("--psi", type=float, default=1.0, help="truncation ψ (1 = none; the paper uses 0.7)")
    p.add_argument("--cutoff", type=int, help="truncate only layers below this index (default: all)")
    p.add_argument("--noise", default="const",
                   help="const (stored maps), random, zero, or per resolution: 'const; 64:random#3x0.5'")
    p.add_argument("--noise-seed", type=int, default=0, help="seed of the noise maps for --noise random")


def register(sub: argparse._SubParsersAction) -> None:
    """Add `generate` and `mix` to the CLI."""
    p = sub.add_parser("generate", help="render seeds to PNG files or one grid")
    p.add_argument("--seeds", help="e.g. 0-7,42")
    p.add_argument("--from-png", help="regenerate a studio PNG exactly from its provenance")
    add_render_options(p)
    out = p.add_mutually_exclusive_group()
    out.add_argument("--out", help="folder for one PNG per seed")
    out.add_argument("--grid", help="one PNG holding all seeds")
    p.add_argument("--cols", type=int, help="grid columns (default: about square)")
    p.set_defaults(run=run_generate)
    p = sub.add_parser("mix", help="render a style-mixing grid")
    p.add_argument("--rows", required=True, help="row seeds (take the layers not chosen)")
    p.add_argument("--cols", required=True, help="column seeds (give the chosen layers)")
    p.add_argument("--layers", default="coarse", help="coarse, middle, fine, all or indices like 0-3,7")
    add_render_options(p)
    p.add_argument("--out", required=True, help="PNG file of the grid")
    p.set_defaults(run=run_mix)


def settings_from_args(args: argparse.Namespace) -> RenderSettings:
    """RenderSettings from --psi/--cutoff/--noise/--noise-seed."""
    text = args.noise.strip()
    noise = NoiseSpec(ResNoise("random", args.noise_seed)) if text == "random" else NoiseSpec.parse(text)
    return RenderSettings(psi=args.psi, cutoff=args.cutoff, noise=noise)


def load_cli_model(args: argparse.Namespace):
    """(G, meta, path) for the --model option, on CUDA when present; an official .pkl is converted once (cached)."""
    path = resolve_model(args.model)
    source = path
    if is_official_pickle(path):
        source, notice = cached_conversion(path)
        print(notice, file=sys.stderr)
    G, meta = load_model(source, default_device())
    return G, meta, path


def check_cutoff(settings: RenderSettings, num_ws: int) -> None:
    """Reject a cutoff beyond the model's layers."""
    if settings.cutoff is not None and settings.cutoff > num_ws:
        raise UserError(f"--cutoff {settings.cutoff} is beyond this model's {num_ws} layers")


def ensure_dir(path: Path) -> None:
    """Create an output folder, or fail with one line."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(f"cannot create {path}: {describe_os_error(exc)}") from None


def from_png(args: argparse.Namespace) -> argparse.Namespace:
    """Arguments recovered from a studio PNG's provenance (model, seeds, ψ, cutoff, noise, layout)."""
    try:
        record = read_provenance(args.from_png)
    except OSError as exc:
        raise UserError(f"cannot read {args.from_png}: {exc}") from None
    if not record or record.get("kind") not in ("image", "grid"):
        raise UserError(f"{args.from_png} carries no stylegan-studio image provenance")
    model = args.model or record["model_path"]
    cfg_id = read_header(resolve_model(model))[1].model_id
    if cfg_id != record["model_id"]:
        raise UserError(f"{model} is model {cfg_id}, but the PNG was made with model {record['model_id']}")
    s = settings_from(record)
    stem = Path(args.from_png).with_suffix("")
    grid = args.grid or (f"{stem}-regenerated.png" if record["kind"] == "grid" and not args.out else None)
    return argparse.Namespace(**{**vars(args), "model": model, "psi": s.psi, "cutoff": s.cutoff,
                                 "noise": s.noise.describe(), "noise_seed": 0, "grid": grid,
                                 "seeds": ",".join(map(str, record["seeds"])), "cols": record.get("cols"),
                                 "out": args.out or (None if grid else f"{stem}-regenerated")})


def run_generate(args: argparse.Namespace) -> int:
    """`generate`: one PNG per seed (--out) or a single grid (--grid)."""
    if args.from_png:
        args = from_png(args)
    if not args.seeds or not (args.out or args.grid):
        raise UserError("generate needs --seeds and --out DIR or --grid FILE (or --from-png FILE)")
    seeds = parse_seeds(args.seeds)
    settings = settings_from_args(args)
    G, meta, path = load_cli_model(args)
    check_cutoff(settings, G.num_ws)
    imgs = render_latents(G, [Latent(seed=s) for s in seeds], settings, batch=8, pad=True)
    if args.grid:
        cols = args.cols or int(np.ceil(np.sqrt(len(seeds))))
        save_png(args.grid, make_grid(imgs, cols),
                 provenance(meta, path, settings, "grid", seeds=list(seeds), cols=cols))
        print(f"wrote {args.grid} ({len(seeds)} images)")
        return 0
    out = Path(args.out)
    ensure_dir(out)
    for seed, img in zip(seeds, imgs):
        save_png(out / f"seed{seed:04d}.png", img, provenance(meta, path, settings, "image", seeds=[seed]))
    print(f"wrote {len(seeds)} images to {out}")
    return 0


def mixing_figure(sources_r: np.ndarray, sources_c: np.ndarray, cells: np.ndarray, fill: int = 255) -> np.ndarray:
    """Sources along the top and left, cells [R, C, H, W, 3] inside, blank corner."""
    R, C, H, W, ch = cells.shape
    canvas = np.full(((R + 1) * H, (C + 1) * W, ch), fill, np.uint8)
    for c in range(C):
        canvas[:H, (c + 1) * W:(c + 2) * W] = sources_c[c]
    for r in range(R):
        canvas[(r + 1) * H:(r + 2) * H, :W] = sources_r[r]
        for c in range(C):
            canvas[(r + 1) * H:(r + 2) * H, (c + 1) * W:(c + 2) * W] = cells[r, c]
    return canvas


def run_mix(args: argparse.Namespace) -> int:
    """`mix`: cell (r, c) is row r with the chosen layers from column c."""
    rows, cols = parse_seeds(args.rows), parse_seeds(args.cols)
    settings = settings_from_args(args)
    G, meta, path = load_cli_model(args)
    check_cutoff(settings, G.num_ws)
    layers = parse_layers(args.layers, G.cfg.resolution)
    row_lat, col_lat = [Latent(seed=s) for s in rows], [Latent(seed=s) for s in cols]
    sources = render_latents(G, row_lat + col_lat, settings, batch=8, pad=True)
    cells = render_mixing(G, row_lat, col_lat, layers, settings, batch=8, pad=True)
    figure = mixing_figure(sources[:len(rows)], sources[len(rows):], cells)
    save_png(args.out, figure, provenance(meta, path, settings, "mix", rows=list(rows), cols=list(cols),
                                          layers=list(layers)))
    print(f"wrote {args.out} ({len(rows)}×{len(cols)} cells, layers {','.join(map(str, layers)) or 'none'})")
    return 0
