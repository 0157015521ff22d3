"""StyleGAN2's operations in plain PyTorch: FIR resampling, bias + activation, modulated convolution, layers.

Parameter and buffer names follow NVIDIA's state_dict keys (weight, bias, resample_filter, ...) so an imported
snapshot loads 1:1; the code is ours, written from the StyleGAN2 paper (Karras et al. 2020) and its formulas.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

# Activation: (function, the gain that keeps unit variance).
ACTIVATIONS = {"linear": (lambda x: x, 1.0), "lrelu": (lambda x: F.leaky_relu(x, 0.2), math.sqrt(2.0))}


def normalize_2nd_moment(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """x / sqrt(mean(x²) + eps) over the feature axis (the mapping network's input normalisation)."""
    return x * (x.square().mean(dim=1, keepdim=True) + eps).rsqrt()


def fir_filter(taps) -> torch.Tensor:
    """The resampling low-pass filter, normalised to unit DC gain: the outer product of `taps` with itself,
    kept 1-D for 8 taps or more (as NVIDIA stores it, so the buffer shapes agree)."""
    f = torch.as_tensor(list(taps), dtype=torch.float32)
    if f.numel() < 8:
        f = torch.outer(f, f)
    return f / f.sum()


def bias_act(x: torch.Tensor, b: torch.Tensor | None, act: str = "linear", gain: float | None = None,
            clamp: float | None = None) -> torch.Tensor:
    """act(x + b) · gain, clamped to ±clamp; `gain` None means the activation's own gain.

    Without autograd, x (always a fresh result of its caller) is updated in place: at 1024² each copy of an
    activation is 128 MB, and four chained copies were most of a render's peak memory."""
    fn, default_gain = ACTIVATIONS[act]
    gain = default_gain if gain is None else gain
    if torch.is_grad_enabled() and (x.requires_grad or (b is not None and b.requires_grad)):
        if b is not None:
            x = x + b.to(x.dtype).reshape([1, -1] + [1] * (x.ndim - 2))
        x = fn(x)
        x = x * gain if gain != 1 else x
        return x.clamp(-clamp, clamp) if clamp is not None else x
    if b is not None:
        x.add_(b.to(x.dtype).reshape([1, -1] + [1] * (x.ndim - 2)))
    if act == "lrelu":
        F.leaky_relu_(x, 0.2)
    if gain != 1:
        x.mul_(gain)
    return x.clamp_(-clamp, clamp) if clamp is not None else x


def upfirdn2d(x: torch.Tensor, f: torch.Tensor, up: int = 1, down: int = 1, pad=(0, 0, 0, 0),
              gain: float = 1.0) -> torch.Tensor:
    """Upsample by zero insertion, pad (negative crops: x0, x1, y0, y1), convolve with FIR `f`, keep every
    `down`-th pixel. `gain` scales the filter's total response (up² keeps a signal's level when upsampling)."""
    k = (f * gain ** (f.ndim / 2)).to(x.dtype)
    x0, x1, y0, y1 = pad
    if up > 1:
        # Zero insertion + FIR in one polyphase step: a strided transposed convolution with the filter (which
        # never multiplies the inserted zeros: 4× fewer operations, and no zero-stuffed copy). It yields the full
        # convolution; shift the requested padding by what that already holds.
        tx, ty = k.shape[-1], k.shape[0] if k.ndim == 2 else k.shape[-1]
        x = _fir_transposed(x, k, up)
        return _pad(x, (x0 - tx + 1, x1 + up - tx, y0 - ty + 1, y1 + up - ty))[:, :, ::down, ::down]
    same = x0 == x1 >= 0 and y0 == y1 >= 0  # symmetric padding: let the convolution pad (one copy less)
    if not same:
        x = _pad(x, pad)
    px, py = (x0, y0) if same else (0, 0)
    c = x.shape[1]
    k = k.flip(list(range(k.ndim)))  # a true convolution: conv2d correlates
    if k.ndim == 2:
        x = F.conv2d(x, k[None, None].expand(c, 1, -1, -1), padding=(py, px), groups=c)
    else:
        x = F.conv2d(x, k[None, None, None, :].expand(c, 1, 1, -1), padding=(0, px), groups=c)
        x = F.conv2d(x, k[None, None, :, None].expand(c, 1, -1, 1), padding=(py, 0), groups=c)
    return x[:, :, ::down, ::down] if down > 1 else x


def _pad(x: torch.Tensor, pad) -> torch.Tensor:
    """Zero-pad (positive) or crop (negative) the last two axes by (x0, x1, y0, y1)."""
    x0, x1, y0, y1 = pad
    if max(pad) > 0:
        x = F.pad(x, [max(x0, 0), max(x1, 0), max(y0, 0), max(y1, 0)])
    return x[:, :, max(-y0, 0):x.shape[2] - max(-y1, 0), max(-x0, 0):x.shape[3] - max(-x1, 0)]


def _fir_transposed(x: torch.Tensor, k: torch.Tensor, up: int) -> torch.Tensor:
    """The full convolution of x, zero-stuffed by `up`, with FIR k (2-D, or 1-D applied on both axes)."""
    n, c, h, w = x.shape
    few = c <= 4  # a colour image: as a batch of one-channel maps (measured 3× faster than grouped)
    if few:
        x, groups = x.reshape(n * c, 1, h, w), 1
    else:
        groups = c
    g = 1 if few else c
    if k.ndim == 2:
        x = F.conv_transpose2d(x, k[None, None].expand(g, 1, -1, -1), stride=up, groups=groups)
    else:
        x = F.conv_transpose2d(x, k[None, None, None, :].expand(g, 1, 1, -1), stride=(1, up), groups=groups)
        x = F.conv_transpose2d(x, k[None, None, :, None].expand(g, 1, -1, 1), stride=(up, 1), groups=groups)
    return x.reshape(n, c, *x.shape[2:]) if few else x


def _taps(f: torch.Tensor) -> int:
    return f.shape[-1]


def upsample2d(x: torch.Tensor, f: torch.Tensor, up: int = 2) -> torch.Tensor:
    """2× upsampling with FIR `f`, output exactly `up` times the input size."""
    t = _taps(f)
    return upfirdn2d(x, f, up=up, pad=((t + up - 1) // 2, (t - up) // 2) * 2, gain=up * up)


def downsample2d(x: torch.Tensor, f: torch.Tensor, down: int = 2) -> torch.Tensor:
    """2× downsampling with FIR `f`, output exactly 1/`down` of the input size."""
    t = _taps(f)
    return upfirdn2d(x, f, down=down, pad=((t - down + 1) // 2, (t - down) // 2) * 2)


def conv_up2(x: torch.Tensor, w: torch.Tensor, f: torch.Tensor, groups: int = 1) -> torch.Tensor:
    """Convolution (not correlation) of the 2× zero-inserted x with w [O, I/g, k, k], then the FIR low-pass:
    one strided transposed convolution plus the filter, output 2× the input size."""
    out_ch, in_per_group, k, _ = w.shape
    # conv_transpose2d takes [I, O/g, k, k]: regroup the per-sample output channels.
    wt = w.reshape(groups, out_ch // groups, in_per_group, k, k).transpose(1, 2)
    wt = wt.reshape(groups * in_per_group, out_ch // groups, k, k)
    x = F.conv_transpose2d(x, wt, stride=2, groups=groups)
    t = _taps(f)
    p0 = k // 2 + (t + 1) // 2 - (k - 1)  # the padding a 'same' conv after an FIR upsample would need,
    p1 = k // 2 + (t - 2) // 2 - (k - 2)  # less what the transposed convolution already grew
    return upfirdn2d(x, f, pad=(p0, p1, p0, p1), gain=4)


def conv_down2(x: torch.Tensor, w: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """FIR low-pass then a stride-2 correlation with w: output 1/2 the input size."""
    k, t = w.shape[-1], _taps(f)
    p0, p1 = k // 2 + (t - 1) // 2, k // 2 + (t - 2) // 2
    return F.conv2d(upfirdn2d(x, f, pad=(p0, p1, p0, p1)), w, stride=2)


def modulated_conv2d(x: torch.Tensor, weight: torch.Tensor, styles: torch.Tensor, noise: torch.Tensor | None = None,
                     up: bool = False, f: torch.Tensor | None = None, demodulate: bool = True,
                     fused: bool | None = None) -> torch.Tensor:
    """The paper's weight modulation: w'_ijk = s_i · w_ijk, demodulated by 1/sqrt(Σ w'² + ε) per output map.

    Fused: one grouped convolution with per-sample weights (cheapest at batch 1). Otherwise the styles scale the
    activations before a shared convolution and the demodulation scales them after (cheaper for a batch)."""
    n = x.shape[0]
    out_ch, in_ch, k, _ = weight.shape
    if x.dtype == torch.float16 and demodulate:  # scale into range first: fp16 overflows on large styles
        weight = weight * (1 / math.sqrt(in_ch * k * k) / weight.norm(float("inf"), dim=[1, 2, 3], keepdim=True))
        styles = styles / styles.norm(float("inf"), dim=1, keepdim=True)
    fused = (n == 1) if fused is None else fused
    wm = dcoefs = None
    if demodulate or fused:
        wm = weight[None] * styles.reshape(n, 1, in_ch, 1, 1)  # [N, O, I, k, k]
    if demodulate:
        dcoefs = (wm.square().sum(dim=[2, 3, 4]) + 1e-8).rsqrt()  # [N, O]
    if fused:
        if demodulate:
            wm = wm * dcoefs.reshape(n, out_ch, 1, 1, 1)
        wm = wm.reshape(n * out_ch, in_ch, k, k).to(x.dtype)
        xg = x.reshape(1, n * in_ch, *x.shape[2:])
        y = conv_up2(xg, wm, f, groups=n) if up else F.conv2d(xg, wm, padding=k // 2, groups=n)
        y = y.reshape(n, out_ch, *y.shape[2:])
    else:
        xs = x * styles.to(x.dtype).reshape(n, in_ch, 1, 1)
        wx = weight.to(x.dtype)
        y = conv_up2(xs, wx, f) if up else F.conv2d(xs, wx, padding=k // 2)
        if demodulate:
            y = y * dcoefs.to(x.dtype).reshape(n, out_ch, 1, 1)
    if noise is not None:
        y = y + noise.to(y.dtype) if torch.is_grad_enabled() else y.add_(noise.to(y.dtype))
    return y


class FullyConnectedLayer(nn.Module):
    """Dense layer with equalised learning rate and a learning-rate multiplier (weights scaled at run time)."""

    def __init__(self, in_features: int, out_features: int, activation: str = "linear", lr_mul: float = 1.0,
                 bias_init=0.0, weight_init: float = 1.0) -> None:
        super().__init__()
        self.activation = activation
        self.weight = nn.Parameter(torch.randn([out_features, in_features]) * (weight_init / lr_mul))
        # bias_init (one value or one per output) is the effective initial bias: stored ÷ lr_mul, as StyleGAN3
        # stores it; StyleGAN2's callers pair lr_mul ≠ 1 only with bias 0, so their layers start the same.
        bias = torch.as_tensor(bias_init, dtype=torch.float32).expand(out_features).clone()
        self.bias = nn.Parameter(bias / lr_mul)
        self.weight_gain = lr_mul / math.sqrt(in_features)
        self.bias_gain = lr_mul

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight.to(x.dtype) * self.weight_gain
        b = self.bias.to(x.dtype) * self.bias_gain
        if self.activation == "linear":
            return torch.addmm(b.unsqueeze(0), x, w.t())
        return bias_act(x.matmul(w.t()), b, self.activation)

    def effective_weight(self) -> torch.Tensor:
        """The weight as it acts on the input (gain applied): [out, in]."""
        return self.weight * self.weight_gain


class Conv2dLayer(nn.Module):
    """Convolution with equalised learning rate, optional FIR 2× up/downsampling, bias, activation, clamp."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, bias: bool = True,
                 activation: str = "linear", up: bool = False, down: bool = False, resample_filter=(1, 3, 3, 1),
                 conv_clamp: float | None = None) -> None:
        super().__init__()
        self.activation, self.up, self.down, self.conv_clamp = activation, up, down, conv_clamp
        self.register_buffer("resample_filter", fir_filter(resample_filter))
        self.weight_gain = 1 / math.sqrt(in_channels * kernel_size ** 2)
        self.weight = nn.Parameter(torch.randn([out_channels, in_channels, kernel_size, kernel_size]))
        self.bias = nn.Parameter(torch.zeros([out_channels])) if bias else None

    def forward(self, x: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
        w = (self.weight * self.weight_gain).to(x.dtype)
        k = w.shape[-1]
        if self.down:
            x = conv_down2(x, w, self.resample_filter)
        elif self.up:  # only 1×1 here (the resnet skip): convolve at low resolution, then upsample
            assert k == 1, "Conv2dLayer upsamples 1×1 convolutions only"
            x = upsample2d(F.conv2d(x, w), self.resample_filter)
        else:
            x = F.conv2d(x, w, padding=k // 2)
        clamp = self.conv_clamp * gain if self.conv_clamp is not None else None
        return bias_act(x, self.bias, self.activation, ACTIVATIONS[self.activation][1] * gain, clamp)


class MinibatchStdLayer(nn.Module):
    """Appends the standard deviation of features over groups of the minibatch as extra feature maps."""

    def __init__(self, group_size: int | None, num_channels: int = 1) -> None:
        super().__init__()
        self.group_size, self.num_channels = group_size, num_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        g = min(self.group_size, n) if self.group_size else n
        if n % g:
            raise ValueError(f"the minibatch ({n}) must be a multiple of the mbstd group size ({g})")
        f = self.num_channels
        y = x.reshape(g, -1, f, c // f, h, w)  # group members are strided through the batch, as in the paper's code
        y = (y - y.mean(dim=0)).square().mean(dim=0)
        y = (y + 1e-8).sqrt().mean(dim=[2, 3, 4])  # [n/g, F]
        y = y.reshape(-1, f, 1, 1).repeat(g, 1, h, w)
        return torch.cat([x, y], dim=1)
