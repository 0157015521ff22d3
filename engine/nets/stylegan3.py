"""StyleGAN3 ('T' and 'R'): mapping, Fourier-feature input, alias-free synthesis layers (Karras et al. 2021).

Module, parameter and buffer names are NVIDIA's state_dict keys (mapping.fc0.weight, synthesis.input.freqs,
synthesis.L3_52_512.up_filter, …) so a snapshot imported from the stylegan3 repository loads with load_state_dict;
the filters and magnitude averages come from the file, never recomputed.
"""
from __future__ import annotations

import math
import re

import numpy as np
import torch
from torch import nn

from .capture import CapturingSynthesis
from .stylegan3_config import LayerSpec, Stylegan3Config, Stylegan3ConfigError
from .stylegan2_ops import FullyConnectedLayer  # the same dense layer as StyleGAN2's
from .stylegan3_ops import filtered_lrelu, lowpass_filter, modulated_conv2d


def _dtype(device: torch.device, use_fp16: bool, force_fp32: bool) -> torch.dtype:
    """fp16 only where the model marks the layer and the tensor is on CUDA (a CPU renders everything in fp32)."""
    return torch.float16 if use_fp16 and not force_fp32 and device.type == "cuda" else torch.float32


def _normalize_2nd_moment(x: torch.Tensor) -> torch.Tensor:
    return x * (x.square().mean(dim=1, keepdim=True) + 1e-8).rsqrt()


class MappingNetwork(nn.Module):
    """f: (z, c) → w. z (and the class embedding) normalised to unit second moment, then an lr-scaled MLP."""

    def __init__(self, cfg: Stylegan3Config) -> None:
        super().__init__()
        self.z_dim, self.c_dim, self.num_layers = cfg.z_dim, cfg.c_dim, cfg.mapping_layers
        if cfg.c_dim > 0:
            self.embed = FullyConnectedLayer(cfg.c_dim, cfg.w_dim)
        dims = [cfg.z_dim + (cfg.w_dim if cfg.c_dim else 0)] + [cfg.w_dim] * cfg.mapping_layers
        for i in range(cfg.mapping_layers):
            setattr(self, f"fc{i}", FullyConnectedLayer(dims[i], dims[i + 1], "lrelu", lr_mul=cfg.mapping_lr_mul))
        self.register_buffer("w_avg", torch.zeros([cfg.w_dim]))

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """[N, z_dim] (+ [N, c_dim]) → w [N, w_dim], without truncation."""
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"z must be [N, {self.z_dim}], got {list(z.shape)}")
        x = _normalize_2nd_moment(z.to(torch.float32))
        if self.c_dim > 0:
            if c is None:
                raise Stylegan3ConfigError(f"this model is class-conditional ({self.c_dim} classes): give a class")
            if tuple(c.shape) != (z.shape[0], self.c_dim):
                raise ValueError(f"c must be [{z.shape[0]}, {self.c_dim}] (one-hot), got {list(c.shape)}")
            x = torch.cat([x, _normalize_2nd_moment(self.embed(c.to(torch.float32)))], dim=1)
        for i in range(self.num_layers):
            x = getattr(self, f"fc{i}")(x)
        return x


class SynthesisInput(nn.Module):
    """The input: Fourier features of a fixed set of frequencies, rotated and translated per sample by w (and by
    a user transform of the output image), then mixed by a learned matrix."""

    def __init__(self, cfg: Stylegan3Config) -> None:
        super().__init__()
        ch = cfg.input_channels
        self.size, self.sampling_rate, self.bandwidth = cfg.input_size, cfg.input_sampling_rate, cfg.input_bandwidth
        # New models: frequencies spread over the disc of radius `bandwidth`, denser towards the centre.
        freqs = torch.randn([ch, 2])
        radii = freqs.norm(dim=1, keepdim=True)
        freqs = freqs / (radii * radii.square().exp().pow(0.25)) * self.bandwidth
        self.weight = nn.Parameter(torch.randn([ch, ch]))
        self.affine = FullyConnectedLayer(cfg.w_dim, 4, weight_init=0.0, bias_init=[1, 0, 0, 0])
        self.register_buffer("transform", torch.eye(3))  # the inverse of the user's transform of the image
        self.register_buffer("freqs", freqs)
        self.register_buffer("phases", torch.rand([ch]) - 0.5)

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        """w [N, w_dim] → features [N, C, size, size]."""
        n = w.shape[0]
        t = self.affine(w)  # (cos, sin, tx, ty) of the inverse rotation and translation, up to scale
        t = t / t[:, :2].norm(dim=1, keepdim=True)
        eye = torch.eye(3, device=w.device).expand(n, 3, 3)
        rot, shift = eye.clone(), eye.clone()
        rot[:, 0, 0], rot[:, 0, 1], rot[:, 1, 0], rot[:, 1, 1] = t[:, 0], -t[:, 1], t[:, 1], t[:, 0]
        shift[:, 0, 2], shift[:, 1, 2] = -t[:, 2], -t[:, 3]
        m = rot @ shift @ self.transform.unsqueeze(0)  # the image rotates, then translates, then the user's
        phases = self.phases.unsqueeze(0) + (self.freqs.unsqueeze(0) @ m[:, :2, 2:]).squeeze(2)
        freqs = self.freqs.unsqueeze(0) @ m[:, :2, :2]
        # Frequencies the user transform pushes past the bandwidth fade out before they could alias.
        amplitudes = (1 - (freqs.norm(dim=2) - self.bandwidth) / (self.sampling_rate / 2 - self.bandwidth)).clamp(0, 1)
        # Pixel centres of the size² grid, in input units (the image's centre at 0).
        coords = (torch.arange(self.size, device=w.device, dtype=torch.float32) + 0.5 - self.size / 2) \
            / self.sampling_rate
        grid = torch.stack(torch.meshgrid(coords, coords, indexing="xy"), dim=-1)  # [H, W, 2] as (x, y)
        x = grid.reshape(1, -1, 2) @ freqs.transpose(1, 2) + phases.unsqueeze(1)   # [N, H·W, C]
        x = torch.sin(x * (2 * math.pi)) * amplitudes.unsqueeze(1)
        x = x @ (self.weight / math.sqrt(self.weight.shape[0])).t()
        return x.transpose(1, 2).reshape(n, -1, self.size, self.size)


class SynthesisLayer(nn.Module):
    """Modulated convolution, then bias and leaky ReLU between an up- and a downsampling low-pass (ToRGB: 1×1,
    not demodulated, linear). The input is first scaled by the running RMS of what this layer saw in training."""

    def __init__(self, spec: LayerSpec, cfg: Stylegan3Config) -> None:
        super().__init__()
        self.spec = spec
        self.conv_clamp = cfg.conv_clamp or None
        k = spec.conv_kernel
        self.affine = FullyConnectedLayer(cfg.w_dim, spec.in_channels, bias_init=1)
        self.weight = nn.Parameter(torch.randn([spec.out_channels, spec.in_channels, k, k]))
        self.bias = nn.Parameter(torch.zeros([spec.out_channels]))
        self.register_buffer("magnitude_ema", torch.ones([]))
        rate = spec.tmp_sampling_rate
        self.register_buffer("up_filter", lowpass_filter(spec.up_taps, spec.in_cutoff, spec.in_half_width * 2, rate))
        self.register_buffer("down_filter", lowpass_filter(spec.down_taps, spec.out_cutoff, spec.out_half_width * 2,
                                                           rate, radial=spec.down_radial))
        self.torgb_gain = 1 / math.sqrt(spec.in_channels * k * k) if spec.is_torgb else 1.0

    def forward(self, x: torch.Tensor, w: torch.Tensor, force_fp32: bool = False) -> torch.Tensor:
        spec = self.spec
        styles = self.affine(w) * self.torgb_gain
        dtype = _dtype(x.device, spec.use_fp16, force_fp32)
        x = modulated_conv2d(x.to(dtype), self.weight, styles, demodulate=not spec.is_torgb,
                             padding=spec.conv_kernel - 1, input_gain=self.magnitude_ema.rsqrt())
        gain, slope = (1.0, 1.0) if spec.is_torgb else (math.sqrt(2), 0.2)
        return filtered_lrelu(x, self.up_filter, self.down_filter, self.bias, spec.up, spec.down, spec.padding,
                              gain, slope, self.conv_clamp)


class SynthesisNetwork(CapturingSynthesis):
    """g: ws → image: the Fourier input, num_layers alias-free layers, ToRGB, scaled by output_scale."""

    def __init__(self, cfg: Stylegan3Config) -> None:
        super().__init__()
        self.cfg = cfg
        self.input = SynthesisInput(cfg)
        self.layer_names = [spec.name for spec in cfg.layers]
        for spec in cfg.layers:
            setattr(self, spec.name, SynthesisLayer(spec, cfg))

    def layers(self) -> dict[str, tuple[nn.Module, int, int]]:
        """Feature layers by NVIDIA's names ('input', 'L0_36_512', …): (module, size with margin, channels)."""
        cfg = self.cfg
        out = {"input": (self.input, cfg.input_size, cfg.input_channels)}
        out.update((s.name, (getattr(self, s.name), s.out_size, s.out_channels)) for s in cfg.layers)
        return out

    def _render(self, ws: torch.Tensor, noise: list | None = None, res: int | None = None,
                force_fp32: bool = False) -> torch.Tensor:
        """ws [N, num_ws, w_dim] → image [N, C, R, R] in float32. StyleGAN3 has no noise inputs: `noise` must be
        None or empty, and `res` (an early stop) the output resolution or None."""
        cfg = self.cfg
        if noise:
            raise ValueError(f"a StyleGAN3 model takes no noise inputs, got {len(noise)}")
        if res is not None and res != cfg.img_resolution:
            raise Stylegan3ConfigError(f"a StyleGAN3 model renders only at its output resolution "
                                       f"{cfg.img_resolution}, not {res}")
        if ws.ndim != 3 or tuple(ws.shape[1:]) != (cfg.num_ws, cfg.w_dim):
            raise ValueError(f"ws must be [N, {cfg.num_ws}, {cfg.w_dim}], got {list(ws.shape)}")
        ws = ws.to(torch.float32).unbind(dim=1)
        x = self.input(ws[0])
        for name, w in zip(self.layer_names, ws[1:]):
            x = getattr(self, name)(x, w, force_fp32)
        return x.to(torch.float32) * cfg.output_scale


def nominal_resolution(cutoff: float, img_resolution: int) -> int:
    """The power of two nearest (in log scale) to twice a layer's cutoff frequency, 4 to img_resolution: the
    resolution whose finest detail the layer carries, as a StyleGAN2 layer at that resolution does."""
    return int(min(max(2 ** round(math.log2(2 * cutoff)), 4), img_resolution))


class Generator(nn.Module):
    """G = mapping + synthesis, with the interface every studio generator offers (engine/nets/api.py)."""

    arch = "stylegan3"
    has_input_transform = True
    noise_resolutions: tuple[int, ...] = ()

    def __init__(self, cfg: Stylegan3Config) -> None:
        super().__init__()
        self.cfg = cfg
        self.z_dim, self.c_dim, self.w_dim = cfg.z_dim, cfg.c_dim, cfg.w_dim
        self.img_resolution, self.img_channels, self.num_ws = cfg.img_resolution, cfg.img_channels, cfg.num_ws
        self.synthesis = SynthesisNetwork(cfg)
        self.mapping = MappingNetwork(cfg)
        # ws 0 feeds the input's transform, ws i + 1 layer L_i: each labelled with the size it produces, and
        # placed at the resolution whose detail it carries (nominal_resolution), so coarse / middle / fine pick
        # the layers they pick in StyleGAN2 (the padded sizes 36, 52, … would put nothing in "coarse").
        self.ws_resolutions = (nominal_resolution(cfg.layers[0].in_cutoff, cfg.img_resolution),) + tuple(
            nominal_resolution(spec.out_cutoff, cfg.img_resolution) for spec in cfg.layers)
        self.ws_labels = (f"in {cfg.input_size}²",) + tuple(f"L{s.index} {s.out_size}²" for s in cfg.layers)
        self.output_resolutions = (cfg.img_resolution,)

    def feature_layers(self) -> tuple[tuple[str, int, int], ...]:
        """(name, size, channels) of the layers a layer view can show: the Fourier input and every layer."""
        return self.synthesis.feature_layers()

    @property
    def w_avg(self) -> torch.Tensor:
        """The running average of w (the truncation centre), [w_dim]."""
        return self.mapping.w_avg

    def stored_noise(self, i: int) -> torch.Tensor:
        """StyleGAN3 has no noise inputs."""
        raise IndexError(f"a StyleGAN3 model has no noise inputs (asked for {i})")

    def set_input_transform(self, tx: float, ty: float, angle_deg: float) -> None:
        """Translate the image by (tx, ty) image widths and rotate it by angle_deg, as NVIDIA's gen_images.py does:
        by moving the Fourier input, whose transform buffer holds the inverse of that transform."""
        a = math.radians(float(angle_deg))
        m = np.array([[math.cos(a), math.sin(a), float(tx)], [-math.sin(a), math.cos(a), float(ty)], [0, 0, 1]])
        if not np.all(np.isfinite(m)):
            raise ValueError(f"translate and rotate must be finite, got {tx}, {ty}, {angle_deg}")
        with torch.no_grad():
            self.synthesis.input.transform.copy_(torch.from_numpy(np.linalg.inv(m)))

    def param_resolution(self, name: str) -> int | None:
        """The nominal resolution (as ws_resolutions) of the synthesis layer a parameter or buffer belongs to (the
        input's for the input); None for mapping (and w_avg)."""
        if name.startswith("synthesis.input."):
            return self.ws_resolutions[0]
        match = re.match(r"synthesis\.L(\d+)_\d+_\d+\.", name)
        return self.ws_resolutions[int(match.group(1)) + 1] if match else None

    def style_weights(self, i: int) -> torch.Tensor:
        """The affine turning w into ws entry i's styles, gains applied: [4, w_dim] for the input's transform,
        [in_channels, w_dim] for layer i − 1."""
        if i == 0:
            return self.synthesis.input.affine.effective_weight()
        layer = getattr(self.synthesis, self.synthesis.layer_names[i - 1])
        return layer.affine.effective_weight() * layer.torgb_gain

    def image_macs(self, res: int | None = None) -> float:
        """Multiply-accumulates of one synthesis pass (StyleGAN3 renders only at its output resolution)."""
        return self.cfg.image_macs()

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None, noise: list | None = None) -> torch.Tensor:
        """z → image without truncation (truncation is applied by the render path)."""
        w = self.mapping(z, c)
        return self.synthesis(w.unsqueeze(1).repeat(1, self.num_ws, 1), noise)


def load_nvidia_state(G: Generator, state: dict) -> None:
    """Load NVIDIA's state (name → numpy array or tensor) into our G, every key and shape checked first."""
    own = G.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    if missing or unexpected:
        parts = [f"{len(keys)} {what} ({', '.join(map(str, keys[:4]))}{', …' if len(keys) > 4 else ''})"
                 for what, keys in (("missing", missing), ("unexpected", unexpected)) if keys]
        raise Stylegan3ConfigError("the StyleGAN3 weights do not fit its architecture: " + "; ".join(parts))
    tensors = {}
    for key, value in state.items():
        t = value if isinstance(value, torch.Tensor) else torch.from_numpy(np.asarray(value))
        if tuple(t.shape) != tuple(own[key].shape):
            raise Stylegan3ConfigError(f"the StyleGAN3 weight {key} has shape {list(t.shape)}, the architecture "
                                       f"needs {list(own[key].shape)}")
        if not t.is_floating_point():
            raise Stylegan3ConfigError(f"the StyleGAN3 weight {key} is {t.dtype}, not floating point")
        tensors[key] = t.to(own[key].dtype)
    G.load_state_dict(tensors, strict=True)
