"""NVIDIA's PyTorch networks (stylegan2-ada-pytorch, stylegan3) as ours: which arch a pickled class is, and building it.

A snapshot records each network as (module, class name, init kwargs, state). This module maps NVIDIA's module
names to our registry's architectures and builds the generator (or discriminator) from that record, so nothing
above nets/ asks which version a pickle holds. Adding an architecture is one entry in IMPORTERS.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from torch import nn

from ..contract.errors import StudioError
from .api import GeneratorNet
from .registry import build_generator
from .stylegan2 import Discriminator as Stylegan2Discriminator, load_nvidia_state as load_stylegan2
from .stylegan2_config import config_from_nvidia as stylegan2_config
from .stylegan3 import load_nvidia_state as load_stylegan3
from .stylegan3_config import config_from_nvidia as stylegan3_config


class NvidiaNetworkError(StudioError, ValueError):
    """A network in an NVIDIA pickle that the studio does not implement (one line naming it)."""


@dataclass(frozen=True)
class Importer:
    """How one architecture reads NVIDIA's records: config from (module, class, kwargs), and state loading."""

    arch: str
    config: Callable        # (module, class_name, init_kwargs) -> config
    load_state: Callable    # (net, state) -> None; raises a one-line StudioError on any key or shape mismatch


# NVIDIA's module → how its Generator is read. stylegan3's repo carries StyleGAN2 too (networks_stylegan2).
IMPORTERS: dict[str, Importer] = {
    "training.networks": Importer("stylegan2", stylegan2_config, load_stylegan2),
    "training.networks_stylegan2": Importer("stylegan2", stylegan2_config, load_stylegan2),
    "training.networks_stylegan3": Importer("stylegan3", stylegan3_config, load_stylegan3),
}
# Discriminators: both repositories train with StyleGAN2's (stylegan3's train.py uses networks_stylegan2's).
DISCRIMINATORS: dict[str, tuple[Callable, type, Callable]] = {
    "training.networks": (stylegan2_config, Stylegan2Discriminator, load_stylegan2),
    "training.networks_stylegan2": (stylegan2_config, Stylegan2Discriminator, load_stylegan2),
}


def _importer(module: str, class_name: str, table: Mapping):
    if module not in table:
        known = ", ".join(sorted(set(IMPORTERS) | set(DISCRIMINATORS)))
        raise NvidiaNetworkError(f"{module}.{class_name} is not a network the studio implements (it opens {known})")
    return table[module]


def arch_of_module(module: str, class_name: str = "Generator") -> str:
    """Our registry arch for an NVIDIA generator module ("training.networks_stylegan3" → "stylegan3")."""
    return _importer(module, class_name, IMPORTERS).arch


def generator_from_nvidia(module: str, class_name: str, init_kwargs: Mapping, state: Mapping) -> GeneratorNet:
    """Our generator built from an NVIDIA Generator record and loaded with its state (eval, no grads)."""
    if class_name != "Generator":
        raise NvidiaNetworkError(f"{module}.{class_name} is not a generator")
    imp = _importer(module, class_name, IMPORTERS)
    G = build_generator(imp.config(module, class_name, init_kwargs))
    imp.load_state(G, state)
    return G.eval().requires_grad_(False)


def discriminator_from_nvidia(module: str, class_name: str, init_kwargs: Mapping, state: Mapping) -> nn.Module:
    """Our discriminator built from an NVIDIA Discriminator record and loaded with its state (eval, no grads)."""
    if class_name != "Discriminator":
        raise NvidiaNetworkError(f"{module}.{class_name} is not a discriminator")
    config, d_cls, load_state = _importer(module, class_name, DISCRIMINATORS)
    D = d_cls(config(module, class_name, init_kwargs))
    load_state(D, state)
    return D.eval().requires_grad_(False)
