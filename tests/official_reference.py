"""An independent numpy (no torch) evaluation of the official StyleGAN v1 networks' formulas.

Written from reading NVlabs/stylegan's training/networks_stylegan.py (G_mapping, G_synthesis,
G_style truncation, D_basic), in TensorFlow layouts and conventions, directly on the variables
of a pickle: dense [in, out], conv [kh, kw, in, out] as cross-correlation with SAME padding,
the fused up-conv as TensorFlow's conv2d_transpose (stride 2, SAME) of the summed 4×4 kernel,
and the fused down-conv as a stride-2 conv of the averaged 4×4 kernel. float64 throughout, so
the comparison measures our float32 implementation's error alone.
"""
from __future__ import annotations

import numpy as np

SQRT2 = np.sqrt(2.0)


def lrelu(x):
    return np.maximum(x, 0.2 * x)


def dense(x, w, gain, lrmul=1.0):
    """x [N, in] · w [in, out] with the equalised-lr runtime coefficient he_std·lrmul."""
    return x @ (w * (gain / np.sqrt(w.shape[0]) * lrmul))


def conv(x, w, gain):
    """SAME cross-correlation: x [N, C, H, W], w [k, k, C, O]."""
    k, (h, wd) = w.shape[0], x.shape[2:]
    w = w * (gain / np.sqrt(np.prod(w.shape[:-1])))
    xp = np.pad(x, ((0, 0), (0, 0), (k // 2, k // 2), (k // 2, k // 2)))
    return sum(np.einsum("nchw,co->nohw", xp[:, :, i:i + h, j:j + wd], w[i, j]) for i in range(k) for j in range(k))


def upscale(x):
    return x.repeat(2, axis=2).repeat(2, axis=3)


def _shift_sum(w):
    """Pad a [3, 3, …] kernel by one and add its four one-pixel shifts → [4, 4, …]."""
    w = np.pad(w, ((1, 1), (1, 1), (0, 0), (0, 0)))
    return w[1:, 1:] + w[:-1, 1:] + w[1:, :-1] + w[:-1, :-1]


def fused_upconv(x, w, gain):
    """conv2d_transpose(x, shift_sum(w with in/out swapped), stride 2, SAME): out[2i + a − 1] += x[i]·k[a]."""
    w = w * (gain / np.sqrt(np.prod(w.shape[:-1])))
    k = _shift_sum(w.transpose(0, 1, 3, 2))  # [4, 4, out, in]
    n, _, h, wd = x.shape
    out = np.zeros((n, k.shape[2], 2 * h + 2, 2 * wd + 2))
    for a in range(4):
        for b in range(4):
            out[:, :, a:a + 2 * h:2, b:b + 2 * wd:2] += np.einsum("nchw,oc->nohw", x, k[a, b])
    return out[:, :, 1:2 * h + 1, 1:2 * wd + 1]


def fused_downconv(x, w, gain):
    """conv2d(x, shift_sum(w) / 4, stride 2, SAME) → half resolution."""
    w = w * (gain / np.sqrt(np.prod(w.shape[:-1])))
    k = _shift_sum(w) * 0.25
    h, wd = x.shape[2] // 2, x.shape[3] // 2
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    return sum(np.einsum("nchw,co->nohw", xp[:, :, a:a + 2 * h:2, b:b + 2 * wd:2], k[a, b])
               for a in range(4) for b in range(4))


def blur(x):
    f = np.outer([1, 2, 1], [1, 2, 1]) / 16.0
    h, wd = x.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    return sum(f[i, j] * xp[:, :, i:i + h, j:j + wd] for i in range(3) for j in range(3))


def instance_norm(x):
    x = x - x.mean(axis=(2, 3), keepdims=True)
    return x / np.sqrt((x ** 2).mean(axis=(2, 3), keepdims=True) + 1e-8)


def mapping(v: dict, z, layers: int, lrmul: float = 0.01):
    """G_mapping: pixel norm, then Dense0…: dense·he·lrmul + bias·lrmul, leaky ReLU → w [N, w_dim]."""
    x = z / np.sqrt((z ** 2).mean(axis=1, keepdims=True) + 1e-8)
    for i in range(layers):
        x = lrelu(dense(x, v[f"G_mapping/Dense{i}/weight"], SQRT2, lrmul) + v[f"G_mapping/Dense{i}/bias"] * lrmul)
    return x


def truncate(v: dict, ws, psi: float, cutoff: int):
    """G_style's truncation: layers < cutoff lerp from dlatent_avg by psi."""
    coefs = np.where(np.arange(ws.shape[1])[None, :, None] < cutoff, psi, 1.0)
    avg = v["dlatent_avg"]
    return avg + (ws - avg) * coefs


def _epilogue(v: dict, scope: str, x, w, noise):
    if noise is not None:
        x = x + noise * v[f"{scope}/Noise/weight"].reshape(1, -1, 1, 1)
    x = instance_norm(lrelu(x + v[f"{scope}/bias"].reshape(1, -1, 1, 1)))
    style = dense(w, v[f"{scope}/StyleMod/weight"], 1.0) + v[f"{scope}/StyleMod/bias"]
    style = style.reshape(len(w), 2, -1, 1, 1)
    return x * (style[:, 0] + 1) + style[:, 1]


def synthesis(v: dict, ws, resolution: int, fused: str | bool = "auto", out_res: int | None = None,
              noise: str = "const"):
    """G_synthesis on ws [N, num_layers, w_dim] with the stored noise inputs ('const') or none ('zero').

    `out_res` < resolution gives that level's ToRGB output (the official linear structure at an integer lod).
    """
    log2, p = int(np.log2(resolution)), "G_synthesis"
    out_log2 = int(np.log2(out_res or resolution))
    nz = (lambda i: v[f"{p}/noise{i}"]) if noise == "const" else (lambda i: None)
    x = np.repeat(v[f"{p}/4x4/Const/const"], len(ws), axis=0)
    x = _epilogue(v, f"{p}/4x4/Const", x, ws[:, 0], nz(0))
    x = _epilogue(v, f"{p}/4x4/Conv", conv(x, v[f"{p}/4x4/Conv/weight"], SQRT2), ws[:, 1], nz(1))
    for res in range(3, out_log2 + 1):
        s = f"{p}/{2 ** res}x{2 ** res}"
        wt = v[f"{s}/Conv0_up/weight"]
        is_fused = (2 ** res >= 128) if fused == "auto" else bool(fused)
        x = fused_upconv(x, wt, SQRT2) if is_fused else conv(upscale(x), wt, SQRT2)
        x = _epilogue(v, f"{s}/Conv0_up", blur(x), ws[:, 2 * res - 4], nz(2 * res - 4))
        x = _epilogue(v, f"{s}/Conv1", conv(x, v[f"{s}/Conv1/weight"], SQRT2), ws[:, 2 * res - 3], nz(2 * res - 3))
    lod = log2 - out_log2
    rgb = conv(x, v[f"{p}/ToRGB_lod{lod}/weight"], 1.0)
    return rgb + v[f"{p}/ToRGB_lod{lod}/bias"].reshape(1, -1, 1, 1)


def G_style(v: dict, kw: dict, z, psi: float = 1.0, cutoff: int = 8, noise: str = "const"):
    """Gs.run(z, None, truncation_psi=psi, truncation_cutoff=cutoff, randomize_noise=False)."""
    num_layers = 2 * int(np.log2(kw["resolution"])) - 2
    w = mapping(v, z.astype(np.float64), kw["mapping_layers"], kw.get("mapping_lrmul", 0.01))
    ws = np.repeat(w[:, None], num_layers, axis=1)
    if psi != 1:
        ws = truncate(v, ws, psi, cutoff)
    return synthesis(v, ws, kw["resolution"], kw.get("fused_scale", "auto"), noise=noise)


def minibatch_stddev(x, group: int = 4):
    g = min(group, len(x))
    n, c, h, w = x.shape
    y = x.reshape(g, -1, 1, c, h, w)
    y = np.sqrt(((y - y.mean(axis=0, keepdims=True)) ** 2).mean(axis=0) + 1e-8)  # [M, 1, c, H, W]
    y = y.mean(axis=(2, 3, 4), keepdims=True).mean(axis=2)                    # [M, 1, 1, 1]
    return np.concatenate([x, np.tile(y, (g, 1, h, w))], axis=1)


def D_basic(v: dict, kw: dict, img):
    """D_basic at lod 0 (its fixed structure): FromRGB, blocks down to 4², mbstd, conv, dense, dense."""
    log2 = int(np.log2(kw["resolution"]))
    x = lrelu(conv(img, v["FromRGB_lod0/weight"], SQRT2) + v["FromRGB_lod0/bias"].reshape(1, -1, 1, 1))
    for res in range(log2, 2, -1):
        s = f"{2 ** res}x{2 ** res}"
        x = lrelu(conv(x, v[f"{s}/Conv0/weight"], SQRT2) + v[f"{s}/Conv0/bias"].reshape(1, -1, 1, 1))
        x, wt = blur(x), v[f"{s}/Conv1_down/weight"]
        if 2 ** res >= 128:
            x = fused_downconv(x, wt, SQRT2)
        else:
            y = conv(x, wt, SQRT2)
            x = (y[:, :, 0::2, 0::2] + y[:, :, 1::2, 0::2] + y[:, :, 0::2, 1::2] + y[:, :, 1::2, 1::2]) / 4
        x = lrelu(x + v[f"{s}/Conv1_down/bias"].reshape(1, -1, 1, 1))
    x = minibatch_stddev(x, kw.get("mbstd_group_size", 4))
    x = lrelu(conv(x, v["4x4/Conv/weight"], SQRT2) + v["4x4/Conv/bias"].reshape(1, -1, 1, 1))
    x = lrelu(dense(x.reshape(len(x), -1), v["4x4/Dense0/weight"], SQRT2) + v["4x4/Dense0/bias"])
    return dense(x, v["4x4/Dense1/weight"], 1.0) + v["4x4/Dense1/bias"]
