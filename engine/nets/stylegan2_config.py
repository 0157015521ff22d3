"""Typed, frozen configuration of a StyleGAN2 generator/discriminator pair, and its reading from NVIDIA's kwargs."""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass

from ..contract.configcheck import check_int, check_resolution, json_fields
from ..contract.errors import StudioError


class Stylegan2ConfigError(StudioError, ValueError):
    """A configuration (ours or NVIDIA's init kwargs) that cannot describe a StyleGAN2 model we implement."""


# Upper bounds far above any released StyleGAN2 (FFHQ config-f: channel_base 32768, channel_max 512, 8 mapping
# layers; ImageNet-size class counts), so a damaged or hostile model file cannot make us allocate terabytes.
LIMITS = {"z_dim": 4096, "c_dim": 1 << 14, "w_dim": 4096, "img_channels": 4, "mapping_layers": 64,
          "mapping_embed_features": 4096, "mapping_layer_features": 4096, "channel_base": 1 << 20,
          "channel_max": 4096, "num_fp16_res": 16, "d_cmap_dim": 4096, "d_mbstd_group_size": 1024,
          "d_mbstd_num_channels": 64, "d_mapping_layers": 64, "d_freeze_layers": 64}
MIN_RES, MAX_RES = 4, 2048
MAX_PARAMS = 2_000_000_000  # 8 GB of float32: refuse before allocating
ARCHITECTURES = ("orig", "skip", "resnet")
MODULES = ("training.networks", "training.networks_stylegan2")  # stylegan2-ada-pytorch, stylegan3's v2 networks


@dataclass(frozen=True)
class Stylegan2Config:
    """Hyperparameters of one StyleGAN2 generator (mapping + synthesis) and its discriminator."""

    z_dim: int = 512
    c_dim: int = 0
    w_dim: int = 512
    img_resolution: int = 1024
    img_channels: int = 3
    mapping_layers: int = 8
    mapping_embed_features: int = 0   # 0: w_dim (NVIDIA's None)
    mapping_layer_features: int = 0   # 0: w_dim (NVIDIA's None)
    mapping_lr_mul: float = 0.01
    w_avg_beta: float = 0.995
    channel_base: int = 32768
    channel_max: int = 512
    num_fp16_res: int = 0
    conv_clamp: float = 0.0           # 0: no clamping (NVIDIA's None)
    architecture: str = "skip"
    resample_filter: tuple = (1, 3, 3, 1)
    use_noise: bool = True
    # The discriminator (kept so a snapshot's D survives for a later fine-tune).
    d_architecture: str = "resnet"
    d_channel_base: int = 32768
    d_channel_max: int = 512
    d_num_fp16_res: int = 0
    d_conv_clamp: float = 0.0
    d_cmap_dim: int = 0               # 0: channels at 4² (NVIDIA's None); unused when c_dim == 0
    d_mbstd_group_size: int = 4       # 0: the whole minibatch (NVIDIA's None)
    d_mbstd_num_channels: int = 1
    d_mapping_layers: int = 8
    d_mapping_lr_mul: float = 0.01
    d_freeze_layers: int = 0

    def __post_init__(self) -> None:
        res = self.img_resolution
        check_resolution("img_resolution", res, MIN_RES, MAX_RES, Stylegan2ConfigError)
        for name, top in LIMITS.items():
            low = 1 if name in ("z_dim", "w_dim", "img_channels", "mapping_layers", "channel_base", "channel_max",
                                "d_channel_base", "d_channel_max") else 0  # D's class mapping may be embed only
            value = getattr(self, name)
            check_int(name, value, low, top, Stylegan2ConfigError)
        for name in ("d_channel_base", "d_channel_max"):
            top = LIMITS[name[2:]]
            if isinstance(getattr(self, name), bool) or not 1 <= getattr(self, name) <= top:
                raise Stylegan2ConfigError(f"{name} must be an integer from 1 to {top}, got {getattr(self, name)!r}")
        for name in ("mapping_lr_mul", "d_mapping_lr_mul"):
            if not 0 < getattr(self, name) <= 1e3:  # NaN fails
                raise Stylegan2ConfigError(f"{name} must be above 0 and at most 1000, got {getattr(self, name)!r}")
        if not 0 <= self.w_avg_beta <= 1:
            raise Stylegan2ConfigError(f"w_avg_beta must be from 0 to 1, got {self.w_avg_beta!r}")
        for name in ("conv_clamp", "d_conv_clamp"):
            if not 0 <= getattr(self, name) <= 1e6:
                raise Stylegan2ConfigError(f"{name} must be from 0 (off) to 1e6, got {getattr(self, name)!r}")
        for name in ("architecture", "d_architecture"):
            if getattr(self, name) not in ARCHITECTURES:
                raise Stylegan2ConfigError(f"{name} must be one of {', '.join(ARCHITECTURES)}, got "
                                           f"{getattr(self, name)!r}")
        taps = self.resample_filter
        if (not isinstance(taps, tuple) or not 1 <= len(taps) <= 16
                or not all(isinstance(t, (int, float)) and not isinstance(t, bool) and math.isfinite(t) for t in taps)
                or not sum(taps) > 0):
            raise Stylegan2ConfigError(f"resample_filter must be 1 to 16 finite taps with a positive sum, got {taps!r}")
        if not isinstance(self.use_noise, bool):
            raise Stylegan2ConfigError(f"use_noise must be true or false, got {self.use_noise!r}")
        if self.parameter_count() > MAX_PARAMS:
            raise Stylegan2ConfigError(f"a StyleGAN2 model of {self.parameter_count():,} parameters is beyond the "
                                       f"{MAX_PARAMS:,} this studio opens")

    # ---- derived sizes -------------------------------------------------------------------------------------------
    @property
    def log2_res(self) -> int:
        """log2 of the output resolution."""
        return int(math.log2(self.img_resolution))

    @property
    def block_resolutions(self) -> tuple[int, ...]:
        """Synthesis block resolutions, 4 up to the output resolution."""
        return tuple(2 ** i for i in range(2, self.log2_res + 1))

    @property
    def num_ws(self) -> int:
        """ws the synthesis network takes: one per convolution plus the last ToRGB."""
        return 2 * self.log2_res - 2

    def channels(self, res: int) -> int:
        """Generator feature maps at resolution `res`: min(channel_base / res, channel_max)."""
        return min(self.channel_base // res, self.channel_max)

    def d_channels(self, res: int) -> int:
        """Discriminator feature maps at resolution `res`."""
        return min(self.d_channel_base // res, self.d_channel_max)

    def fp16_resolution(self, num_fp16_res: int) -> int:
        """Lowest resolution of the `num_fp16_res` highest ones (never below 8²)."""
        return max(2 ** (self.log2_res + 1 - num_fp16_res), 8)

    @property
    def embed_features(self) -> int:
        """Width of the class embedding (0 for an unconditional model)."""
        return 0 if self.c_dim == 0 else (self.mapping_embed_features or self.w_dim)

    @property
    def layer_features(self) -> int:
        """Width of the hidden mapping layers."""
        return self.mapping_layer_features or self.w_dim

    @property
    def cmap_dim(self) -> int:
        """Width of the discriminator's class projection (0 when unconditional)."""
        return 0 if self.c_dim == 0 else (self.d_cmap_dim or self.d_channels(4))

    def parameter_count(self) -> int:
        """A slight over-estimate (≈ 12 %) of G and D's parameter count, computed before anything is allocated."""
        lf, wd = self.layer_features, self.w_dim
        mapping = (self.z_dim + self.embed_features) * lf + (self.mapping_layers - 1) * lf * lf + lf * wd
        mapping += self.c_dim * self.embed_features
        synthesis = d = 0
        for res in self.block_resolutions:
            ch, prev = self.channels(res), self.channels(max(res // 2, 4))
            convs = ch * ch * 9 + (prev * ch * 9 if res > 4 else ch * res * res)  # conv1; conv0 or the constant
            synthesis += convs + (2 * wd + 1) * (ch + prev) + ch * self.img_channels + 2 * res * res
            dch, dout = self.d_channels(res), self.d_channels(max(res // 2, 4))
            d += dch * dch * 9 + dch * dout * 10 + dch * self.img_channels
        ch4, cmap = self.d_channels(4), self.cmap_dim
        d += (ch4 + 1) * ch4 * 9 + ch4 * 16 * ch4 + ch4 * max(cmap, 1)
        d += (self.c_dim * cmap + self.d_mapping_layers * cmap * cmap) if cmap else 0
        return mapping + synthesis + d

    # ---- files ---------------------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """Plain JSON-ready dict."""
        out = dataclasses.asdict(self)
        out["resample_filter"] = list(self.resample_filter)
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "Stylegan2Config":
        """Build from a dict, rejecting unknown keys and wrong types."""
        fields = json_fields(cls, data, "StyleGAN2 config", Stylegan2ConfigError)
        kwargs = {key: _typed(key, str(fields[key].type), value) for key, value in data.items()}
        return cls(**kwargs)


def _typed(key: str, kind: str, value):
    """One config value checked against its field's declared type."""
    if kind == "str":
        if not isinstance(value, str):
            raise Stylegan2ConfigError(f"StyleGAN2 config {key} must be a string, got {value!r}")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise Stylegan2ConfigError(f"StyleGAN2 config {key} must be true or false, got {value!r}")
        return value
    if kind == "tuple":
        if not isinstance(value, (list, tuple)) or len(value) > 16:
            raise Stylegan2ConfigError(f"StyleGAN2 config {key} must be a list of up to 16 numbers, got {value!r}")
        return tuple(_number(key, v, float) for v in value)
    return _number(key, value, float if kind == "float" else int)


def _number(key: str, value, want):
    """A finite number of the wanted type (integers must be whole)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Stylegan2ConfigError(f"StyleGAN2 config {key} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise Stylegan2ConfigError(f"StyleGAN2 config {key} must be a finite number, got {value!r}")
    if want is int and value != int(value):
        raise Stylegan2ConfigError(f"StyleGAN2 config {key} must be a whole number, got {value!r}")
    return want(value)


# ---- NVIDIA's init kwargs ---------------------------------------------------------------------------------------
# Defaults differ between the two repositories (stylegan3 turned fp16 and clamping on by default).
_DEFAULTS = {
    "training.networks": {"num_fp16_res": 0, "conv_clamp": None, "w_avg_beta": 0.995},
    "training.networks_stylegan2": {"num_fp16_res": 4, "conv_clamp": 256, "w_avg_beta": 0.998},
}
# Kwargs that only choose how a result is computed (memory layout, fused or split convolution), not what.
_HOW_ONLY = {"fp16_channels_last": (False, (True, False)),  # key: (NVIDIA's default, the values we accept)
             "fused_modconv_default": (True, (True, False, "inference_only"))}


class _Kwargs:
    """NVIDIA's kwargs of one sub-network, consumed key by key so that anything left over is refused by name."""

    def __init__(self, where: str, data) -> None:
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise Stylegan2ConfigError(f"{where} must be a dict of keyword arguments, got {type(data).__name__}")
        self.where, self.data = where, dict(data)

    def take(self, key: str, default=None):
        """The value of `key` (its NVIDIA default when absent), marking it used."""
        return self.data.pop(key, default)

    def take_choice(self, key: str, default, allowed: tuple):
        """A value that must be one of `allowed`."""
        value = self.take(key, default)
        if isinstance(value, bool) and not any(isinstance(a, bool) for a in allowed) or value not in allowed:
            raise Stylegan2ConfigError(f"{self.where}.{key} = {value!r} is not implemented "
                                       f"(we implement {', '.join(map(repr, allowed))})")
        return value

    def done(self) -> None:
        """Refuse whatever kwargs were not consumed."""
        if self.data:
            keys = ", ".join(f"{self.where}.{k}" for k in sorted(map(str, self.data)))
            raise Stylegan2ConfigError(f"NVIDIA StyleGAN2 kwargs we do not implement: {keys}")


def _opt(value, none_as, key: str):
    """NVIDIA's None (= default or off) as our 0; any other value kept for validation."""
    if value is None:
        return none_as
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Stylegan2ConfigError(f"{key} must be a number or None, got {value!r}")
    return value


def _int(value, key: str) -> int:
    """A whole number from kwargs (validated again by the dataclass)."""
    return int(_number(key, value, int))


def _filter(value, key: str) -> tuple:
    """A resample filter given as a list of taps."""
    if not isinstance(value, (list, tuple)) or len(value) > 16:
        raise Stylegan2ConfigError(f"{key} = {value!r} is not implemented (a list of up to 16 taps)")
    return tuple(_number(key, v, float) for v in value)


def config_from_nvidia(module: str, class_name: str, init_kwargs) -> Stylegan2Config:
    """Our config from a Generator's or Discriminator's (module, class name, init kwargs) in an NVIDIA pickle."""
    if module not in MODULES or class_name not in ("Generator", "Discriminator"):
        raise Stylegan2ConfigError(f"{module}.{class_name} is not a StyleGAN2 network we implement")
    if class_name == "Generator":
        return _generator_config(module, init_kwargs)
    return with_discriminator(Stylegan2Config(**_d_fields(module, init_kwargs, base=None)), module, init_kwargs)


def with_discriminator(cfg: Stylegan2Config, module: str, init_kwargs) -> Stylegan2Config:
    """`cfg` with the discriminator fields read from a Discriminator's init kwargs (checked against G's)."""
    if module not in MODULES:
        raise Stylegan2ConfigError(f"{module}.Discriminator is not a StyleGAN2 network we implement")
    return dataclasses.replace(cfg, **_d_fields(module, init_kwargs, base=cfg))


def _generator_config(module: str, init_kwargs) -> Stylegan2Config:
    defaults = _DEFAULTS[module]
    top = _Kwargs("Generator", init_kwargs)
    m = _Kwargs("mapping_kwargs", top.take("mapping_kwargs"))
    if module == "training.networks":  # stylegan2-ada-pytorch nests the synthesis kwargs
        s = _Kwargs("synthesis_kwargs", top.take("synthesis_kwargs"))
    else:
        s = top
    fields = dict(z_dim=top.take("z_dim"), c_dim=top.take("c_dim"), w_dim=top.take("w_dim"),
                  img_resolution=top.take("img_resolution"), img_channels=top.take("img_channels"))
    for key, value in fields.items():
        fields[key] = _int(value, f"Generator.{key}")
    fields.update(
        mapping_layers=_int(m.take("num_layers", 8), "mapping_kwargs.num_layers"),
        mapping_embed_features=_int(_opt(m.take("embed_features"), 0, "embed_features"), "embed_features"),
        mapping_layer_features=_int(_opt(m.take("layer_features"), 0, "layer_features"), "layer_features"),
        mapping_lr_mul=float(_number("mapping_kwargs.lr_multiplier", m.take("lr_multiplier", 0.01), float)),
        channel_base=_int(s.take("channel_base", 32768), "channel_base"),
        channel_max=_int(s.take("channel_max", 512), "channel_max"),
        num_fp16_res=_int(s.take("num_fp16_res", defaults["num_fp16_res"]), "num_fp16_res"),
        conv_clamp=float(_opt(s.take("conv_clamp", defaults["conv_clamp"]), 0, "conv_clamp")),
        architecture=s.take_choice("architecture", "skip", ARCHITECTURES),
        resample_filter=_filter(s.take("resample_filter", [1, 3, 3, 1]), "resample_filter"),
        use_noise=s.take_choice("use_noise", True, (True, False)),
    )
    beta = m.take("w_avg_beta", defaults["w_avg_beta"])
    if beta is None:
        raise Stylegan2ConfigError("mapping_kwargs.w_avg_beta = None (a generator without w_avg) is not implemented")
    fields["w_avg_beta"] = float(_number("mapping_kwargs.w_avg_beta", beta, float))
    m.take_choice("activation", "lrelu", ("lrelu",))
    s.take_choice("activation", "lrelu", ("lrelu",))  # the synthesis layers' kwargs travel with the block's
    s.take_choice("kernel_size", 3, (3,))
    for key, (default, allowed) in _HOW_ONLY.items():
        s.take_choice(key, default, allowed)
    m.done()
    if s is not top:
        s.done()
    top.done()
    if fields["mapping_layers"] < 1:
        raise Stylegan2ConfigError("mapping_kwargs.num_layers must be at least 1")
    return Stylegan2Config(**fields)


def _d_fields(module: str, init_kwargs, base: Stylegan2Config | None) -> dict:
    defaults = _DEFAULTS[module]
    top = _Kwargs("Discriminator", init_kwargs)
    b = _Kwargs("block_kwargs", top.take("block_kwargs"))
    m = _Kwargs("mapping_kwargs", top.take("mapping_kwargs"))
    e = _Kwargs("epilogue_kwargs", top.take("epilogue_kwargs"))
    shared = {key: _int(top.take(key), f"Discriminator.{key}") for key in ("c_dim", "img_resolution", "img_channels")}
    if base is not None:
        for key, value in shared.items():
            if getattr(base, key) != value:
                raise Stylegan2ConfigError(f"Discriminator.{key} = {value} does not match the generator's "
                                           f"{getattr(base, key)}")
    arch = top.take_choice("architecture", "resnet", ARCHITECTURES)
    fields = dict(
        d_architecture=arch,
        d_channel_base=_int(top.take("channel_base", 32768), "Discriminator.channel_base"),
        d_channel_max=_int(top.take("channel_max", 512), "Discriminator.channel_max"),
        d_num_fp16_res=_int(top.take("num_fp16_res", defaults["num_fp16_res"]), "Discriminator.num_fp16_res"),
        d_conv_clamp=float(_opt(top.take("conv_clamp", defaults["conv_clamp"]), 0, "Discriminator.conv_clamp")),
        d_cmap_dim=_int(_opt(top.take("cmap_dim"), 0, "cmap_dim"), "cmap_dim"),
        d_mbstd_group_size=_int(_opt(e.take("mbstd_group_size", 4), 0, "mbstd_group_size"), "mbstd_group_size"),
        d_mbstd_num_channels=_int(e.take("mbstd_num_channels", 1), "mbstd_num_channels"),
        d_mapping_layers=_int(m.take("num_layers", 8), "Discriminator.mapping_kwargs.num_layers"),
        d_mapping_lr_mul=float(_number("lr_multiplier", m.take("lr_multiplier", 0.01), float)),
        d_freeze_layers=_int(b.take("freeze_layers", 0), "freeze_layers"),
    )
    filt = _filter(b.take("resample_filter", [1, 3, 3, 1]), "block_kwargs.resample_filter")
    if base is not None and filt != base.resample_filter:
        raise Stylegan2ConfigError(f"block_kwargs.resample_filter = {list(filt)} differs from the generator's; "
                                   "not implemented")
    for kw in (b, e):
        kw.take_choice("activation", "lrelu", ("lrelu",))
    b.take_choice("fp16_channels_last", False, (True, False))
    m.take_choice("activation", "lrelu", ("lrelu",))
    c_dim = base.c_dim if base is not None else shared["c_dim"]
    if c_dim:  # NVIDIA's None means cmap_dim; converted TF models name it (mapping_fmaps) in all three places
        cmap = fields["d_cmap_dim"] or min(fields["d_channel_base"] // 4, fields["d_channel_max"])
        for key in ("embed_features", "layer_features"):
            m.take_choice(key, None, (None, cmap))
    else:
        for key in ("embed_features", "layer_features"):
            m.take(key)  # no class mapping is built: its widths are unused
    for kw in (b, m, e, top):
        kw.done()
    if base is None:
        fields.update(shared, resample_filter=filt, channel_base=fields["d_channel_base"],
                      channel_max=fields["d_channel_max"])
    return fields
