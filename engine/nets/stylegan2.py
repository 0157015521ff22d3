"""StyleGAN2 mapping, synthesis ('skip', 'orig', 'resnet'), generator and discriminator (Karras et al. 2020).

Module, parameter and buffer names are NVIDIA's state_dict keys (mapping.fc0.weight, synthesis.b4.conv1.affine.weight,
b64.skip.weight, ...) so a snapshot imported from stylegan2-ada-pytorch or stylegan3 loads with load_state_dict.
"""
from __future__ import annotations

import math
import re

import numpy as np
import torch
from torch import nn

from .capture import CapturingSynthesis
from .stylegan2_config import Stylegan2Config, Stylegan2ConfigError
from .stylegan2_ops import (Conv2dLayer, FullyConnectedLayer, MinibatchStdLayer, bias_act, fir_filter,
                            downsample2d, modulated_conv2d, normalize_2nd_moment, upsample2d)

SQRT_HALF = math.sqrt(0.5)


def _fp16(x_or_device, use_fp16: bool, force_fp32: bool) -> torch.dtype:
    """fp16 only where the model marks the layer and the tensor is on CUDA (a CPU renders everything in fp32)."""
    device = x_or_device.device if isinstance(x_or_device, torch.Tensor) else x_or_device
    return torch.float16 if use_fp16 and not force_fp32 and device.type == "cuda" else torch.float32


class MappingNetwork(nn.Module):
    """f: (z, c) → w. z (and the class embedding) normalised to unit second moment, then an lr-scaled MLP."""

    def __init__(self, z_dim: int, c_dim: int, w_dim: int, num_layers: int, embed_features: int,
                 layer_features: int, lr_mul: float, w_avg_beta: float | None) -> None:
        super().__init__()
        self.z_dim, self.c_dim, self.w_dim = z_dim, c_dim, w_dim
        self.num_layers, self.w_avg_beta = num_layers, w_avg_beta
        if c_dim > 0:
            self.embed = FullyConnectedLayer(c_dim, embed_features)
        dims = [z_dim + (embed_features if c_dim else 0)] + [layer_features] * (num_layers - 1) + [w_dim]
        for i in range(num_layers):
            setattr(self, f"fc{i}", FullyConnectedLayer(dims[i], dims[i + 1], "lrelu", lr_mul))
        if w_avg_beta is not None:
            self.register_buffer("w_avg", torch.zeros([w_dim]))

    def forward(self, z: torch.Tensor | None, c: torch.Tensor | None = None) -> torch.Tensor:
        """[N, z_dim] (+ [N, c_dim]) → w [N, w_dim], without truncation."""
        if self.c_dim == 0 and c is not None and c.numel() > 0:
            raise Stylegan2ConfigError("this model is unconditional: it takes no class")
        parts = []
        if self.z_dim > 0:
            parts.append(normalize_2nd_moment(z.to(torch.float32)))
        if self.c_dim > 0:
            if c is None:
                raise Stylegan2ConfigError(f"this model is class-conditional ({self.c_dim} classes): give a class")
            parts.append(normalize_2nd_moment(self.embed(c.to(torch.float32))))
        x = torch.cat(parts, dim=1) if len(parts) > 1 else parts[0]
        for i in range(self.num_layers):
            x = getattr(self, f"fc{i}")(x)
        return x


class SynthesisLayer(nn.Module):
    """Modulated 3×3 convolution (2× FIR upsampling in a block's first layer), noise, bias, leaky ReLU, clamp."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int, up: bool, use_noise: bool,
                 resample_filter, conv_clamp: float | None) -> None:
        super().__init__()
        self.resolution, self.up, self.use_noise, self.conv_clamp = resolution, up, use_noise, conv_clamp
        self.register_buffer("resample_filter", fir_filter(resample_filter))
        self.affine = FullyConnectedLayer(w_dim, in_channels, bias_init=1)
        self.weight = nn.Parameter(torch.randn([out_channels, in_channels, 3, 3]))
        if use_noise:
            self.register_buffer("noise_const", torch.randn([resolution, resolution]))
            self.noise_strength = nn.Parameter(torch.zeros([]))
        self.bias = nn.Parameter(torch.zeros([out_channels]))

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise: torch.Tensor | None, gain: float = 1.0,
                fused: bool | None = None) -> torch.Tensor:
        """`noise` a [1 or N, 1, H, W] map scaled here by noise_strength, or None for no noise."""
        styles = self.affine(w)
        if noise is not None and self.use_noise:
            noise = noise * self.noise_strength
        else:
            noise = None
        x = modulated_conv2d(x, self.weight, styles, noise, up=self.up, f=self.resample_filter, fused=fused)
        clamp = self.conv_clamp * gain if self.conv_clamp is not None else None
        return bias_act(x, self.bias, "lrelu", math.sqrt(2.0) * gain, clamp)


class ToRGBLayer(nn.Module):
    """Modulated 1×1 convolution to colour, without demodulation."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, conv_clamp: float | None) -> None:
        super().__init__()
        self.conv_clamp = conv_clamp
        self.affine = FullyConnectedLayer(w_dim, in_channels, bias_init=1)
        self.weight = nn.Parameter(torch.randn([out_channels, in_channels, 1, 1]))
        self.bias = nn.Parameter(torch.zeros([out_channels]))
        self.weight_gain = 1 / math.sqrt(in_channels)

    def forward(self, x: torch.Tensor, w: torch.Tensor, fused: bool | None = None) -> torch.Tensor:
        styles = self.affine(w) * self.weight_gain
        x = modulated_conv2d(x, self.weight, styles, demodulate=False, fused=fused)
        return bias_act(x, self.bias, "linear", 1.0, self.conv_clamp)


class SynthesisBlock(nn.Module):
    """One resolution: (constant input at 4²) conv0 with 2× upsampling, conv1, and the ToRGB of the architecture."""

    def __init__(self, cfg: Stylegan2Config, res: int) -> None:
        super().__init__()
        clamp = cfg.conv_clamp or None
        in_ch, out_ch = (cfg.channels(res // 2) if res > 4 else 0), cfg.channels(res)
        self.res, self.in_channels, self.architecture = res, in_ch, cfg.architecture
        self.is_last = res == cfg.img_resolution
        self.use_fp16 = res >= cfg.fp16_resolution(cfg.num_fp16_res)
        self.register_buffer("resample_filter", fir_filter(cfg.resample_filter))
        if in_ch == 0:
            self.const = nn.Parameter(torch.randn([out_ch, res, res]))
        else:
            self.conv0 = SynthesisLayer(in_ch, out_ch, cfg.w_dim, res, True, cfg.use_noise, cfg.resample_filter, clamp)
        self.conv1 = SynthesisLayer(out_ch, out_ch, cfg.w_dim, res, False, cfg.use_noise, cfg.resample_filter, clamp)
        self.has_torgb = self.is_last or cfg.architecture == "skip"
        if self.has_torgb:
            self.torgb = ToRGBLayer(out_ch, cfg.img_channels, cfg.w_dim, clamp)
        if in_ch and cfg.architecture == "resnet":
            self.skip = Conv2dLayer(in_ch, out_ch, 1, bias=False, up=True, resample_filter=cfg.resample_filter)
        self.num_conv = 1 if in_ch == 0 else 2

    def forward(self, x, img, ws: torch.Tensor, noise: list, force_fp32: bool = False):
        """ws [N, num_conv + 1, w_dim] (the last one for ToRGB) → (features, skip image or None)."""
        dtype = _fp16(ws, self.use_fp16, force_fp32)
        if self.in_channels == 0:
            x = self.const.to(dtype).unsqueeze(0).repeat([ws.shape[0], 1, 1, 1])
            x = self.conv1(x, ws[:, 0], noise[0])
        else:
            x = x.to(dtype)
            if self.architecture == "resnet":
                y = self.skip(x, gain=SQRT_HALF)
                x = self.conv0(x, ws[:, 0], noise[0])
                x = y + self.conv1(x, ws[:, 1], noise[1], gain=SQRT_HALF)
            else:
                x = self.conv0(x, ws[:, 0], noise[0])
                x = self.conv1(x, ws[:, 1], noise[1])
        if img is not None:
            img = upsample2d(img, self.resample_filter)
        if self.has_torgb:
            y = self.torgb(x, ws[:, self.num_conv]).to(torch.float32)
            img = img + y if img is not None else y
        return x, img


class SynthesisNetwork(CapturingSynthesis):
    """g: ws → image, from the learned 4² constant up to the output resolution (layer views: capture.py)."""

    def __init__(self, cfg: Stylegan2Config) -> None:
        super().__init__()
        self.cfg = cfg
        for res in cfg.block_resolutions:
            setattr(self, f"b{res}", SynthesisBlock(cfg, res))
        self.noise_layers = [layer for res in cfg.block_resolutions for layer in self._convs(res)] \
            if cfg.use_noise else []

    def _convs(self, res: int) -> list:
        block = getattr(self, f"b{res}")
        return [block.conv1] if res == 4 else [block.conv0, block.conv1]

    def stored_noise(self, i: int) -> torch.Tensor:
        """Noise input i's stored map (noise_const), [1, 1, H, W]."""
        buf = self.noise_layers[i].noise_const
        return buf.reshape(1, 1, *buf.shape)

    def layers(self) -> dict[str, tuple[nn.Module, int, int]]:
        """Feature layers by name (NVIDIA's b8.conv0 is '8x8/conv0'): (module, resolution, channels), in order."""
        out = {}
        for r in self.cfg.block_resolutions:
            block = getattr(self, f"b{r}")
            for part in ("conv0", "conv1", "torgb"):
                if hasattr(block, part):
                    ch = self.cfg.img_channels if part == "torgb" else self.cfg.channels(r)
                    out[f"{r}x{r}/{part}"] = (getattr(block, part), r, ch)
        return out

    def _render(self, ws: torch.Tensor, noise: list | None = None, res: int | None = None,
                force_fp32: bool = False) -> torch.Tensor:
        """ws [N, num_ws, w_dim] → image [N, C, R, R] (R = res: the skip image so far, 'skip' models only).

        noise: None = every input's stored map; else one entry per noise input, a map or None (that input off)."""
        cfg = self.cfg
        stop = res or cfg.img_resolution
        if stop not in cfg.block_resolutions or (stop != cfg.img_resolution and cfg.architecture != "skip"):
            raise Stylegan2ConfigError(f"this model stops early only at {self.output_resolutions}, not {stop}")
        if ws.ndim != 3 or ws.shape[1:] != (cfg.num_ws, cfg.w_dim):
            raise ValueError(f"ws must be [N, {cfg.num_ws}, {cfg.w_dim}], got {list(ws.shape)}")
        n_noise = len(self.noise_layers)
        if noise is None:
            noise = [self.stored_noise(i) for i in range(n_noise)]
        elif len(noise) != n_noise:
            raise ValueError(f"this model takes {n_noise} noise inputs, got {len(noise)}")
        if not cfg.use_noise:
            noise = [None] * sum(len(self._convs(r)) for r in cfg.block_resolutions)
        ws = ws.to(torch.float32)
        x = img = None
        w_idx = n_idx = 0
        for r in cfg.block_resolutions:
            if r > stop:
                break
            block = getattr(self, f"b{r}")
            k = block.num_conv
            block_ws = ws[:, w_idx:w_idx + k + 1] if block.has_torgb else ws[:, w_idx:w_idx + k]
            x, img = block(x, img, block_ws, noise[n_idx:n_idx + k], force_fp32)
            w_idx, n_idx = w_idx + k, n_idx + k
        return img

    @property
    def output_resolutions(self) -> tuple[int, ...]:
        """Resolutions `res` can stop at: every block of a 'skip' model (each has a ToRGB), else only the output."""
        cfg = self.cfg
        return cfg.block_resolutions if cfg.architecture == "skip" else (cfg.img_resolution,)


class Generator(nn.Module):
    """G = mapping + synthesis, with the interface every studio generator offers (engine/nets/)."""

    arch = "stylegan2"
    has_input_transform = False

    def __init__(self, cfg: Stylegan2Config) -> None:
        super().__init__()
        self.cfg = cfg
        self.z_dim, self.c_dim, self.w_dim = cfg.z_dim, cfg.c_dim, cfg.w_dim
        self.img_resolution, self.img_channels, self.num_ws = cfg.img_resolution, cfg.img_channels, cfg.num_ws
        self.synthesis = SynthesisNetwork(cfg)
        self.mapping = MappingNetwork(cfg.z_dim, cfg.c_dim, cfg.w_dim, cfg.mapping_layers, cfg.embed_features,
                                      cfg.layer_features, cfg.mapping_lr_mul, cfg.w_avg_beta)
        # ws i feeds block res 2^(i//2 + 2): two per resolution, as in v1, so coarse/middle/fine agree.
        self.ws_resolutions = tuple(min(2 ** (i // 2 + 2), cfg.img_resolution) for i in range(cfg.num_ws))
        self.ws_labels = tuple(f"{r}²" for r in self.ws_resolutions)
        self.noise_resolutions = tuple(layer.resolution for layer in self.synthesis.noise_layers)
        self.output_resolutions = self.synthesis.output_resolutions
        self._ws_affines = self._affines_by_ws()

    def feature_layers(self) -> tuple[tuple[str, int, int], ...]:
        """(name, resolution, channels) of the layers a layer view can show: every conv and ToRGB."""
        return self.synthesis.feature_layers()

    def _affines_by_ws(self) -> list[list[tuple[nn.Module, float]]]:
        """For each ws index, the (affine, extra gain) pairs it feeds: a block's convolutions take one ws each
        and its ToRGB shares the ws of the next block's first convolution."""
        out: list[list] = [[] for _ in range(self.num_ws)]
        i = 0
        for res in self.cfg.block_resolutions:
            block = getattr(self.synthesis, f"b{res}")
            for layer in self.synthesis._convs(res):
                out[i].append((layer.affine, 1.0))
                i += 1
            if block.has_torgb:
                out[i].append((block.torgb.affine, block.torgb.weight_gain))
        return out

    @property
    def w_avg(self) -> torch.Tensor:
        """The running average of w (the truncation centre), [w_dim]."""
        return self.mapping.w_avg

    def stored_noise(self, i: int) -> torch.Tensor:
        """Noise input i's stored map, [1, 1, H, W]."""
        return self.synthesis.stored_noise(i)

    def param_resolution(self, name: str) -> int | None:
        """The synthesis resolution a parameter or buffer belongs to; None for mapping (and w_avg)."""
        m = re.match(r"synthesis\.b(\d+)\.", name)
        return int(m.group(1)) if m else None

    def set_input_transform(self, tx: float, ty: float, angle_deg: float) -> None:
        """StyleGAN2 starts from a learned constant: there is no input to move."""
        raise TypeError("StyleGAN2 has no input transform (has_input_transform is False)")

    def style_weights(self, i: int) -> torch.Tensor:
        """The affines turning w into ws entry i's styles, as they act on w (gains applied): [S, w_dim]."""
        return torch.cat([a.weight * a.weight_gain * g for a, g in self._ws_affines[i]])

    def image_macs(self, res: int | None = None) -> float:
        """Multiply-accumulates of one synthesis pass up to output resolution `res` (default: full)."""
        cfg, stop = self.cfg, res or self.cfg.img_resolution
        taps = len(cfg.resample_filter) ** 2
        macs = 0.0
        for r in cfg.block_resolutions:
            if r > stop:
                break
            ch, prev = cfg.channels(r), cfg.channels(max(r // 2, 4))
            macs += ch * ch * 9 * r * r + cfg.w_dim * (ch + prev) * 2  # conv1; the affines
            if r > 4:
                macs += prev * ch * 9 * (r // 2) ** 2 + ch * taps * r * r  # conv0 (transposed) and its filter
                macs += cfg.img_channels * taps / 4 * r * r  # the skip image's polyphase upsampling
            macs += ch * cfg.img_channels * r * r
        return macs

    def update_w_avg(self, w: torch.Tensor) -> None:
        """w_avg ← lerp(batch mean of w, w_avg, β), as NVIDIA's training loop tracks it."""
        with torch.no_grad():
            self.w_avg.copy_(w.detach().float().mean(dim=0).lerp(self.w_avg, self.cfg.w_avg_beta))

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None, noise: list | None = None) -> torch.Tensor:
        """z → image without truncation (truncation is applied by the render path)."""
        w = self.mapping(z, c)
        return self.synthesis(w.unsqueeze(1).repeat(1, self.num_ws, 1), noise)


class DiscriminatorBlock(nn.Module):
    """conv 3×3, conv 3×3 with FIR 2× downsampling; FromRGB at the input ('skip': at every block); resnet skip."""

    def __init__(self, cfg: Stylegan2Config, res: int) -> None:
        super().__init__()
        clamp = cfg.d_conv_clamp or None
        tmp, out = cfg.d_channels(res), cfg.d_channels(res // 2)
        self.res, self.architecture = res, cfg.d_architecture
        self.first = res == cfg.img_resolution
        self.use_fp16 = res >= cfg.fp16_resolution(cfg.d_num_fp16_res)
        self.register_buffer("resample_filter", fir_filter(cfg.resample_filter))
        if self.first or self.architecture == "skip":
            self.fromrgb = Conv2dLayer(cfg.img_channels, tmp, 1, activation="lrelu", conv_clamp=clamp)
        self.conv0 = Conv2dLayer(tmp, tmp, 3, activation="lrelu", conv_clamp=clamp)
        self.conv1 = Conv2dLayer(tmp, out, 3, activation="lrelu", down=True, resample_filter=cfg.resample_filter,
                                 conv_clamp=clamp)
        if self.architecture == "resnet":
            self.skip = Conv2dLayer(tmp, out, 1, bias=False, down=True, resample_filter=cfg.resample_filter)

    def forward(self, x, img, force_fp32: bool = False):
        dtype = _fp16(x if x is not None else img, self.use_fp16, force_fp32)
        if x is not None:
            x = x.to(dtype)
        if self.first or self.architecture == "skip":
            y = self.fromrgb(img.to(dtype))
            x = x + y if x is not None else y
            img = downsample2d(img, self.resample_filter) if self.architecture == "skip" else None
        if self.architecture == "resnet":
            y = self.skip(x, gain=SQRT_HALF)
            x = y + self.conv1(self.conv0(x), gain=SQRT_HALF)
        else:
            x = self.conv1(self.conv0(x))
        return x, img


class DiscriminatorEpilogue(nn.Module):
    """4²: minibatch stddev, conv, dense, dense → score (projected on the class embedding when conditional)."""

    def __init__(self, cfg: Stylegan2Config) -> None:
        super().__init__()
        ch, clamp = cfg.d_channels(4), cfg.d_conv_clamp or None
        self.architecture, self.cmap_dim = cfg.d_architecture, cfg.cmap_dim
        if self.architecture == "skip":
            self.fromrgb = Conv2dLayer(cfg.img_channels, ch, 1, activation="lrelu")
        nm = cfg.d_mbstd_num_channels
        self.mbstd = MinibatchStdLayer(cfg.d_mbstd_group_size or None, nm) if nm > 0 else None
        self.conv = Conv2dLayer(ch + nm, ch, 3, activation="lrelu", conv_clamp=clamp)
        self.fc = FullyConnectedLayer(ch * 16, ch, activation="lrelu")
        self.out = FullyConnectedLayer(ch, cfg.cmap_dim or 1)

    def forward(self, x, img, cmap):
        x = x.to(torch.float32)
        if self.architecture == "skip":
            x = x + self.fromrgb(img.to(torch.float32))
        if self.mbstd is not None:
            x = self.mbstd(x)
        x = self.out(self.fc(self.conv(x).flatten(1)))
        if self.cmap_dim:
            x = (x * cmap).sum(dim=1, keepdim=True) * (1 / math.sqrt(self.cmap_dim))
        return x


class Discriminator(nn.Module):
    """D: blocks from the image resolution down to 8², then the 4² epilogue; one score per image, [N, 1]."""

    def __init__(self, cfg: Stylegan2Config) -> None:
        super().__init__()
        self.cfg = cfg
        self.c_dim = cfg.c_dim
        self.block_resolutions = [2 ** i for i in range(cfg.log2_res, 2, -1)]
        for res in self.block_resolutions:
            setattr(self, f"b{res}", DiscriminatorBlock(cfg, res))
        if cfg.c_dim > 0:
            self.mapping = MappingNetwork(0, cfg.c_dim, cfg.cmap_dim, cfg.d_mapping_layers, cfg.cmap_dim,
                                          cfg.cmap_dim, cfg.d_mapping_lr_mul, None)
        self.b4 = DiscriminatorEpilogue(cfg)

    def forward(self, img: torch.Tensor, c: torch.Tensor | None = None, force_fp32: bool = False) -> torch.Tensor:
        x = None
        for res in self.block_resolutions:
            x, img = getattr(self, f"b{res}")(x, img, force_fp32)
        cmap = self.mapping(None, c) if self.c_dim > 0 else None
        return self.b4(x, img, cmap)


def load_nvidia_state(net: nn.Module, state: dict) -> None:
    """Load NVIDIA's state (name → numpy array or tensor) into our G or D, every key and shape checked first."""
    own = net.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    if missing or unexpected:
        parts = [f"{len(keys)} {what} ({', '.join(keys[:4])}{', …' if len(keys) > 4 else ''})"
                 for what, keys in (("missing", missing), ("unexpected", unexpected)) if keys]
        raise Stylegan2ConfigError(f"the {type(net).__name__} weights do not fit its architecture: "
                                   + "; ".join(parts))
    tensors = {}
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            arr = np.asarray(value)
            if arr.dtype.kind != "f":
                raise Stylegan2ConfigError(f"the {type(net).__name__} weight {key} is {arr.dtype}, not floating point")
            value = torch.from_numpy(arr if arr.flags.writeable else arr.copy())
        if not value.is_floating_point():
            raise Stylegan2ConfigError(f"the {type(net).__name__} weight {key} is {value.dtype}, not floating point")
        if tuple(value.shape) != tuple(own[key].shape):
            raise Stylegan2ConfigError(f"the {type(net).__name__} weight {key} has shape {list(value.shape)}, "
                                       f"the architecture needs {list(own[key].shape)}")
        tensors[key] = value.to(own[key].dtype)
    net.load_state_dict(tensors, strict=True)
