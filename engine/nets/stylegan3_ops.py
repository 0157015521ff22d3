"""StyleGAN3's operations in plain PyTorch: the filtered leaky ReLU, its low-pass filters, modulated convolution.

Written from "Alias-Free Generative Adversarial Networks" (Karras et al. 2021): a nonlinearity is applied at a
higher sampling rate between an ideal-as-possible upsampling and downsampling (section 3.2), so it cannot alias.
Here the upsampling is polyphase (no multiplications by inserted zeros), the downsampling a strided convolution
(no samples computed only to be dropped), and both run over a few channels at a time so the upsampled signal of
a whole 1024² layer never exists at once.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

CHUNK_VALUES = 1 << 23  # values of the upsampled signal held at once (32 MB in float32)


# ---- filter design (for new models; a loaded model keeps the filters its file holds) -------------------------------
def _kaiser_beta(numtaps: int, width: float, fs: float) -> float:
    """Kaiser window β for a transition band `width` (Kaiser's empirical attenuation and β formulas)."""
    atten = 2.285 * (numtaps - 1) * math.pi * (width / (fs / 2)) + 7.95
    if atten > 50:
        return 0.1102 * (atten - 8.7)
    if atten > 21:
        return 0.5842 * (atten - 21) ** 0.4 + 0.07886 * (atten - 21)
    return 0.0


def lowpass_filter(numtaps: int, cutoff: float, width: float, fs: float, radial: bool = False) -> torch.Tensor | None:
    """A windowed-sinc (or, radial, windowed-jinc 2-D) low-pass with unit DC gain; None for a single tap."""
    if numtaps == 1:
        return None
    window = np.kaiser(numtaps, _kaiser_beta(numtaps, width, fs))
    t = np.arange(numtaps) - (numtaps - 1) / 2
    if not radial:
        h = np.sinc(2 * cutoff / fs * t) * window
        return torch.as_tensor(h / h.sum(), dtype=torch.float32)
    r = torch.as_tensor(np.hypot(*np.meshgrid(t / fs, t / fs)), dtype=torch.float64)
    # jinc: the 2-D ideal low-pass, J1(2π f_c r) / (π r), whose limit at r = 0 is f_c
    jinc = torch.where(r > 0, torch.special.bessel_j1(2 * math.pi * cutoff * r) / (math.pi * r.clamp_min(1e-30)),
                       torch.full_like(r, cutoff))
    h = jinc.numpy() * np.outer(window, window)
    return torch.as_tensor(h / h.sum(), dtype=torch.float32)


# ---- the filtered leaky ReLU -------------------------------------------------------------------------------------
def _upsample_axis(x: torch.Tensor, f: torch.Tensor, up: int, pad: tuple[int, int], axis: int) -> torch.Tensor:
    """Zero-insert by `up` along `axis` (2 = rows, 3 = columns), pad (negative crops), convolve with f, gain `up`.

    Polyphase: output sample t (of the full convolution) is Σ_i x[i]·f[t − up·i], so the phase t mod up only
    meets the taps f[phase::up]; each phase is a short convolution of x, and the phases interleave.
    """
    n, h, w = x.shape[0], x.shape[2], x.shape[3]
    taps = f.shape[0]
    per = -(-taps // up)
    bank = torch.zeros(up, per, dtype=x.dtype, device=x.device)
    for phase in range(up):
        g = f[phase::up]
        bank[phase, per - g.shape[0]:] = g.flip(0) * up   # conv2d correlates: flip for a true convolution
    length = x.shape[axis]
    if axis == 3:
        y = F.conv2d(F.pad(x, [per - 1, per - 1]), bank.reshape(up, 1, 1, per))      # [n, up, h, w + per − 1]
        y = y.permute(0, 2, 3, 1).reshape(n, 1, h, (length + per - 1) * up)
    else:
        y = F.conv2d(F.pad(x, [0, 0, per - 1, per - 1]), bank.reshape(up, 1, per, 1))  # [n, up, h + per − 1, w]
        y = y.permute(0, 2, 1, 3).reshape(n, 1, (length + per - 1) * up, w)
    # y[t] is the full convolution at t; the padded zero-inserted signal convolved with f starts at taps − 1 − pad0
    start = taps - 1 - pad[0]
    out_len = length * up + pad[0] + pad[1] - taps + 1
    cut = [-start, start + out_len - y.shape[axis]]
    return F.pad(y, cut if axis == 3 else [0, 0] + cut)


def _downsample(x: torch.Tensor, f: torch.Tensor, down: int) -> torch.Tensor:
    """Convolve with f (1-D: separably) without padding and keep every `down`-th sample, computing only those."""
    if f.ndim == 2:
        return F.conv2d(x, f.flip([0, 1])[None, None], stride=down)
    k = f.flip(0)
    x = F.conv2d(x, k.reshape(1, 1, 1, -1), stride=(1, down))
    return F.conv2d(x, k.reshape(1, 1, -1, 1), stride=(down, 1))


def _filtered_lrelu_planes(x: torch.Tensor, fu, fd, up: int, down: int, padding, gain: float, slope: float,
                           clamp: float | None) -> torch.Tensor:
    """The filtered leaky ReLU of single-channel planes [M, 1, H, W] (bias already added), in float32."""
    px0, px1, py0, py1 = padding
    if fu is None:  # identity filter: only zero insertion and padding
        fu = torch.ones(1, dtype=x.dtype, device=x.device)
    if fu.ndim == 1:
        x = _upsample_axis(x, fu, up, (px0, px1), 3)
        x = _upsample_axis(x, fu, up, (py0, py1), 2)
    else:  # a 2-D up filter: zero-insert, pad, one convolution
        z = x.new_zeros([x.shape[0], 1, x.shape[2] * up, x.shape[3] * up])
        z[:, :, ::up, ::up] = x
        z = F.pad(z, [px0, px1, py0, py1])
        x = F.conv2d(z, (fu * up * up).flip([0, 1])[None, None])
    x = F.leaky_relu_(x, slope) if slope != 1 else x
    if gain != 1:
        x = x.mul_(gain)
    if clamp is not None:
        x = x.clamp_(-clamp, clamp)
    if fd is None:
        return x[:, :, ::down, ::down] if down > 1 else x
    return _downsample(x, fd, down)


def filtered_lrelu(x: torch.Tensor, fu: torch.Tensor | None, fd: torch.Tensor | None, b: torch.Tensor, up: int,
                   down: int, padding, gain: float, slope: float, clamp: float | None) -> torch.Tensor:
    """Bias, upsample by `up` with fu (padding x0, x1, y0, y1), leaky ReLU · gain clamped to ±clamp, downsample by
    `down` with fd. Computed in float32 a few channels at a time; returns x's dtype."""
    n, c, h, w = x.shape
    dtype = x.dtype
    planes = (x.float() + b.float().reshape(1, -1, 1, 1)).reshape(n * c, 1, h, w)
    fu = fu.float() if fu is not None else None
    fd = fd.float() if fd is not None else None
    tmp = (h * up + padding[2] + padding[3]) * (w * up + padding[0] + padding[1])
    step = max(1, CHUNK_VALUES // max(tmp, 1))
    outs = [_filtered_lrelu_planes(planes[i:i + step], fu, fd, up, down, padding, gain, slope, clamp)
            for i in range(0, n * c, step)]
    y = torch.cat(outs) if len(outs) > 1 else outs[0]
    return y.reshape(n, c, y.shape[2], y.shape[3]).to(dtype)


# ---- modulated convolution ---------------------------------------------------------------------------------------
def modulated_conv2d(x: torch.Tensor, weight: torch.Tensor, styles: torch.Tensor, demodulate: bool,
                     padding: int, input_gain: torch.Tensor | None = None, fused: bool | None = None) -> torch.Tensor:
    """Convolution with weights scaled per sample by `styles` (and by `input_gain`), demodulated to unit variance.

    Before demodulating, the weight (per output map) and the styles are normalised to unit RMS: demodulation
    cancels their scale, and doing so keeps fp16 in range. Fused: per-sample weights in one grouped convolution
    (fp16 on CUDA); otherwise the styles scale the activations and the demodulation the outputs (one convolution
    shared by the batch).
    """
    n = x.shape[0]
    out_ch, in_ch, k, _ = weight.shape
    if demodulate:
        weight = weight * weight.square().mean([1, 2, 3], keepdim=True).rsqrt()
        styles = styles * styles.square().mean().rsqrt()
    dcoefs = None
    if demodulate:  # Σ_i,k (s_i w_oik)² per sample and output map
        dcoefs = ((styles.square() @ weight.square().sum([2, 3]).t()) + 1e-8).rsqrt()  # [N, O]
    scale = styles if input_gain is None else styles * input_gain
    fused = x.dtype == torch.float16 if fused is None else fused
    if fused:
        wm = weight[None] * scale.reshape(n, 1, in_ch, 1, 1)
        if dcoefs is not None:
            wm = wm * dcoefs.reshape(n, out_ch, 1, 1, 1)
        y = F.conv2d(x.reshape(1, n * in_ch, *x.shape[2:]), wm.reshape(n * out_ch, in_ch, k, k).to(x.dtype),
                     padding=padding, groups=n)
        return y.reshape(n, out_ch, *y.shape[2:])
    y = F.conv2d(x * scale.to(x.dtype).reshape(n, in_ch, 1, 1), weight.to(x.dtype), padding=padding)
    return y * dcoefs.to(x.dtype).reshape(n, out_ch, 1, 1) if dcoefs is not None else y


class FullyConnectedLayer(nn.Module):
    """Dense layer with equalised learning rate and a learning-rate multiplier (weights scaled at run time)."""

    def __init__(self, in_features: int, out_features: int, lrelu: bool = False, lr_mul: float = 1.0,
                 weight_init: float = 1.0, bias_init=0.0) -> None:
        super().__init__()
        self.lrelu = lrelu
        self.weight = nn.Parameter(torch.randn([out_features, in_features]) * (weight_init / lr_mul))
        bias = torch.as_tensor(np.broadcast_to(np.asarray(bias_init, dtype=np.float32), [out_features]).copy())
        self.bias = nn.Parameter(bias / lr_mul)
        self.weight_gain = lr_mul / math.sqrt(in_features)
        self.bias_gain = lr_mul

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight.to(x.dtype) * self.weight_gain
        b = self.bias.to(x.dtype) * self.bias_gain
        x = torch.addmm(b.unsqueeze(0), x, w.t())
        return F.leaky_relu(x, 0.2) * math.sqrt(2) if self.lrelu else x

    def effective_weight(self) -> torch.Tensor:
        """The weight as it acts on the input (gain applied): [out, in]."""
        return self.weight * self.weight_gain
