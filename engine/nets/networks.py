"""StyleGAN v1 mapping, synthesis, generator and discriminator (Karras et al. 2019)."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..contract.modelconfig import ModelConfig
from .layers import SQRT2, Blur, DownConv, EqualConv, EqualLinear, Epilogue, MinibatchStd, UpConv


def pixel_norm(x: torch.Tensor) -> torch.Tensor:
    """x / sqrt(mean(x²) + 1e-8) over the feature axis."""
    return x * torch.rsqrt(x.square().mean(dim=1, keepdim=True) + 1e-8)


class MappingNetwork(nn.Module):
    """f: z → w, a pixel-normalised MLP with lr multiplier 0.01."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        dims = [cfg.z_dim] + [cfg.mapping_fmaps] * (cfg.mapping_layers - 1) + [cfg.w_dim]
        self.fcs = nn.ModuleList(
            EqualLinear(a, b, lr_mul=cfg.mapping_lr_mul) for a, b in zip(dims[:-1], dims[1:]))

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        if c is not None and c.numel():
            raise ValueError("StyleGAN v1 is unconditional: it takes no class labels")
        x = pixel_norm(z)  # [N, z_dim]
        for fc in self.fcs:
            x = F.leaky_relu(fc(x), 0.2)
        return x  # [N, w_dim]


class SynthesisBlock(nn.Module):
    """Two styled layers at one resolution; the 4² block starts from a learned constant."""

    def __init__(self, cfg: ModelConfig, res: int) -> None:
        super().__init__()
        out_ch = cfg.channels(res)
        self.res = res
        if res == 4:
            self.const = nn.Parameter(torch.ones(1, out_ch, 4, 4))
        else:
            self.conv0 = UpConv(cfg.channels(res // 2), out_ch, 3)
            self.blur = Blur(out_ch)
        self.epi0 = Epilogue(out_ch, cfg.w_dim)
        self.conv1 = EqualConv(out_ch, out_ch, 3)
        self.epi1 = Epilogue(out_ch, cfg.w_dim)
        self.to_rgb = EqualConv(out_ch, cfg.img_channels, 1, gain=1.0)
        self.rgb_bias = nn.Parameter(torch.zeros(cfg.img_channels))

    def forward(self, x: torch.Tensor | None, ws: torch.Tensor, noise: tuple, both: bool = False,
                stop: bool = False):
        # ws [N, 2, w_dim] for this block's two layers; noise: two maps or None.
        # both: also return the first layer's output; stop: skip the second layer (its output is None).
        if x is None:
            x = (self.const + self.epi0.bias.view(1, -1, 1, 1)).expand(ws.shape[0], -1, -1, -1)
        else:
            # The bias goes after the blur, where the paper adds it (the zero-padded blur
            # would scale a bias carried inside the convolution at the border pixels).
            x = self.blur(self.conv0(x), self.epi0.bias)
        x = self.epi0(x, ws[:, 0], noise[0])
        out = None if stop else self.epi1(self.conv1(x, self.epi1.bias), ws[:, 1], noise[1])
        return (out, x) if both else out

    def rgb(self, x: torch.Tensor) -> torch.Tensor:
        """This resolution's ToRGB (1×1 conv + bias)."""
        return self.to_rgb(x, self.rgb_bias)


class SynthesisNetwork(nn.Module):
    """g: ws → image, from the 4² constant up to the model resolution."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.blocks = nn.ModuleList(SynthesisBlock(cfg, r) for r in cfg.resolutions)
        # (resolution, fade-in alpha) of a G_ema taken while still growing, like the official `lod`: renders
        # show it as training sees it, upsampled; None once fully grown (and for every loaded final model).
        self.grown: tuple[int, float] | None = None
        for i in range(cfg.num_ws):  # stored "const" noise, one single-channel map per layer
            r = cfg.layer_resolution(i)
            self.register_buffer(f"noise_const_{i}", torch.randn(1, 1, r, r))

    def stored_noise(self, layer: int) -> torch.Tensor:
        """The stored constant noise map of one layer, [1, 1, H, W]."""
        return getattr(self, f"noise_const_{layer}")

    def feature_layers(self) -> tuple[tuple[str, int, int], ...]:
        """(name, resolution, channels) of every styled layer, in order: '4x4/const', '4x4/conv1', '8x8/conv0', …"""
        out = []
        for block in self.blocks:
            r, c = block.res, self.cfg.channels(block.res)
            out += [(f"{r}x{r}/{'const' if r == 4 else 'conv0'}", r, c), (f"{r}x{r}/conv1", r, c)]
        return tuple(out)

    def forward(self, ws: torch.Tensor, noise: list | None = None, res: int | None = None,
                alpha: float = 1.0, capture: str | None = None):
        """Render ws [N, num_ws, w_dim] at `res` (default: full), fading in with `alpha` (a growing network:
        at most its grown phase, upsampled to `res`).

        capture: a feature layer's name; returns (img, that layer's output [N, C, r, r]) from the same pass.
        """
        names = [name for name, _, _ in self.feature_layers()]
        if capture is not None and capture not in names:
            raise KeyError(f"no feature layer {capture!r}")
        size = res = res or self.cfg.resolution
        if self.grown is not None and res >= self.grown[0]:  # layers above the grown resolution are untrained
            res, alpha = self.grown
        noise = noise if noise is not None else [self.stored_noise(i) for i in range(self.cfg.num_ws)]
        x, prev, act = None, None, None
        for i, block in enumerate(self.blocks):
            if block.res > res:
                break
            prev = x
            x, first = block(x, ws[:, 2 * i:2 * i + 2], noise[2 * i:2 * i + 2], both=True)
            if capture is not None and capture in names[2 * i:2 * i + 2]:
                act = first if capture == names[2 * i] else x
        last = int(math.log2(res)) - 2
        img = self.blocks[last].rgb(x)
        if alpha < 1.0 and last > 0:
            low = F.interpolate(self.blocks[last - 1].rgb(prev), scale_factor=2, mode="nearest")
            img = torch.lerp(low, img, alpha)
        if size > res:  # a growing G_ema shown at the size asked for, as the official code shows a lower lod
            img = F.interpolate(img, scale_factor=size // res, mode="nearest")
        if capture is not None and act is None:  # a layer above the grown resolution: computed, though untrained
            act = self.features(ws, noise, capture)
        return img if capture is None else (img, act)  # img [N, C, size, size]

    def features(self, ws: torch.Tensor, noise: list | None, name: str) -> torch.Tensor:
        """One feature layer's output [N, C, r, r], stopping the pass there (nothing above it runs)."""
        names = [n for n, _, _ in self.feature_layers()]
        if name not in names:
            raise KeyError(f"no feature layer {name!r}")
        noise = noise if noise is not None else [self.stored_noise(i) for i in range(self.cfg.num_ws)]
        x, k = None, names.index(name)
        for i, block in enumerate(self.blocks[:k // 2 + 1]):
            x, first = block(x, ws[:, 2 * i:2 * i + 2], noise[2 * i:2 * i + 2], both=True, stop=k == 2 * i)
        return first if k % 2 == 0 else x


class Generator(nn.Module):
    """G = mapping + synthesis, with the running average w_avg used for truncation (a nets.api.GeneratorNet)."""

    arch = "stylegan1"
    c_dim = 0
    has_input_transform = False

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.mapping = MappingNetwork(cfg)
        self.synthesis = SynthesisNetwork(cfg)
        self.register_buffer("w_avg", torch.zeros(cfg.w_dim))

    # Read from cfg on every access, so they always describe the config the generator holds.
    z_dim = property(lambda self: self.cfg.z_dim, doc="Size of z.")
    w_dim = property(lambda self: self.cfg.w_dim, doc="Size of w.")
    img_resolution = property(lambda self: self.cfg.resolution, doc="Output resolution.")
    img_channels = property(lambda self: self.cfg.img_channels, doc="Output channels.")

    @property
    def num_ws(self) -> int:
        """Number of per-layer ws the synthesis network takes."""
        return self.cfg.num_ws

    @property
    def ws_resolutions(self) -> tuple[int, ...]:
        """The resolution each ws feeds: two layers per resolution from 4² up."""
        return tuple(self.cfg.layer_resolution(i) for i in range(self.cfg.num_ws))

    @property
    def ws_labels(self) -> tuple[str, ...]:
        """Short UI labels of the ws, e.g. "8²"."""
        return tuple(f"{r}²" for r in self.ws_resolutions)

    @property
    def noise_resolutions(self) -> tuple[int, ...]:
        """One noise input per synthesis layer, at its resolution."""
        return self.ws_resolutions

    @property
    def output_resolutions(self) -> tuple[int, ...]:
        """Every resolution has a ToRGB, so synthesis may stop at any of them."""
        return self.cfg.resolutions

    def stored_noise(self, i: int) -> torch.Tensor:
        """Noise input i's stored map, [1, 1, H, W]."""
        return self.synthesis.stored_noise(i)

    @property
    def grown(self) -> tuple[int, float] | None:
        """(resolution, fade-in alpha) of a G_ema taken while growing, which renders show; None: fully grown."""
        return self.synthesis.grown

    @grown.setter
    def grown(self, phase) -> None:
        if phase is not None:
            res, alpha = int(phase[0]), float(phase[1])
            if res not in self.cfg.resolutions or not 0.0 <= alpha <= 1.0:
                raise ValueError(f"{list(phase)} is not a growing phase of a {self.cfg.resolution}² model")
            phase = None if (res, alpha) == (self.cfg.resolution, 1.0) else (res, alpha)
        self.synthesis.grown = phase

    def set_input_transform(self, tx: float, ty: float, angle_deg: float) -> None:
        """StyleGAN v1 starts from a learned constant: there is no input to move."""
        raise TypeError("StyleGAN v1 has no input transform (has_input_transform is False)")

    def param_resolution(self, name: str) -> int | None:
        """The synthesis resolution a state_dict entry belongs to; None for mapping and w_avg."""
        parts = name.split(".")
        if parts[0] != "synthesis":
            return None
        if parts[1] == "blocks":
            return self.cfg.resolutions[int(parts[2])]
        if parts[1].startswith("noise_const_"):  # one stored noise map per synthesis layer
            return self.cfg.layer_resolution(int(parts[1].removeprefix("noise_const_")))
        raise KeyError(f"{name} is not a parameter of this generator")

    def style_weights(self, i: int) -> torch.Tensor:
        """Layer i's AdaIN affine as it acts on w (scales then biases): [2·C, w_dim]."""
        epi = getattr(self.synthesis.blocks[i // 2], "epi0" if i % 2 == 0 else "epi1")
        return epi.style.weight * epi.style.w_scale

    def image_macs(self, res: int | None = None) -> float:
        """Multiply-accumulates of one synthesis pass up to `res` (see ModelConfig.image_macs)."""
        return self.cfg.image_macs(res)
    def feature_layers(self) -> tuple[tuple[str, int, int], ...]:
        """(name, resolution, channels) of the synthesis layers one may look inside (see synthesis(capture=…))."""
        return self.synthesis.feature_layers()

    def update_w_avg(self, w: torch.Tensor) -> None:
        """w_avg ← lerp(batch mean of w, w_avg, β) as in the official trainer."""
        with torch.no_grad():
            self.w_avg.copy_(torch.lerp(w.detach().float().mean(dim=0), self.w_avg, self.cfg.w_avg_beta))

    def forward(self, z: torch.Tensor, psi: float = 1.0, cutoff: int | None = None, **kw) -> torch.Tensor:
        w = self.mapping(z)
        ws = w.unsqueeze(1).repeat(1, self.num_ws, 1)  # [N, num_ws, w_dim]
        if psi != 1.0:
            cut = self.num_ws if cutoff is None else cutoff
            ws[:, :cut] = torch.lerp(self.w_avg.to(ws.dtype), ws[:, :cut], psi)
        return self.synthesis(ws, **kw)


class DiscriminatorBlock(nn.Module):
    """conv 3×3 → blur → conv 3×3 with 2× downsampling, at one resolution."""

    def __init__(self, cfg: ModelConfig, res: int) -> None:
        super().__init__()
        stage = int(math.log2(res))
        self.res = res
        in_ch, out_ch = cfg.nf(stage - 1), cfg.nf(stage - 2)
        self.from_rgb = EqualConv(cfg.img_channels, in_ch, 1)
        self.rgb_bias = nn.Parameter(torch.zeros(in_ch))
        self.conv0 = EqualConv(in_ch, in_ch, 3)
        self.bias0 = nn.Parameter(torch.zeros(in_ch))
        self.blur = Blur(in_ch)
        self.conv1 = DownConv(in_ch, out_ch, 3)
        self.bias1 = nn.Parameter(torch.zeros(out_ch))

    def rgb(self, img: torch.Tensor) -> torch.Tensor:
        """FromRGB: 1×1 conv, bias, leaky ReLU."""
        return F.leaky_relu(self.from_rgb(img, self.rgb_bias), 0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.leaky_relu(self.conv0(x, self.bias0), 0.2)
        return F.leaky_relu(self.conv1(self.blur(x), self.bias1), 0.2)


class Discriminator(nn.Module):
    """D: FromRGB, blocks down to 4², minibatch stddev, conv, dense, dense → one score."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.blocks = nn.ModuleDict({str(r): DiscriminatorBlock(cfg, r) for r in cfg.resolutions[1:]})
        ch = cfg.nf(1)
        self.from_rgb4 = EqualConv(cfg.img_channels, ch, 1)
        self.rgb_bias4 = nn.Parameter(torch.zeros(ch))
        self.mbstd = MinibatchStd(cfg.mbstd_group)
        self.conv = EqualConv(ch + 1, ch, 3)
        self.conv_bias = nn.Parameter(torch.zeros(ch))
        self.fc = EqualLinear(ch * 16, cfg.nf(0))
        self.out = EqualLinear(cfg.nf(0), 1, gain=1.0)

    def _from_rgb(self, img: torch.Tensor, res: int) -> torch.Tensor:
        if res == 4:
            return F.leaky_relu(self.from_rgb4(img, self.rgb_bias4), 0.2)
        return self.blocks[str(res)].rgb(img)

    def forward(self, img: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
        """Score images [N, C, R, R] at their own resolution R, fading in the top block with `alpha`."""
        res = img.shape[-1]
        x = self._from_rgb(img, res)
        while res > 4:
            x = self.blocks[str(res)](x)
            res //= 2
            if alpha < 1.0 and res == img.shape[-1] // 2:
                low = self._from_rgb(F.avg_pool2d(img, 2), res)
                x = torch.lerp(low, x, alpha)
        x = self.mbstd(x)
        x = F.leaky_relu(self.conv(x, self.conv_bias), 0.2)
        x = F.leaky_relu(self.fc(x.flatten(1)), 0.2)
        return self.out(x).squeeze(1)  # [N]
