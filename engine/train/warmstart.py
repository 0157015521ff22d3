"""Fine-tuning: the networks a run starts from (`--init`), read from one of our model files or an official pickle."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..contract.modelconfig import ModelConfig
from ..contract.errors import UserError
from ..files.imported import is_official_pickle
from ..files.persist import pickle_kind
from ..files.modelfile import ModelFileError, load_model
from ..files.official import load_official
from ..contract.training import TrainConfig
from ..nets.api import GeneratorNet
from ..nets.registry import can_train


@dataclass(frozen=True)
class InitModels:
    """A model to fine-tune: G_ema always; G and D when the file holds them (else G copies G_ema, D is fresh)."""

    cfg: ModelConfig              # G's and D's architecture (D's minibatch-stddev group included)
    G_ema: GeneratorNet
    G: GeneratorNet | None
    D: nn.Module | None
    model_id: str                 # our model id, or the pickle's sha256
    notes: tuple[str, ...] = ()   # one line each, for the user


def read_init(path: str | Path) -> InitModels:
    """The networks in `path` (.safetensors or an official .pkl); an unusable file is one UserError line."""
    path = Path(path)
    if is_official_pickle(path):
        if pickle_kind(path) == "pytorch":
            raise UserError(f"{path.name} is a StyleGAN2-ADA / StyleGAN3 pickle: fine-tuning these with train --init "
                            "is not supported yet (explore it with generate, the window and the other commands)")
        return _from_pickle(path)  # PickleRefused is a UserError
    try:
        G_ema, meta = load_model(path)
    except ModelFileError as exc:
        raise UserError(str(exc)) from None
    if not can_train(G_ema.arch):
        raise UserError(f"{path.name} is a {G_ema.arch} model: the studio fine-tunes only the architectures it trains "
                        "(fine-tuning this one with train --init is not supported yet)")
    notes = (f"{path.name} holds G_ema only: G starts as a copy of it and D from random weights",)
    return InitModels(G_ema.cfg, G_ema, None, None, meta.model_id, notes + _grown_note(path, G_ema))


def _grown_note(path: Path, G_ema: GeneratorNet) -> tuple[str, ...]:
    """A start taken while growing trains at full size from here: its layers above that phase are untrained."""
    if getattr(G_ema, "grown", None) is None:
        return ()
    return (f"{path.name} was saved while growing ({G_ema.grown[0]}² of {G_ema.cfg.resolution}²): its layers "
            "above that are barely trained; resume its run instead to keep growing",)


def _from_pickle(path: Path) -> InitModels:
    models = load_official(path, training=True)
    if models.G is not None and models.G.cfg != models.cfg:
        raise UserError(f"{path.name}: G and Gs have different architectures; cannot fine-tune it")
    cfg = models.D.cfg if models.D is not None else models.cfg  # carries the pickle's mbstd group size
    notes = list(models.notes)
    if models.G is None:
        notes.append(f"{path.name} holds Gs only: G starts as a copy of it")
    if models.D is None:
        notes.append("D starts from random weights")
    return InitModels(cfg, models.G_ema, models.G, models.D, "sha256:" + models.record["sha256"],
                      tuple(notes) + _grown_note(path, models.G_ema))


def start_from(init: InitModels, G: GeneratorNet, G_ema: GeneratorNet, D: nn.Module) -> None:
    """Copy the init weights into a run's networks, which keep their own train/eval modes and grad flags."""
    with torch.no_grad():
        G_ema.load_state_dict(init.G_ema.state_dict())
        G.load_state_dict((init.G or init.G_ema).state_dict())
        if init.D is not None:
            D.load_state_dict(init.D.state_dict())


def init_notes(cfg: TrainConfig, init: InitModels | None) -> tuple[str, ...]:
    """What a user should know about a run started from a model (nothing for other runs)."""
    if init is None:
        return ()
    a = cfg.arch
    arch = (f"{a.resolution}², z {a.z_dim}, w {a.w_dim}, {a.mapping_layers} mapping layers, feature maps "
            f"{a.channels(4)} at 4² to {a.channels(a.resolution)} at {a.resolution}²")
    return (f"starts from {Path(cfg.init).name} ({cfg.init_id[:19]}): {arch}; no growing",) + init.notes
