"""StyleGAN3's operations in plain PyTorch: the filtered leaky ReLU, its low-pass filters, modulated convolution.

Written from "Alias-Free Generative Adversarial Networks" (Karras et al. 2021): a nonlinearity is applied at a
higher sampling rate between an ideal-as-possible upsampling and downsampling (section 3.2), so it cannot alias.
Here the upsampling never multiplies the inserted zeros (a tiled matrix product along W, a strided transposed
convolution along H), the downsampling never computes the samples it drops (strided convolutions), and all
of it runs over a few channels at a time so the upsampled signal of a whole 1024² layer never exists at once.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

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
    # on the CPU even while a model is built on the meta device (the model file loader's shape check): the filter
    # design needs values
    r = torch.as_tensor(np.hypot(*np.meshgrid(t / fs, t / fs)), dtype=torch.float64, device="cpu")
    # jinc: the 2-D ideal low-pass, J1(2π f_c r) / (π r), whose limit at r = 0 is f_c
    jinc = torch.where(r > 0, torch.special.bessel_j1(2 * math.pi * cutoff * r) / (math.pi * r.clamp_min(1e-30)),
                       torch.full_like(r, cutoff))
    h = jinc.numpy() * np.outer(window, window)
    return torch.as_tensor(h / h.sum(), dtype=torch.float32)


# ---- the filtered leaky ReLU -------------------------------------------------------------------------------------
# Upsampling along W is shift-invariant with period `up`: a tile of outputs is one small matrix times a window of
# the input, the same matrix for every tile, so the whole pass is one matrix product (measured on this CPU: as fast
# as a depthwise convolution or faster). Along H, and for the strided downsampling, torch's depthwise convolutions
# measured 2–10× faster than such products, and those are used.
TILE = 32


def _tile_matrix(f: torch.Tensor, tout: int, up: int, pad0: int) -> tuple[torch.Tensor, int, int]:
    """(A [window, tout], input step per tile, input offset of tile 0) for upsampling along W: output n of
    zero insertion, pad0 zeros, true convolution with f and gain up is Σ_i x[i]·up·f[n + K − 1 − pad0 − up·i]."""
    taps = f.shape[0]
    first = -(pad0 // up)                         # ceil(−pad0 / up): the first input any output of tile 0 meets
    window = (tout - 1 + taps - 1 - pad0) // up - first + 1
    o, r = torch.arange(tout).reshape(1, -1), torch.arange(window).reshape(-1, 1)
    idx = o + taps - 1 - pad0 - up * (r + first)
    valid = (idx >= 0) & (idx < taps)
    a = torch.where(valid, f.double()[idx.clamp(0, taps - 1)] * up, torch.zeros((), dtype=torch.float64))
    return a.float(), tout // up, first


def _upsample_w(x: torch.Tensor, a: torch.Tensor, step: int, first: int, n_out: int) -> torch.Tensor:
    """Apply tile matrix `a` along the last axis of planes [M, H, W]: output tile t is
    aᵀ · x[first + t·step : first + t·step + window]; n_out outputs."""
    window, tout = a.shape
    tiles = -(-n_out // tout)
    need = first + (tiles - 1) * step + window
    x = F.pad(x, [max(-first, 0), max(need - x.shape[-1], 0)])
    x = x.narrow(-1, max(first, 0), (tiles - 1) * step + window)
    # one matrix product over every (plane, row, tile); left batched, torch would run a tiny product per row
    y = x.unfold(-1, window, step).reshape(-1, window) @ a
    return y.reshape(x.shape[0], x.shape[1], tiles * tout)[..., :n_out]


def _upsample_h(x: torch.Tensor, f: torch.Tensor, up: int, pad: tuple[int, int], n_out: int) -> torch.Tensor:
    """The H pass of the upsampling: a strided depthwise transposed convolution (which never multiplies the
    inserted zeros and writes the interleaved output directly), then the padding's shift and crop."""
    m = x.shape[0]
    full = F.conv_transpose2d(x.unsqueeze(0), (f * up).reshape(1, 1, -1, 1).expand(m, 1, -1, 1), stride=(up, 1),
                              groups=m)[0]                            # full convolution, (H − 1)·up + K rows
    start = f.shape[0] - 1 - pad[0]
    return F.pad(full, [0, 0, -start, start + n_out - full.shape[1]])


def _downsample(x: torch.Tensor, fd: torch.Tensor, down: int) -> torch.Tensor:
    """Convolve [M, H, W] with fd (1-D: separably; 2-D, e.g. radial: at once) without padding, computing only every
    `down`-th sample: strided depthwise convolutions."""
    m = x.shape[0]
    k = fd.flip(list(range(fd.ndim)))  # a true convolution: conv2d correlates
    x = x.unsqueeze(0)
    if fd.ndim == 2:
        return F.conv2d(x, k[None, None].expand(m, 1, -1, -1), stride=down, groups=m)[0]
    x = F.conv2d(x, k.reshape(1, 1, 1, -1).expand(m, 1, 1, -1), stride=(1, down), groups=m)
    return F.conv2d(x, k.reshape(1, 1, -1, 1).expand(m, 1, -1, 1), stride=(down, 1), groups=m)[0]


def filtered_lrelu(x: torch.Tensor, fu: torch.Tensor | None, fd: torch.Tensor | None, b: torch.Tensor, up: int,
                   down: int, padding, gain: float, slope: float, clamp: float | None) -> torch.Tensor:
    """Bias, upsample by `up` with fu (padding x0, x1, y0, y1), leaky ReLU · gain clamped to ±clamp, downsample by
    `down` with fd (1-D separable, or 2-D). Computed in float32 a few channels at a time; returns x's dtype."""
    n, c, h, w = x.shape
    dtype = x.dtype
    px0, px1, py0, py1 = padding
    planes = (x.float() + b.float().reshape(1, -1, 1, 1)).reshape(n * c, h, w)
    tmp_h, tmp_w = h * up + py0 + py1, w * up + px0 + px1
    if fu is not None:
        taps = fu.shape[0]
        fu = fu.float()
        ux = _tile_matrix(fu, up * max(1, TILE // up), up, px0)  # whole periods of the upsampler per tile
        tmp_h, tmp_w = tmp_h - taps + 1, tmp_w - taps + 1
    fd = fd.float() if fd is not None else None
    step = max(1, CHUNK_VALUES // (tmp_h * tmp_w))
    result = None
    for i in range(0, n * c, step):
        y = planes[i:i + step]
        if fu is not None:
            y = _upsample_h(_upsample_w(y, *ux, tmp_w), fu, up, (py0, py1), tmp_h)
        else:  # no filter (up = 1): only the padding, negative pads crop
            y = F.pad(y, [px0, px1, py0, py1])
        if y.requires_grad:  # autograd (projection) needs the leaky ReLU's output kept: no in-place ops then
            y = F.leaky_relu(y, slope) if slope != 1 else y
            y = y * gain if gain != 1 else y
            y = y.clamp(-clamp, clamp) if clamp is not None else y
        else:
            y = F.leaky_relu_(y, slope) if slope != 1 else y
            if gain != 1:
                y = y.mul_(gain)
            if clamp is not None:
                y = y.clamp_(-clamp, clamp)
        if fd is None:
            y = y[:, ::down, ::down] if down > 1 else y
        else:
            y = _downsample(y, fd, down)
        if result is None:  # filled chunk by chunk: the whole layer's upsampled signal never exists at once
            result = torch.empty([n * c, *y.shape[1:]], dtype=dtype, device=y.device)
        result[i:i + step] = y
    return result.reshape(n, c, *result.shape[1:])


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


