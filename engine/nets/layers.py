"""Building blocks of StyleGAN v1 with equalised learning rate (torch only)."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .weightcache import frozen

SQRT2 = math.sqrt(2.0)


class EqualLinear(nn.Module):
    """Dense layer with equalised learning rate: weights scaled by He std at run time."""

    def __init__(self, in_dim: int, out_dim: int, gain: float = SQRT2, lr_mul: float = 1.0,
                 bias_init: float = 0.0) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_dim, in_dim) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_dim,), float(bias_init) / lr_mul))
        self.w_scale = gain / math.sqrt(in_dim) * lr_mul
        self.lr_mul = lr_mul

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = frozen(self, "w", lambda: self.weight * self.w_scale)
        return F.linear(x, w, self.bias * self.lr_mul)


class EqualConv(nn.Module):
    """Square convolution with equalised learning rate (no bias; callers add it where the paper does)."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, gain: float = SQRT2) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_ch, in_ch, kernel, kernel))
        self.w_scale = gain / math.sqrt(in_ch * kernel * kernel)
        self.pad = kernel // 2

    def scaled_weight(self) -> torch.Tensor:
        """Weight times its He constant."""
        return frozen(self, "w", lambda: self.weight * self.w_scale)

    def forward(self, x: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        return F.conv2d(x, self.scaled_weight(), bias, padding=self.pad)


def upconv_weight(w: torch.Tensor) -> torch.Tensor:
    """3×3 conv weight → 4×4 transposed-conv weight equal to nearest-upsample×2 then conv."""
    # Each output phase of (upsample, conv3x3) sees a 2×2 window of the input whose taps are
    # sums of the 3×3 taps; a stride-2 transposed conv with this 4×4 kernel computes all four.
    w = F.pad(w, (1, 1, 1, 1))
    w = w[:, :, 1:, 1:] + w[:, :, :-1, 1:] + w[:, :, 1:, :-1] + w[:, :, :-1, :-1]  # [O, I, 4, 4]
    # conv_transpose2d is the adjoint of correlation: taps run backwards, weights are [I, O, kh, kw].
    return w.flip((2, 3)).transpose(0, 1)


# Rows: the 3×3 taps each output phase of (nearest ×2, conv 3×3) applies to its 2-pixel input window;
# phase 0 (even outputs) sees inputs (i−1, i), phase 1 (odd outputs) sees (i, i+1).
_PHASE_TAPS = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]], [[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]])
PHASE_MIN_RES = 128  # input side from which rendering uses the phase form (bench: up-conv per shape)


def upconv_phase_weight(w: torch.Tensor) -> torch.Tensor:
    """3×3 conv weight [O, I, 3, 3] → [4·O, I, 2, 2]: one 2×2 kernel per output phase (channel o·4 + 2a + b)."""
    taps = _PHASE_TAPS.to(w)
    out = torch.einsum("aus,bvt,oist->oabiuv", taps, taps, w)
    return out.reshape(w.shape[0] * 4, w.shape[1], 2, 2).contiguous()


def upconv_phases(x: torch.Tensor, w4: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """Nearest ×2 then 3×3 conv as one 2×2 conv giving the four output phases, interleaved.

    Same multiply-adds as the transposed conv, but on oneDNN's forward-conv kernels, which are up to
    2× faster on large maps at batch 1 (bench/RESULTS.md).
    """
    n, _, h, w = x.shape
    y = F.conv2d(x, w4, None if bias is None else bias.repeat_interleave(4), padding=1)
    # Phase (a, b) of output pixel (2i + a, 2j + b) sits at y[..., a + i, b + j].
    y = y.view(n, -1, 2, 2, h + 1, w + 1)
    out = x.new_empty(n, y.shape[1], h, 2, w, 2)
    for a in (0, 1):
        for b in (0, 1):
            out[:, :, :, a, :, b] = y[:, :, a, b, a:a + h, b:b + w]
    return out.view(n, -1, 2 * h, 2 * w)


def downconv_weight(w: torch.Tensor) -> torch.Tensor:
    """3×3 conv weight → 4×4 stride-2 conv weight equal to conv then 2×2 average pooling."""
    w = F.pad(w, (1, 1, 1, 1))
    return (w[:, :, 1:, 1:] + w[:, :, :-1, 1:] + w[:, :, 1:, :-1] + w[:, :, :-1, :-1]) * 0.25


class UpConv(EqualConv):
    """Nearest ×2 upsampling followed by a 3×3 conv, computed as one transposed conv."""

    def forward(self, x: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        if x.shape[-1] >= PHASE_MIN_RES and not torch.is_grad_enabled():
            w4 = frozen(self, "phase", lambda: upconv_phase_weight(self.weight * self.w_scale))
            return upconv_phases(x, w4, bias)
        w = frozen(self, "up", lambda: upconv_weight(self.weight * self.w_scale).contiguous())
        return F.conv_transpose2d(x, w, bias, stride=2, padding=1)


class DownConv(EqualConv):
    """A 3×3 conv followed by 2×2 average pooling, computed as one stride-2 conv."""

    def forward(self, x: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        w = frozen(self, "down", lambda: downconv_weight(self.weight * self.w_scale))
        return F.conv2d(x, w, bias, stride=2, padding=1)


class Blur(nn.Module):
    """Normalised [1, 2, 1] ⊗ [1, 2, 1] low-pass filter, depthwise, zero padded."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        k = torch.tensor([1.0, 2.0, 1.0])
        k = torch.outer(k, k)
        k = (k / k.sum()).expand(channels, 1, 3, 3).contiguous()
        self.register_buffer("kernel", k, persistent=False)
        self.channels = channels

    def forward(self, x: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        return F.conv2d(x, self.kernel.to(x.dtype), bias, padding=1, groups=self.channels)


class Epilogue(nn.Module):
    """Noise → bias → leaky ReLU → instance norm → AdaIN style, one synthesis layer's ending.

    The bias is handed to the preceding convolution (addition commutes with the noise), where
    oneDNN adds it for free; `forward` therefore expects x with the bias already added.
    """

    def __init__(self, channels: int, w_dim: int) -> None:
        super().__init__()
        self.noise_strength = nn.Parameter(torch.zeros(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.style = EqualLinear(w_dim, channels * 2, gain=1.0)
        self.channels = channels

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise: torch.Tensor | None) -> torch.Tensor:
        # x [N, C, H, W] (bias added); w [N, w_dim]; noise [N or 1, 1, H, W] or None (no noise)
        if noise is not None:
            x = torch.addcmul(x, noise.to(x.dtype), self.noise_strength.view(1, -1, 1, 1))
        x = F.leaky_relu(x, 0.2)
        # group_norm with one group per channel is instance norm, and far faster than var_mean on CPU.
        x = F.group_norm(x, self.channels, eps=1e-8)
        style = self.style(w).unsqueeze(-1).unsqueeze(-1)  # [N, 2C, 1, 1]
        s, b = style.chunk(2, dim=1)
        return torch.addcmul(b, x, s + 1.0)


class MinibatchStd(nn.Module):
    """Appends the mean standard deviation over minibatch groups as one extra feature map."""

    def __init__(self, group: int) -> None:
        super().__init__()
        self.group = group

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        g = math.gcd(min(self.group, n), n)
        y = x.reshape(g, n // g, c, h, w)
        y = (y - y.mean(dim=0)).square().mean(dim=0)
        y = (y + 1e-8).sqrt().mean(dim=(1, 2, 3))  # [N/g]
        y = y.reshape(-1, 1, 1, 1).repeat(g, 1, h, w)
        return torch.cat([x, y], dim=1)
