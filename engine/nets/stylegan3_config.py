"""Typed, frozen configuration of a StyleGAN3 generator, its layer plan, and its reading from NVIDIA's kwargs.

The layer plan follows "Alias-Free Generative Adversarial Networks" (Karras et al. 2021), section 3.2 and
appendix F: cutoffs f_c and minimum stopbands f_t grow geometrically from the first layer to the last
`num_layers - num_critical` layers and then stay put; each layer samples at the smallest power of two at least
2·f_t (capped at the output resolution), keeps `margin_size` extra pixels on each side, and its width is
channel_base / (2·f_c), capped at channel_max.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..contract.configcheck import check_int, check_resolution, json_fields
from ..contract.errors import StudioError


class Stylegan3ConfigError(StudioError, ValueError):
    """A configuration (ours or NVIDIA's init kwargs) that cannot describe a StyleGAN3 model we implement."""


# Upper bounds far above any released StyleGAN3 (FFHQ-1024 'R': channel_base 65536, channel_max 1024, 14 layers,
# margin 10), so a damaged or hostile model file cannot make us allocate terabytes before its weights are compared.
INT_LIMITS = {"z_dim": (1, 4096), "c_dim": (0, 1 << 14), "w_dim": (1, 4096), "img_channels": (1, 4),
              "mapping_layers": (1, 64), "channel_base": (1, 1 << 20), "channel_max": (1, 4096),
              "num_layers": (1, 64), "num_critical": (0, 63), "margin_size": (0, 256), "num_fp16_res": (0, 16),
              "conv_kernel": (1, 7), "filter_size": (1, 16), "lrelu_upsampling": (1, 4)}
MIN_RES, MAX_RES = 8, 2048
MAX_PARAMS = 2_000_000_000      # 8 GB of float32: refuse before allocating
MAX_FEATURE_VALUES = 1 << 31    # one layer's features (channels × size², before the 2× leaky-ReLU upsampling)
MODULE = "training.networks_stylegan3"


@dataclass(frozen=True)
class LayerSpec:
    """One synthesis layer as the plan lays it out (sizes in pixels, rates and frequencies in cycles per unit)."""

    index: int
    name: str                   # NVIDIA's state_dict name: L{index}_{out_size}_{out_channels}
    is_torgb: bool
    is_critical: bool           # critically sampled: f_c = s/2, no radial filter
    use_fp16: bool              # fp16 where the model asks for it and the device is CUDA
    in_channels: int
    out_channels: int
    in_size: int
    out_size: int
    in_sampling_rate: int
    out_sampling_rate: int
    in_cutoff: float
    out_cutoff: float
    in_half_width: float
    out_half_width: float
    conv_kernel: int
    up: int                     # zero-insertion factor before the leaky ReLU
    down: int                   # decimation factor after it
    up_taps: int                # 1 = no filter (no buffer in the state_dict)
    down_taps: int
    down_radial: bool           # a 2-D jinc down filter instead of a separable Kaiser one ('R')
    padding: tuple[int, int, int, int]  # x0, x1, y0, y1 around the upsampled signal

    @property
    def tmp_sampling_rate(self) -> int:
        """Sampling rate at which the leaky ReLU runs."""
        return self.in_sampling_rate * self.up


@dataclass(frozen=True)
class Stylegan3Config:
    """Hyperparameters of one StyleGAN3 generator (mapping + alias-free synthesis); NVIDIA's defaults are 'T'."""

    z_dim: int = 512
    c_dim: int = 0
    w_dim: int = 512
    img_resolution: int = 1024
    img_channels: int = 3
    mapping_layers: int = 2
    mapping_lr_mul: float = 0.01
    w_avg_beta: float = 0.998
    channel_base: int = 32768
    channel_max: int = 512
    num_layers: int = 14
    num_critical: int = 2
    first_cutoff: float = 2.0
    first_stopband: float = 2 ** 2.1
    last_stopband_rel: float = 2 ** 0.3
    margin_size: int = 10
    output_scale: float = 0.25
    num_fp16_res: int = 4
    conv_clamp: float = 256.0       # 0: no clamping (NVIDIA's None)
    conv_kernel: int = 3            # 'R': 1
    filter_size: int = 6
    lrelu_upsampling: int = 2
    use_radial_filters: bool = False  # 'R': True
    magnitude_ema_beta: float = 0.999

    def __post_init__(self) -> None:
        res = self.img_resolution
        check_resolution("img_resolution", res, MIN_RES, MAX_RES, Stylegan3ConfigError)
        for name, (low, top) in INT_LIMITS.items():
            value = getattr(self, name)
            check_int(name, value, low, top, Stylegan3ConfigError)
        if self.num_critical >= self.num_layers:
            raise Stylegan3ConfigError(f"num_critical ({self.num_critical}) must be below num_layers "
                                       f"({self.num_layers})")
        self._check_floats()
        if not isinstance(self.use_radial_filters, bool):
            raise Stylegan3ConfigError(f"use_radial_filters must be true or false, got {self.use_radial_filters!r}")
        self._check_plan()

    def _check_floats(self) -> None:
        bounds = {"mapping_lr_mul": (0, 1e3, False), "w_avg_beta": (0, 1, True),
                  "first_cutoff": (0, self.img_resolution / 2, False),
                  "first_stopband": (0, 4 * self.img_resolution, False), "last_stopband_rel": (1, 8, True),
                  "conv_clamp": (0, 1e6, True), "magnitude_ema_beta": (0, 1, True)}
        for name, (low, top, low_ok) in bounds.items():
            value = getattr(self, name)
            ok = isinstance(value, float) and (low <= value if low_ok else low < value) and value <= top  # NaN fails
            if not ok:
                raise Stylegan3ConfigError(f"{name} must be a number {'from' if low_ok else 'above'} {low} "
                                           f"{'to' if low_ok else 'and at most'} {top}, got {value!r}")
        if not (isinstance(self.output_scale, float) and 0 < abs(self.output_scale) <= 1e3):
            raise Stylegan3ConfigError(f"output_scale must be a non-zero number of at most 1000, "
                                       f"got {self.output_scale!r}")

    def _check_plan(self) -> None:
        """Refuse plans that are not a working network, or too large to allocate, before anything is built."""
        rates = self._schedule()["sampling_rates"]
        if not np.all(rates >= 2):
            raise Stylegan3ConfigError("first_stopband is too low: a layer would sample below 2 per unit")
        for spec in self.layers:
            if spec.out_channels < 1 or spec.in_size < 1:
                raise Stylegan3ConfigError(f"layer {spec.name} would be empty")
            longest = spec.padding[0] + spec.padding[1] + (spec.in_size + spec.conv_kernel - 1) * spec.up
            if longest < spec.up_taps or (longest - spec.up_taps + 1) < spec.down_taps:
                raise Stylegan3ConfigError(f"layer {spec.name}: its filters are longer than its signal")
            if spec.out_channels * spec.in_size ** 2 * spec.up ** 2 > MAX_FEATURE_VALUES:
                raise Stylegan3ConfigError(f"layer {spec.name} is beyond the feature size this studio renders")
        if self.parameter_count() > MAX_PARAMS:
            raise Stylegan3ConfigError(f"a StyleGAN3 model of {self.parameter_count():,} parameters is beyond the "
                                       f"{MAX_PARAMS:,} this studio opens")

    # ---- the layer plan -------------------------------------------------------------------------------------------
    def _schedule(self) -> dict:
        """Per-layer cutoffs, stopbands, sampling rates, half-widths, sizes and widths (layer 0 … num_layers)."""
        n, res = self.num_layers, self.img_resolution
        last_cutoff = res / 2
        last_stopband = last_cutoff * self.last_stopband_rel
        exponents = np.minimum(np.arange(n + 1) / (n - self.num_critical), 1)
        cutoffs = self.first_cutoff * (last_cutoff / self.first_cutoff) ** exponents
        stopbands = self.first_stopband * (last_stopband / self.first_stopband) ** exponents
        rates = np.exp2(np.ceil(np.log2(np.minimum(stopbands * 2, res))))
        half_widths = np.maximum(stopbands, rates / 2) - cutoffs
        sizes = rates + self.margin_size * 2
        sizes[-2:] = res
        channels = np.rint(np.minimum((self.channel_base / 2) / cutoffs, self.channel_max))
        channels[-1] = self.img_channels
        return dict(cutoffs=cutoffs, sampling_rates=rates, half_widths=half_widths, sizes=sizes, channels=channels)

    @cached_property
    def layers(self) -> tuple[LayerSpec, ...]:
        """The synthesis layers L0 … L{num_layers} (the last is ToRGB)."""
        s = self._schedule()
        cut, rate, hw, size, ch = s["cutoffs"], s["sampling_rates"], s["half_widths"], s["sizes"], s["channels"]
        out = []
        for i in range(self.num_layers + 1):
            p = max(i - 1, 0)
            torgb = i == self.num_layers
            critical = i >= self.num_layers - self.num_critical
            in_rate, out_rate = int(rate[p]), int(rate[i])
            tmp_rate = max(in_rate, out_rate) * (1 if torgb else self.lrelu_upsampling)
            up, down = tmp_rate // in_rate, tmp_rate // out_rate
            kernel = 1 if torgb else self.conv_kernel
            up_taps = self.filter_size * up if up > 1 and not torgb else 1
            down_taps = self.filter_size * down if down > 1 and not torgb else 1
            in_size, out_size = int(size[p]), int(size[i])
            # Pad so the output lands on the symmetric sample grid (paper, appendix C.3): the total makes the
            # sizes agree, the split shifts by half the upsampling factor.
            total = (out_size - 1) * down + 1 - (in_size + kernel - 1) * up + up_taps + down_taps - 2
            lo = (total + up) // 2
            padding = (lo, total - lo, lo, total - lo)
            out.append(LayerSpec(
                index=i, name=f"L{i}_{out_size}_{int(ch[i])}", is_torgb=torgb, is_critical=critical,
                use_fp16=bool(rate[i] * 2 ** self.num_fp16_res > self.img_resolution),
                in_channels=int(ch[p]), out_channels=int(ch[i]), in_size=in_size, out_size=out_size,
                in_sampling_rate=in_rate, out_sampling_rate=out_rate, in_cutoff=float(cut[p]),
                out_cutoff=float(cut[i]), in_half_width=float(hw[p]), out_half_width=float(hw[i]),
                conv_kernel=kernel, up=up, down=down, up_taps=up_taps, down_taps=down_taps,
                down_radial=self.use_radial_filters and not critical and down_taps > 1, padding=padding))
        return tuple(out)

    @property
    def input_channels(self) -> int:
        """Fourier features of the input (the first layer's width)."""
        return self.layers[0].in_channels

    @property
    def input_size(self) -> int:
        """Side of the Fourier-feature input, margins included."""
        return self.layers[0].in_size

    @property
    def input_sampling_rate(self) -> int:
        """Sampling rate of the input."""
        return self.layers[0].in_sampling_rate

    @property
    def input_bandwidth(self) -> float:
        """Highest frequency of the input (the first cutoff)."""
        return float(self._schedule()["cutoffs"][0])

    @property
    def num_ws(self) -> int:
        """ws the synthesis network takes: the input's transform, each layer, ToRGB."""
        return self.num_layers + 2

    def parameter_count(self) -> int:
        """Parameter and filter count of G, computed before anything is allocated."""
        mapping = (self.z_dim + (self.w_dim if self.c_dim else 0)) * self.w_dim + self.c_dim * self.w_dim
        mapping += self.w_dim * self.w_dim * (self.mapping_layers - 1) + self.w_dim * (self.mapping_layers + 2)
        total = mapping + self.input_channels ** 2 + self.input_channels * 3 + 4 * (self.w_dim + 1)
        for spec in self.layers:
            taps = spec.up_taps + (spec.down_taps ** 2 if spec.down_radial else spec.down_taps)
            total += spec.out_channels * spec.in_channels * spec.conv_kernel ** 2 + taps
            total += spec.in_channels * (self.w_dim + 1) + spec.out_channels + 1
        return int(total)

    def image_macs(self) -> float:
        """Multiply-accumulates of one synthesis pass: modulated convolutions and the leaky ReLU's filters."""
        total = 0.0
        for spec in self.layers:
            conv_side = spec.in_size + spec.conv_kernel - 1
            total += spec.out_channels * spec.in_channels * spec.conv_kernel ** 2 * conv_side ** 2
            tmp_side = conv_side * spec.up + spec.padding[0] + spec.padding[1]
            # separable up filter: a row pass and a column pass; down filter at 1/down the rate
            total += spec.out_channels * tmp_side ** 2 * 2 * spec.up_taps / spec.up
            down_taps = spec.down_taps ** 2 if spec.down_radial else 2 * spec.down_taps
            total += spec.out_channels * (tmp_side / spec.down) ** 2 * down_taps
        return total

    # ---- files ---------------------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """Plain JSON-ready dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Stylegan3Config":
        """Build from a dict, rejecting unknown keys and wrong types."""
        fields = json_fields(cls, data, "StyleGAN3 config", Stylegan3ConfigError)
        return cls(**{key: _typed(key, str(fields[key].type), value) for key, value in data.items()})


def _typed(key: str, kind: str, value):
    """One config value checked against its field's declared type."""
    if kind == "bool":
        if not isinstance(value, bool):
            raise Stylegan3ConfigError(f"StyleGAN3 config {key} must be true or false, got {value!r}")
        return value
    return _number(key, value, float if kind == "float" else int)


def _number(key: str, value, want):
    """A finite number of the wanted type (integers must be whole)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise Stylegan3ConfigError(f"{key} must be a number, got {str(value)[:40]!r}")
    if not math.isfinite(value):
        raise Stylegan3ConfigError(f"{key} must be a finite number, got {value!r}")
    if want is int and value != int(value):
        raise Stylegan3ConfigError(f"{key} must be a whole number, got {value!r}")
    return want(value)


# ---- NVIDIA's init kwargs ---------------------------------------------------------------------------------------
class _Kwargs:
    """NVIDIA's kwargs of one sub-network, consumed key by key so that anything left over is refused by name."""

    def __init__(self, where: str, data) -> None:
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise Stylegan3ConfigError(f"{where} must be a dict of keyword arguments, got {type(data).__name__}")
        self.where, self.data = where, dict(data)

    def number(self, key: str, default, want, none_as=None):
        """The value of `key` (NVIDIA's default when absent) as a number; None becomes `none_as` if allowed."""
        value = self.data.pop(key, default)
        if value is None and none_as is not None:
            return none_as
        return _number(f"{self.where}.{key}", value, want)

    def choice(self, key: str, default, allowed: tuple):
        """A value that must be one of `allowed` (booleans only match booleans)."""
        value = self.data.pop(key, default)
        if not any(value == a and isinstance(value, bool) == isinstance(a, bool) for a in allowed):
            raise Stylegan3ConfigError(f"{self.where}.{key} = {str(value)[:40]!r} is not implemented "
                                       f"(we implement {', '.join(map(repr, allowed))})")
        return value

    def done(self) -> None:
        """Refuse whatever kwargs were not consumed."""
        if self.data:
            keys = ", ".join(f"{self.where}.{k}" for k in sorted(map(str, self.data)))
            raise Stylegan3ConfigError(f"NVIDIA StyleGAN3 kwargs we do not implement: {keys}")


def config_from_nvidia(module: str, class_name: str, init_kwargs) -> Stylegan3Config:
    """Our config from a stylegan3 repo Generator's (module, class name, init kwargs) in an NVIDIA pickle."""
    if module != MODULE or class_name != "Generator":
        raise Stylegan3ConfigError(f"{module}.{class_name} is not a StyleGAN3 network we implement")
    top = _Kwargs("Generator", init_kwargs)
    m = _Kwargs("mapping_kwargs", top.data.pop("mapping_kwargs", None))
    d = Stylegan3Config()  # NVIDIA's defaults are ours
    fields = {key: top.number(key, None, int) for key in ("z_dim", "c_dim", "w_dim", "img_resolution",
                                                          "img_channels")}
    fields.update(
        mapping_layers=m.number("num_layers", d.mapping_layers, int),
        mapping_lr_mul=m.number("lr_multiplier", d.mapping_lr_mul, float),
        w_avg_beta=m.number("w_avg_beta", d.w_avg_beta, float),
        conv_clamp=top.number("conv_clamp", d.conv_clamp, float, none_as=0.0),
        use_radial_filters=top.choice("use_radial_filters", False, (False, True)),
    )
    for key in ("channel_base", "channel_max", "num_layers", "num_critical", "margin_size", "num_fp16_res",
                "conv_kernel", "filter_size", "lrelu_upsampling"):
        fields[key] = top.number(key, getattr(d, key), int)
    for key in ("first_cutoff", "first_stopband", "last_stopband_rel", "output_scale", "magnitude_ema_beta"):
        fields[key] = top.number(key, getattr(d, key), float)
    m.done()
    top.done()
    return Stylegan3Config(**fields)
