"""Official StyleGAN v1 pickles (NVlabs/stylegan, TensorFlow) → our StyleGAN v1 generator and discriminator.

The file is read by tfpickle (nothing in it runs); here the networks' build function names and
static_kwargs are checked, a ModelConfig is derived, and every TensorFlow variable is moved into
our modules: dense weights [in, out] → [out, in], conv weights [kh, kw, in, out] → [out, in, kh, kw].
Gs (the EMA generator) is what the studio explores; G and D are converted for fine-tuning.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..contract.modelconfig import ConfigError, ModelConfig
from ..nets.api import GeneratorNet
from ..nets.registry import build_generator, new_discriminator
from .tfpickle import NetworkState, PickleRefused, file_sha256, read_pickle

FORMAT = "NVIDIA StyleGAN v1 pickle (dnnlib Network)"
# Architecture options our networks implement, with the only value we accept (official defaults).
SYNTHESIS_FIXED = {"fmap_decay": 1.0, "use_styles": True, "const_input_layer": True, "use_noise": True,
                   "nonlinearity": "lrelu", "use_wscale": True, "use_pixel_norm": False,
                   "use_instance_norm": True, "blur_filter": [1, 2, 1]}
MAPPING_FIXED = {"label_size": 0, "mapping_nonlinearity": "lrelu", "use_wscale": True, "normalize_latents": True}
D_FIXED = {"fmap_decay": 1.0, "nonlinearity": "lrelu", "use_wscale": True, "mbstd_num_features": 1,
           "blur_filter": [1, 2, 1], "label_size": 0}
OTHER_GENERATORS = {"G_main": "a StyleGAN2 generator", "G_synthesis_stylegan2": "a StyleGAN2 generator",
                    "G_paper": "a Progressive GAN generator", "G_mapping": "a bare mapping network",
                    "G_synthesis": "a bare synthesis network", "D_basic": "a discriminator only",
                    "D_stylegan2": "a StyleGAN2 discriminator"}


@dataclass
class OfficialModels:
    """What an official pickle holds, converted: G_ema (Gs) always; G and D when asked for."""

    cfg: ModelConfig
    G_ema: GeneratorNet
    G: GeneratorNet | None = None
    D: nn.Module | None = None
    record: dict = field(default_factory=dict)   # provenance: file, sha256, static_kwargs, …
    notes: tuple[str, ...] = ()                   # things the user should know (one line each)


# ---------------------------------------------------------------- which networks the file holds
def split_snapshot(obj, name: str) -> tuple[NetworkState | None, NetworkState | None, NetworkState]:
    """(G, D, Gs) of a snapshot; a file holding one generator gives (None, None, it)."""
    if isinstance(obj, NetworkState):
        return None, None, _check_generator(obj, name)
    if isinstance(obj, tuple) and len(obj) == 3 and all(isinstance(n, NetworkState) for n in obj):
        G, D, Gs = obj
        return _check_generator(G, name), D, _check_generator(Gs, name)
    raise PickleRefused(f"{name}: not a StyleGAN snapshot (expected (G, D, Gs) Networks, "
                        f"found {type(obj).__name__})")


def _check_generator(net: NetworkState, name: str) -> NetworkState:
    if net.func != "G_style":
        what = OTHER_GENERATORS.get(net.func, f"a network built by {net.func or 'an unnamed function'}")
        raise PickleRefused(f"{name} holds {what} ({net.func}); this studio imports StyleGAN v1 "
                            "generators (G_style) only")
    for key, func in (("mapping", "G_mapping"), ("synthesis", "G_synthesis")):
        comp = net.components.get(key)
        if comp is None or comp.func != func:
            raise PickleRefused(f"{name}: the generator's {key} network is "
                                f"{comp.func if comp else 'missing'}, not {func}")
    return net


# ---------------------------------------------------------------- static_kwargs → ModelConfig
def _fixed(net: NetworkState, fixed: dict, name: str) -> None:
    for key, want in fixed.items():
        got = net.static_kwargs.get(key, want)
        if isinstance(want, float) and isinstance(got, (int, float)) and not isinstance(got, bool):
            same = math.isclose(got, want)
        else:
            same = got == want or (isinstance(got, (list, tuple)) and list(got) == want)
        if not same:
            raise PickleRefused(f"{name}: {net.name} uses {key}={got!r}; this studio implements the paper's "
                                f"StyleGAN ({key}={want!r}) and cannot import it")


def generator_config(Gs: NetworkState, name: str) -> ModelConfig:
    """The ModelConfig of a G_style network from its components' static_kwargs (official defaults)."""
    syn, mapping = Gs.components["synthesis"], Gs.components["mapping"]
    _fixed(syn, SYNTHESIS_FIXED, name)
    _fixed(mapping, MAPPING_FIXED, name)
    s, m = syn.static_kwargs, mapping.static_kwargs
    beta = Gs.static_kwargs.get("dlatent_avg_beta", 0.995)
    try:
        if int(s.get("dlatent_size", 512)) != int(m.get("dlatent_size", 512)):
            raise ConfigError("the mapping and synthesis networks disagree on the size of w")
        if int(m.get("mapping_layers", 8)) < 1:
            raise ConfigError("a generator without mapping layers is not supported")
        return ModelConfig(resolution=int(s.get("resolution", 1024)), z_dim=int(m.get("latent_size", 512)),
                           w_dim=int(m.get("dlatent_size", 512)), mapping_layers=int(m.get("mapping_layers", 8)),
                           mapping_fmaps=int(m.get("mapping_fmaps", 512)),
                           mapping_lr_mul=float(m.get("mapping_lrmul", 0.01)),
                           fmap_base=int(s.get("fmap_base", 8192)), fmap_max=int(s.get("fmap_max", 512)),
                           img_channels=int(s.get("num_channels", 3)),
                           w_avg_beta=float(beta) if beta is not None else 0.995)
    except (ConfigError, TypeError, ValueError) as exc:
        raise PickleRefused(f"{name}: cannot import this generator: {exc}") from None


def fused_resolutions(net: NetworkState, resolutions) -> set[int]:
    """Output resolutions whose resampling conv the official code ran fused (a transposed conv)."""
    fused = net.static_kwargs.get("fused_scale", "auto")
    if fused == "auto":
        return {r for r in resolutions if r >= 128}
    return set(resolutions) if fused else set()


# ---------------------------------------------------------------- variable names and layouts
def _dense(a: np.ndarray) -> np.ndarray:
    return a.T  # [in, out] → [out, in]


def _conv(a: np.ndarray) -> np.ndarray:
    return a.transpose(3, 2, 0, 1)  # [kh, kw, in, out] → [out, in, kh, kw]


def _fused_upconv(a: np.ndarray) -> np.ndarray:
    # The official fused up-conv is a transposed conv whose taps run the other way round from
    # upsample-then-conv (it equals upsampling followed by a true, flipped convolution); our UpConv
    # is upsample-then-correlate, so the kernel is mirrored here to compute the same function.
    return _conv(a)[:, :, ::-1, ::-1]


def _same(a: np.ndarray) -> np.ndarray:
    return a


def _styled_layer(ours: str, theirs: str) -> dict:
    return {f"{ours}.noise_strength": (f"{theirs}/Noise/weight", _same), f"{ours}.bias": (f"{theirs}/bias", _same),
            f"{ours}.style.weight": (f"{theirs}/StyleMod/weight", _dense),
            f"{ours}.style.bias": (f"{theirs}/StyleMod/bias", _same)}


def generator_names(cfg: ModelConfig, fused: set[int]) -> dict:
    """Our G state-dict key → (official variable name under Gs, layout conversion)."""
    names = {"w_avg": ("dlatent_avg", _same)}
    for i in range(cfg.mapping_layers):
        names[f"mapping.fcs.{i}.weight"] = (f"G_mapping/Dense{i}/weight", _dense)
        names[f"mapping.fcs.{i}.bias"] = (f"G_mapping/Dense{i}/bias", _same)
    for i in range(cfg.num_ws):
        names[f"synthesis.noise_const_{i}"] = (f"G_synthesis/noise{i}", _same)
    for k, res in enumerate(cfg.resolutions):
        ours, scope = f"synthesis.blocks.{k}", f"G_synthesis/{res}x{res}"
        first, second = ("Const", "Conv") if res == 4 else ("Conv0_up", "Conv1")
        if res == 4:
            names[f"{ours}.const"] = (f"{scope}/Const/const", _same)
        else:
            names[f"{ours}.conv0.weight"] = (f"{scope}/Conv0_up/weight", _fused_upconv if res in fused else _conv)
        names[f"{ours}.conv1.weight"] = (f"{scope}/{second}/weight", _conv)
        names.update(_styled_layer(f"{ours}.epi0", f"{scope}/{first}"))
        names.update(_styled_layer(f"{ours}.epi1", f"{scope}/{second}"))
        lod = cfg.log2_res - int(math.log2(res))
        names[f"{ours}.to_rgb.weight"] = (f"G_synthesis/ToRGB_lod{lod}/weight", _conv)
        names[f"{ours}.rgb_bias"] = (f"G_synthesis/ToRGB_lod{lod}/bias", _same)
    return names


def discriminator_names(cfg: ModelConfig) -> dict:
    """Our D state-dict key → (official D_basic variable name, layout conversion)."""
    names = {}
    for res in cfg.resolutions:
        lod = cfg.log2_res - int(math.log2(res))
        if res == 4:
            names.update({"from_rgb4.weight": (f"FromRGB_lod{lod}/weight", _conv),
                          "rgb_bias4": (f"FromRGB_lod{lod}/bias", _same),
                          "conv.weight": ("4x4/Conv/weight", _conv), "conv_bias": ("4x4/Conv/bias", _same),
                          "fc.weight": ("4x4/Dense0/weight", _dense), "fc.bias": ("4x4/Dense0/bias", _same),
                          "out.weight": ("4x4/Dense1/weight", _dense), "out.bias": ("4x4/Dense1/bias", _same)})
            continue
        ours, scope = f"blocks.{res}", f"{res}x{res}"
        names.update({f"{ours}.from_rgb.weight": (f"FromRGB_lod{lod}/weight", _conv),
                      f"{ours}.rgb_bias": (f"FromRGB_lod{lod}/bias", _same),
                      f"{ours}.conv0.weight": (f"{scope}/Conv0/weight", _conv),
                      f"{ours}.bias0": (f"{scope}/Conv0/bias", _same),
                      # the fused and separate down-convs compute the same function: no mirroring
                      f"{ours}.conv1.weight": (f"{scope}/Conv1_down/weight", _conv),
                      f"{ours}.bias1": (f"{scope}/Conv1_down/bias", _same)})
    return names


IGNORED = re.compile(r"(^|/)lod$")  # the progressive-growing level: recorded, not a weight


def fill(module: torch.nn.Module, variables: dict[str, np.ndarray], names: dict, what: str) -> None:
    """Load `variables` into `module` through `names`; every weight is filled and every variable used."""
    expected = module.state_dict()
    tensors = {}
    for key, (var, convert) in names.items():
        if var not in variables:
            raise PickleRefused(f"{what}: variable {var} is missing")
        want = tuple(expected[key].shape)
        try:
            value = np.array(convert(variables[var]), dtype=np.float32, order="C")  # a writable copy
        except ValueError:  # too few or many axes for the layout conversion
            value = np.zeros(0, np.float32)
        if value.shape != want:
            raise PickleRefused(f"{what}: variable {var} has shape {tuple(variables[var].shape)}; "
                                f"this architecture needs {want} (after layout conversion)")
        if not np.isfinite(value).all():
            raise PickleRefused(f"{what}: variable {var} holds non-finite values")
        tensors[key] = torch.from_numpy(value)
    used = {var for var, _ in names.values()}
    extra = sorted(v for v in variables if v not in used and not IGNORED.search(v))
    if extra:
        raise PickleRefused(f"{what}: unexpected variable {extra[0]} (not a StyleGAN v1 layout)")
    module.load_state_dict(tensors, strict=True)


# ---------------------------------------------------------------- the whole import
def convert_generator(net: NetworkState, cfg: ModelConfig, name: str) -> GeneratorNet:
    """A G_style Network → an eval-mode StyleGAN v1 generator."""
    G = build_generator(cfg)
    fused = fused_resolutions(net.components["synthesis"], cfg.resolutions)
    fill(G, net.all_vars(), generator_names(cfg, fused), f"{name}: {net.name}")
    return G.eval().requires_grad_(False)


def convert_discriminator(net: NetworkState, cfg: ModelConfig, name: str) -> nn.Module:
    """A D_basic Network → a Discriminator with the generator's config."""
    if net.func != "D_basic":
        raise PickleRefused(f"{name}: the discriminator is {net.func}, not D_basic")
    _fixed(net, D_FIXED, name)
    kw = net.static_kwargs
    same = (kw.get("resolution", 32) == cfg.resolution and kw.get("fmap_base", 8192) == cfg.fmap_base
            and kw.get("fmap_max", 512) == cfg.fmap_max and kw.get("num_channels", 1) == cfg.img_channels)
    if not same:
        raise PickleRefused(f"{name}: the discriminator's resolution or feature maps differ from the generator's")
    group = kw.get("mbstd_group_size", 4)
    if not isinstance(group, int) or group < 2:
        raise PickleRefused(f"{name}: a discriminator without minibatch stddev cannot be imported")
    D = new_discriminator(ModelConfig(**{**cfg.to_dict(), "mbstd_group": group}))
    fill(D, net.all_vars(), discriminator_names(D.cfg), f"{name}: {net.name}")
    return D.eval()


def load_official(path: str | Path, training: bool = False, sha: str | None = None) -> OfficialModels:
    """Read an official pickle safely and convert Gs (and G, D with `training`)."""
    path = Path(path)
    if not path.is_file():
        raise PickleRefused(f"{path}: no such file")
    sha = sha or file_sha256(path)
    G_net, D_net, Gs_net = split_snapshot(read_pickle(path), path.name)
    cfg = generator_config(Gs_net, path.name)
    out = OfficialModels(cfg=cfg, G_ema=convert_generator(Gs_net, cfg, path.name))
    if training and G_net is not None:
        out.G = convert_generator(G_net, generator_config(G_net, path.name), path.name)
    if training and D_net is not None:
        out.D = convert_discriminator(D_net, cfg, path.name)
    out.record = import_record(path, sha, Gs_net, D_net)
    out.G_ema.grown = lod_phase(out.record["lod"], cfg.resolution)  # shown as the official code shows it
    out.notes = _notes(out.record, out.G_ema.grown, D_net)
    return out


def lod_phase(lod: float, resolution: int) -> tuple[int, float] | None:
    """The (resolution, fade-in alpha) an official lod shows: lod 1.3 of a 1024² model is 512², 0.7 faded in.

    G_synthesis lerps each level's ToRGB with the upscaled one below by clip(lod - level's lod, 0, 1), so the
    levels above floor(lod) only upscale, and the one at floor(lod) is faded in by 1 - frac(lod).
    """
    if not math.isfinite(lod) or lod <= 0:  # a final model (or a damaged value, read as final)
        return None
    steps = min(int(lod), int(math.log2(resolution)) - 2)
    alpha = 1.0 if steps < int(lod) else 1.0 - (lod - steps)  # past 4² there is nothing lower to fade from
    return resolution >> steps, alpha


def _lod(net: NetworkState) -> float:
    lod = net.components["synthesis"].own_vars().get("lod", net.own_vars().get("lod"))
    return float(np.asarray(lod).reshape(-1)[0]) if lod is not None and np.asarray(lod).size else 0.0


def import_record(path: Path, sha: str, Gs: NetworkState, D: NetworkState | None) -> dict:
    """Provenance of an import, JSON-ready: source file, sha256, build functions, static_kwargs."""
    kw = Gs.static_kwargs
    return {"format": FORMAT, "file": path.name, "sha256": sha, "network": f"{Gs.name} ({Gs.func})",
            "static_kwargs": jsonable(kw),
            "components": {c.name: jsonable(c.static_kwargs) for c in Gs.components.values()},
            "discriminator": f"{D.name} ({D.func})" if D is not None else "",
            "lod": _lod(Gs), "truncation_psi": jsonable(kw.get("truncation_psi", 0.7)),
            "truncation_cutoff": jsonable(kw.get("truncation_cutoff", 8))}


def _notes(record: dict, grown: tuple[int, float] | None, D: NetworkState | None) -> tuple[str, ...]:
    notes = []
    if grown is not None:
        fade = f", fading in {grown[1]:.2f}" if grown[1] < 1 else ""
        notes.append(f"the snapshot was taken while growing (lod {record['lod']:g}): shown as the official code "
                     f"shows it, at {grown[0]}²{fade}, enlarged")
    if D is None:
        notes.append("the file holds no discriminator")
    return tuple(notes)


def jsonable(value):
    """static_kwargs values as plain JSON types."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return value if value is None or isinstance(value, (bool, int, float, str)) else repr(value)


def snapshot_kimg(path: Path) -> float:
    """kimg from an official snapshot name (network-snapshot-012345.pkl), else 0."""
    m = re.search(r"network-snapshot-(\d+)", path.name)
    return float(m.group(1)) if m else 0.0
