"""CLI commands that create and describe model files: `new`, `info`."""
from __future__ import annotations

import argparse

from ..contract.modelconfig import ModelConfig
from ..files.modelfile import ModelMeta, save_model
from ..nets.registry import new_generator
from ..files.bundled import resolve_model
from ..thread.describe import count, describe_file


def register(sub: argparse._SubParsersAction) -> None:
    """Add `new` and `info` to the CLI."""
    p = sub.add_parser("new", help="create a freshly initialised model file")
    p.add_argument("--resolution", type=int, default=64, help="output resolution, a power of two 8-1024")
    p.add_argument("--preset", choices=("paper", "small"), default="small",
                   help="paper: 512 channels up to 32² (fmap_base 8192); small: CPU-friendly (default)")
    p.add_argument("--channels", type=int, help="feature maps at low resolutions (sets fmap_max)")
    p.add_argument("--z-dim", type=int, help="size of z and w")
    p.add_argument("--mapping-layers", type=int, default=8)
    p.add_argument("--seed", type=int, default=0, help="initialisation seed")
    p.add_argument("--half", action="store_true", help="store weights as float16")
    p.add_argument("--out", required=True, help="model file to write")
    p.set_defaults(run=run_new)
    p = sub.add_parser("info", help="show a model's config, parameter counts and layers")
    p.add_argument("--model", help="model file (default: the bundled model)")
    p.set_defaults(run=run_info)


def config_from_args(args: argparse.Namespace) -> ModelConfig:
    """ModelConfig for `new` from the preset and overrides."""
    if args.preset == "paper":
        ch, z = args.channels or 512, args.z_dim or 512
        return ModelConfig(resolution=args.resolution, z_dim=z, w_dim=z, mapping_fmaps=z,
                           fmap_base=ch * 16, fmap_max=ch, mapping_layers=args.mapping_layers)
    cfg = ModelConfig.small(args.resolution, args.channels or 128, args.z_dim or 128)
    return ModelConfig(**{**cfg.to_dict(), "mapping_layers": args.mapping_layers})


def run_new(args: argparse.Namespace) -> int:
    """`new`: initialise G with a seed and write it."""
    cfg = config_from_args(args)
    G = new_generator(cfg, args.seed)
    meta = save_model(G, args.out, ModelMeta(source=f"new (seed {args.seed})", seed=args.seed), half=args.half)
    print(f"wrote {args.out}: {G.img_resolution}² model, {count(G):,} parameters, id {meta.model_id}")
    return 0


def run_info(args: argparse.Namespace) -> int:
    """`info`: print config, provenance, parameter counts and the layer table."""
    print("\n".join(describe_file(resolve_model(args.model))))
    return 0
