"""The architecture a run trains: a model it starts from (`--init`: one of our model files or an official pickle),
or a new StyleGAN2 config from the run's sizes."""
from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..contract.errors import StudioError, UserError
from ..contract.modelconfig import ARCH_NAMES, ModelConfig
from ..files.imported import is_official_pickle, snapshot_config, snapshot_networks
from ..files.persist import pickle_kind, read_snapshot
from ..files.modelfile import ModelFileError, load_model
from ..files.official import load_official
from ..contract.training import RUN_CONFIG, TrainConfig
from ..nets.api import GeneratorNet
from ..nets.registry import ARCHS, can_fine_tune, can_train, config_from_dict, new_networks
from ..nets.stylegan2_config import Stylegan2Config
from .state import RunFiles, is_state_file, module_tensors, read_kit, read_state
from .widen import copy_or_widen


@dataclass(frozen=True)
class InitModels:
    """A model to fine-tune: G_ema always; G and D when the file holds them (else G copies G_ema, D is fresh)."""

    cfg: object                   # G's and D's architecture config (D's minibatch-stddev group, widths included)
    G_ema: GeneratorNet
    G: GeneratorNet | None
    D: nn.Module | None
    model_id: str                 # our model id, or the pickle's sha256
    notes: tuple[str, ...] = ()   # one line each, for the user

    @property
    def kind(self) -> str:
        """The registry key of the architecture ("stylegan1", "stylegan2")."""
        return self.G_ema.arch


def read_init(path: str | Path) -> InitModels:
    """The networks in `path` (a model file, an official .pkl, a run's state file or resume kit folder); an
    unusable file is one UserError line."""
    path = Path(path)
    if path.is_dir() or is_state_file(path):
        return _from_run(path)
    if is_official_pickle(path):
        if pickle_kind(path) == "pytorch":
            return _from_snapshot(path)  # PickleRefused is a UserError
        return _from_pickle(path)
    try:
        G_ema, meta = load_model(path)
    except ModelFileError as exc:
        raise UserError(str(exc)) from None
    _check_trainable(path, G_ema)
    notes = (f"{path.name} holds G_ema only: G starts as a copy of it and D from random weights",)
    return InitModels(fresh_d_config(G_ema.cfg), G_ema, None, None, meta.model_id, notes + _grown_note(path, G_ema))


def fresh_d_config(cfg):
    """The config a fine-tune of a G-only model file builds its fresh D from (StyleGAN2: D as wide as G)."""
    return _d_like_g(cfg) if isinstance(cfg, Stylegan2Config) else cfg


def _check_trainable(path: Path, G_ema: GeneratorNet) -> None:
    """One line for a model the trainer cannot continue: an architecture it does not train, or class labels."""
    if can_fine_tune(G_ema):
        return
    if not can_train(G_ema.arch):
        fine = " and ".join(ARCH_NAMES.get(a, a) for a in ARCHS if can_train(a))
        raise UserError(f"{path.name} is a {ARCH_NAMES.get(G_ema.arch, G_ema.arch)} model: fine-tuning it with "
                        f"train --init is not supported yet ({fine} models are)")
    if G_ema.c_dim:
        raise UserError(f"{path.name} is class-conditional ({G_ema.c_dim} classes): fine-tuning it needs labelled "
                        "images, which train does not read (unconditional models fine-tune)")


def _from_snapshot(path: Path) -> InitModels:
    """G_ema, G and D of a StyleGAN2-ADA snapshot (a StyleGAN3 one is refused in one line)."""
    snap = read_snapshot(path)
    try:
        G_ema, _, G, D = snapshot_networks(snap)
    except StudioError as exc:
        raise UserError(str(exc)) from None
    _check_trainable(path, G_ema)
    cfg = snapshot_config(snap, G_ema.cfg)
    if G is not None and G.cfg != G_ema.cfg:
        raise UserError(f"{path.name}: G and G_ema have different architectures; cannot fine-tune it")
    notes = []
    if G is None:
        notes.append(f"{path.name} holds one generator: G starts as a copy of it")
    if D is None:
        cfg = _d_like_g(cfg)
        notes.append("D starts from random weights")
    return InitModels(cfg, G_ema, G, D, "sha256:" + snap.sha256, tuple(notes))


def _from_run(path: Path) -> InitModels:
    """G, G_ema and D of one of our runs: a training state file, a run directory (its newest), or the resume kit
    folder `--export` writes."""
    if path.is_dir() and not any(path.glob("resume-*.safetensors")) and (path / RUN_CONFIG).is_file():
        state = RunFiles(path).latest_state()  # a run directory: its newest state
        if state is None:
            raise UserError(f"{path}: the run has no training state yet")
        path = state
    meta, tensors = read_kit(path) if path.is_dir() else read_state(path)
    try:
        run_cfg = resolved_arch(TrainConfig.from_dict(json.loads(meta["config"])))
        g_cfg, d_cfg = run_cfg.model_config(), run_cfg.d_config()
        with torch.random.fork_rng():  # the run seeds its own networks: building these must not move its stream
            G, D = new_networks(g_cfg, d_cfg, 0)
        G_ema = copy.deepcopy(G)
        for name, net in (("G", G), ("G_ema", G_ema), ("D", D)):
            net.load_state_dict({k: v.float() for k, v in module_tensors(tensors, name).items()})
        counters = json.loads(meta["counters"])
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError, StudioError) as exc:
        why = f"{type(exc).__name__}: {' '.join(str(exc).split())[:120]}"
        raise UserError(f"{path}: damaged training state ({why})") from None
    if isinstance(g_cfg, ModelConfig) and dataclasses.replace(d_cfg, mbstd_group=g_cfg.mbstd_group) != g_cfg:
        raise UserError(f"{path}: its D is not as wide as its G (--d-channels); starting a run from it is not "
                        "supported")
    G_ema.eval().requires_grad_(False)
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(path.glob("resume-*.safetensors")))
                            if path.is_dir() else path.read_bytes()).hexdigest()
    notes = (f"{path.name}: G, G_ema and D of a run at {counters['nimg'] / 1000:g} kimg",)
    if int(counters.get("cur_res", run_cfg.resolution)) < run_cfg.resolution:
        notes += (f"{path.name} was saved while growing ({counters['cur_res']}²): its layers above that are barely "
                  "trained; resume its run instead to keep growing",)
    return InitModels(d_cfg, G_ema, G, D, "sha256:" + digest, notes)


def _d_like_g(cfg: Stylegan2Config) -> Stylegan2Config:
    """`cfg` with a fresh D as wide as G, as NVIDIA's train.py makes them."""
    return dataclasses.replace(cfg, d_channel_base=cfg.channel_base, d_channel_max=cfg.channel_max)


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
    """Copy the init weights into a run's networks, which keep their own train/eval modes and grad flags; into
    wider ones (`--channels-max`) by widening, where G and G_ema share the run's fresh weights of the new channels."""
    copy_or_widen(init.G_ema, G_ema)
    copy_or_widen(init.G or init.G_ema, G)
    if init.D is not None:
        copy_or_widen(init.D, D)


def init_notes(cfg: TrainConfig, init: InitModels | None) -> tuple[str, ...]:
    """What a user should know about a run started from a model (nothing for other runs)."""
    if init is None:
        return ()
    G, a = init.G_ema, init.cfg
    res = G.img_resolution
    arch = (f"{ARCH_NAMES.get(init.kind, init.kind)}, {res}², z {G.z_dim}, w {G.w_dim}, {a.mapping_layers} mapping "
            f"layers, feature maps {a.channels(4)} at 4² to {a.channels(res)} at {res}²")
    noise = "; noise at every layer, as it was trained" if init.kind != "stylegan1" and G.noise_resolutions else ""
    return (f"starts from {Path(cfg.init).name} ({cfg.init_id[:19]}): {arch}; no growing{noise}",) + init.notes + \
        _widen_notes(a, cfg.arch)


def _widen_notes(narrow, wide) -> tuple[str, ...]:
    """One line on the layers a run widens (--channels-max), if it does."""
    if not isinstance(narrow, ModelConfig) or not isinstance(wide, ModelConfig) or wide == narrow:
        return ()
    grown = ", ".join(f"{r}² {narrow.channels(r)} → {wide.channels(r)}" for r in narrow.resolutions
                      if wide.channels(r) != narrow.channels(r))
    return (f"widened (feature maps {grown}; D's likewise): the new channels start silent, so the model renders and "
            "scores as before, and learn from there",)


def model_sizes(init: InitModels) -> dict:
    """The run settings a model decides (TrainConfig.with_model's `sizes`), for an architecture other than v1.

    A StyleGAN2 model was trained with noise at every layer, so its fine-tune keeps all its noise inputs.
    """
    G, a = init.G_ema, init.cfg
    return {"resolution": G.img_resolution, "channels": a.channels(4), "z_dim": G.z_dim,
            "mapping_layers": a.mapping_layers, "noise_res": G.img_resolution}


def with_init(cfg: TrainConfig, init: InitModels) -> TrainConfig:
    """`cfg` for a run that starts from `init`: its architecture (wider where `channels_max` asks) and the settings
    it decides."""
    if init.kind == "stylegan1":
        return cfg.with_model(widened_arch(init.cfg, cfg.channels_max), init.model_id)
    if cfg.channels_max > init.cfg.channel_max:
        raise UserError(f"widening a {ARCH_NAMES.get(init.kind, init.kind)} model (--channels-max) is not supported: "
                        "StyleGAN v1 models widen")
    return cfg.with_model(init.cfg, init.model_id, init.kind, **model_sizes(init))


def widened_arch(arch: ModelConfig, channels_max: int) -> ModelConfig:
    """A v1 model's config with its feature maps capped at `channels_max` where that is above its own cap."""
    if channels_max <= arch.fmap_max:
        return arch
    wide = dataclasses.replace(arch, fmap_max=channels_max)
    if all(wide.channels(r) == arch.channels(r) for r in arch.resolutions):
        raise UserError(f"--channels-max {channels_max} widens no layer of this model: its feature maps already "
                        f"halve from {arch.channels(4)} at 4²; ask for less, or leave it out")
    return wide


def resolved_arch(cfg: TrainConfig) -> TrainConfig:
    """`cfg` with `arch` as its architecture's config: as a config.json holds it (another architecture's as a plain
    dict), or for a new run of an architecture other than v1 built from its sizes (and without growing)."""
    try:
        if isinstance(cfg.arch, dict):
            return dataclasses.replace(cfg, arch=config_from_dict(cfg.architecture, cfg.arch))
        if cfg.arch is None and cfg.architecture == "stylegan2":
            return dataclasses.replace(cfg, arch=new_stylegan2(cfg), growing=False)
    except (StudioError, ValueError, TypeError) as exc:
        raise UserError(f"training config: {' '.join(str(exc).split())[:160]}") from None
    return cfg


def new_stylegan2(cfg: TrainConfig) -> Stylegan2Config:
    """A new StyleGAN2's config from the run's sizes, `channels` meaning what it means for v1 (feature maps up to
    32², halved per doubling above; D as wide unless `d_channels`); clamping as NVIDIA's train.py sets it."""
    d = cfg.d_channels or cfg.channels
    return Stylegan2Config(z_dim=cfg.z_dim, w_dim=cfg.z_dim, img_resolution=cfg.resolution,
                           mapping_layers=cfg.mapping_layers, channel_base=cfg.channels * 32,
                           channel_max=max(cfg.channels, cfg.channels_max), conv_clamp=256.0, d_channel_base=d * 32,
                           d_channel_max=max(d, cfg.channels_max),
                           d_conv_clamp=256.0, d_mbstd_group_size=cfg.mbstd_group)


def architecture_notes(asked: TrainConfig, cfg: TrainConfig) -> tuple[str, ...]:
    """What a new run should say of settings its architecture overrode (`asked`: before, `cfg`: after)."""
    if asked.growing and not cfg.growing and not cfg.init:
        return (f"{ARCH_NAMES[cfg.architecture]} trains at its full resolution: progressive growing is off",)
    return ()
