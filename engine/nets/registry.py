"""The architectures the studio knows: arch name → (config, generator, discriminator) classes, and how to build them."""
from __future__ import annotations

import torch
from torch import nn

from .api import GeneratorNet
from ..contract.modelconfig import ConfigError, ModelConfig
from .networks import Discriminator, Generator
from .stylegan2 import Discriminator as Stylegan2Discriminator, Generator as Stylegan2Generator
from .stylegan2_config import Stylegan2Config
from .stylegan3 import Generator as Stylegan3Generator
from .stylegan3_config import Stylegan3Config

DEFAULT_ARCH = "stylegan1"  # what a model file without an `arch` entry holds (every file before the registry)

# arch → (config class, generator class, discriminator class or None where the studio does not train it)
ARCHS: dict[str, tuple[type, type, type | None]] = {
    "stylegan1": (ModelConfig, Generator, Discriminator),
    "stylegan2": (Stylegan2Config, Stylegan2Generator, Stylegan2Discriminator),  # fine-tuned (train --init)
    "stylegan3": (Stylegan3Config, Stylegan3Generator, None),  # explored, not trained (no v3 trainer yet)
}

W_AVG_SAMPLES = 4096  # z samples a new model's w_avg is the mean of


def _entry(arch: str) -> tuple[type, type, type | None]:
    if arch not in ARCHS:
        raise ConfigError(f"unknown model architecture {str(arch)[:40]!r} (this studio knows {', '.join(ARCHS)})")
    return ARCHS[arch]


def arch_of(cfg) -> str:
    """The registry key of a config object."""
    for arch, (cfg_cls, _, _) in ARCHS.items():
        if type(cfg) is cfg_cls:
            return arch
    raise ConfigError(f"{type(cfg).__name__} is not the config of a known architecture")


def config_from_dict(arch: str, data: dict):
    """The arch's config from a model file's config dict (its from_dict validates)."""
    return _entry(arch)[0].from_dict(data)


def build_generator(cfg) -> GeneratorNet:
    """An untrained generator for `cfg` (weights from torch's global random stream), in train mode."""
    return _entry(arch_of(cfg))[1](cfg)


def generator_from_config(arch: str, cfg_dict: dict) -> GeneratorNet:
    """A generator of `arch` built from a model file's config dict, ready for its weights."""
    return build_generator(config_from_dict(arch, cfg_dict))


def new_networks(g_cfg, d_cfg, seed: int) -> tuple[GeneratorNet, nn.Module]:
    """A training run's fresh G and D: torch's global stream is seeded with `seed`, then G, then D draw from it."""
    arch = arch_of(g_cfg)
    d_cls = _entry(arch)[2]
    if d_cls is None or arch_of(d_cfg) != arch:
        raise ConfigError(f"the studio does not train {arch} models")
    torch.manual_seed(seed)
    G = build_generator(g_cfg)
    return G, d_cls(d_cfg)


def can_train(arch: str) -> bool:
    """Whether the studio has a discriminator, and so a trainer, for `arch`."""
    return _entry(arch)[2] is not None


def can_fine_tune(G: GeneratorNet) -> bool:
    """Whether the trainer can continue this model (`train --init`): an architecture it trains, no class labels."""
    return can_train(G.arch) and G.c_dim == 0


def new_discriminator(cfg) -> nn.Module:
    """An untrained discriminator for `cfg` (for sizes and counts; training builds its own with new_networks)."""
    d_cls = _entry(arch_of(cfg))[2]
    if d_cls is None:
        raise ConfigError(f"the studio has no {arch_of(cfg)} discriminator")
    return d_cls(cfg)


def new_generator(cfg, seed: int) -> GeneratorNet:
    """A new model to explore: G initialised from `seed`, w_avg centred on its mapping's mean, eval mode, no grads."""
    torch.manual_seed(seed)
    G = build_generator(cfg).eval().requires_grad_(False)
    init_w_avg(G, seed=seed)
    return G


def init_w_avg(G: GeneratorNet, samples: int = W_AVG_SAMPLES, seed: int = 0) -> None:
    """Centre truncation on a fresh model's mean w (a trained model keeps its running mean)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        G.w_avg.copy_(G.mapping(torch.randn(samples, G.z_dim, generator=gen)).mean(0))
