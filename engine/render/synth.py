"""The paper's operations on latents, batched: mapping, truncation, mixing, noise, synthesis to uint8."""
from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ..nets.device import device_of
from ..contract.errors import UserError
from ..nets.api import GeneratorNet
from ..contract.latents import Latent, NoiseSpec, RenderSettings, position_seeds, position_z, seed_to_z

STILL_BATCH = 8  # stills render in padded batches of this size (see render_still)


def check_class(G: GeneratorNet, c: int | None) -> None:
    """Refuse a class this model cannot take, in one line: any class for an unconditional model, none or one
    out of range for a class-conditional one."""
    if G.c_dim == 0 and c is not None:
        raise UserError(f"this model is unconditional: it takes no class (got class {c})")
    if G.c_dim > 0 and c is None:
        raise UserError(f"this model is class-conditional ({G.c_dim} classes): give a class 0-{G.c_dim - 1} "
                        "(--class N on the command line)")
    if c is not None and not 0 <= c < G.c_dim:
        raise UserError(f"class {c} does not exist: this model has classes 0-{G.c_dim - 1}")


def one_hot(G: GeneratorNet, classes: Sequence[int | None]) -> torch.Tensor | None:
    """Classes → the one-hot labels [N, c_dim] the mapping takes (None for an unconditional model)."""
    for c in classes:
        check_class(G, c)
    if G.c_dim == 0:
        return None
    return F.one_hot(torch.tensor(list(classes), dtype=torch.long), G.c_dim).float().to(device_of(G))


def spread_classes(G: GeneratorNet, n: int) -> list[int | None]:
    """Classes for `n` random samples that stand for the whole model (PCA, projection statistics, FID):
    every class in turn on a class-conditional model, none on an unconditional one."""
    return [i % G.c_dim for i in range(n)] if G.c_dim else [None] * n


def map_random(G: GeneratorNet, z: torch.Tensor) -> torch.Tensor:
    """w of random z [N, z_dim] for statistics, classes spread evenly over a class-conditional model's classes."""
    return G.mapping(z, one_hot(G, spread_classes(G, len(z))))


@torch.inference_mode()
def map_z(G: GeneratorNet, z: np.ndarray | torch.Tensor, classes: Sequence[int | None] | None = None) -> torch.Tensor:
    """z [N, z_dim] (with each row's class, if the model takes one) → w [N, w_dim], one row at a time.

    BLAS blocks a matrix product by its row count, so a batched mapping can differ in the last bit
    depending on the batch; mapping rows singly (cheap: a few MMACs) keeps a seed's w exact.
    """
    z = torch.as_tensor(z, dtype=torch.float32, device=device_of(G))
    c = one_hot(G, [None] * len(z) if classes is None else classes)
    if not len(z):
        return G.mapping(z, c)
    return torch.cat([G.mapping(z[i:i + 1], None if c is None else c[i:i + 1]) for i in range(z.shape[0])])


def latents_to_w(G: GeneratorNet, latents: Sequence[Latent]) -> torch.Tensor:
    """Seeds and explicit ws → w [N, w_dim], mapping all seeds in one pass (per-layer ws: see latents_to_ws)."""
    if any(lat.per_layer for lat in latents):
        raise UserError("a per-layer (W+) latent has no single w; only images, mixes and ψ strips take it")
    dev = device_of(G)
    out = torch.empty(len(latents), G.w_dim, device=dev)
    seeded = [i for i, lat in enumerate(latents) if lat.seed is not None]
    if seeded:
        out[seeded] = map_z(G, seed_to_z([latents[i].seed for i in seeded], G.z_dim),
                            [latents[i].c for i in seeded])
    for i, lat in enumerate(latents):
        if lat.w is not None:
            out[i] = torch.as_tensor(np.asarray(lat.w, dtype=np.float32).reshape(-1), device=dev)
        elif lat.pos is not None:
            out[i] = position_w(G, lat.pos, lat.space, lat.c)
    return out


def position_w(G: GeneratorNet, pos: tuple[float, float], space: str, c: int | None = None) -> torch.Tensor:
    """w [w_dim] of a fractional seed (of class `c`): its neighbours' z slerped ('z'), or their w lerped ('w',
    bilinear weights).

    At an integer point both give exactly that seed's w.
    """
    if space == "z":
        return map_z(G, position_z(pos, G.z_dim)[None], [c])[0]
    near = position_seeds(pos)
    ws = map_z(G, seed_to_z([s for s, _, _, _ in near], G.z_dim), [c] * len(near))
    if len(near) == 1:
        return ws[0]
    return sum(float(weight) * ws[k] for k, (_, weight, _, _) in enumerate(near))


def apply_edit(ws: torch.Tensor, edit) -> torch.Tensor:
    """ws [N, num_ws, w_dim] with an Edit's offset added on its layers (a copy; None: ws unchanged)."""
    if edit is None:
        return ws
    out = ws.clone()
    out[:, list(edit.layers)] += torch.tensor(edit.offset, dtype=ws.dtype, device=ws.device)
    return out


def latents_to_ws(G: GeneratorNet, latents: Sequence[Latent]) -> torch.Tensor:
    """Latents → untruncated ws [N, num_ws, w_dim]: a seed's or w's on every layer, per-layer ws (W+) as given."""
    ws = broadcast(latents_to_w(G, [Latent(w=np.asarray(lat.w)[0]) if lat.per_layer else lat for lat in latents]),
                   G.num_ws)
    for i, lat in enumerate(latents):
        if lat.per_layer:
            ws[i] = torch.as_tensor(np.asarray(lat.w, dtype=np.float32), device=ws.device)
    return ws


def latents_ws(G: GeneratorNet, latents: Sequence[Latent], settings: RenderSettings) -> torch.Tensor:
    """Latents → truncated ws [N, num_ws, w_dim], each latent's Edit added after truncation."""
    ws = truncate(latents_to_ws(G, latents), G.w_avg, settings.psi, settings.cutoff)
    for i, lat in enumerate(latents):
        if lat.edit is not None:
            ws[i:i + 1] = apply_edit(ws[i:i + 1], lat.edit)
    return ws


def broadcast(w: torch.Tensor, num_ws: int) -> torch.Tensor:
    """w [N, w_dim] → ws [N, num_ws, w_dim]."""
    return w.unsqueeze(1).repeat(1, num_ws, 1)


def truncate(ws: torch.Tensor, w_avg: torch.Tensor, psi: float, cutoff: int | None = None) -> torch.Tensor:
    """w′ = w_avg + ψ·(w − w_avg) on layers with index < cutoff (None: all layers)."""
    if psi == 1.0:
        return ws
    out = ws.clone()
    cut = ws.shape[1] if cutoff is None else min(cutoff, ws.shape[1])
    out[:, :cut] = torch.lerp(w_avg.to(ws.dtype), ws[:, :cut], psi)
    return out


def mix(ws_row: torch.Tensor, ws_col: torch.Tensor, layers: Sequence[int]) -> torch.Tensor:
    """The row ws with the listed layers taken from the column ws."""
    out = ws_row.clone()
    idx = list(layers)
    if idx:
        out[:, idx] = ws_col[:, idx]
    return out


def noise_maps(G: GeneratorNet, spec: NoiseSpec, batch: int = 1) -> list:
    """One map per noise input as chosen for its resolution (None where noise is off).

    'random' maps come from numpy's RandomState(seed), one draw per resolution for all its inputs, so a
    noise seed means the same pixels on every platform; they are shared by the whole batch so an image
    never depends on its neighbours. `batch` > 1 only matters for per-image draws (see noise_draws).
    """
    dev, res_list = device_of(G), G.noise_resolutions
    out: list = []
    drawn: dict[int, np.ndarray] = {}
    for i, res in enumerate(res_list):
        setting = spec.at(res)
        if setting.mode == "zero" or setting.strength == 0.0:
            out.append(None)
            continue
        if setting.mode == "const":
            m = G.stored_noise(i)
        else:
            if res not in drawn:
                drawn[res] = np.random.RandomState(setting.seed % 2**32).randn(
                    res_list.count(res), 1, 1, res, res).astype(np.float32)
            m = torch.from_numpy(drawn[res][res_list[:i].count(res)]).to(dev)
        out.append(m * setting.strength if setting.strength != 1.0 else m)
    return out


def check_transform(G: GeneratorNet, settings: RenderSettings) -> None:
    """Refuse a translate/rotate for a model whose input cannot move, in one line."""
    if settings.transformed and not G.has_input_transform:
        raise UserError("this model has no input to translate or rotate (only StyleGAN3 models do)")


def prepare(G: GeneratorNet, settings: RenderSettings) -> list:
    """Set G's input transform to the settings' (identity unless asked) and return the noise maps to render with.

    Every render goes through here first: the transform is state on G (NVIDIA's buffer), so a render that does
    not ask for one must put the identity back.
    """
    check_transform(G, settings)
    if G.has_input_transform:
        G.set_input_transform(float(settings.translate[0]), float(settings.translate[1]), float(settings.rotate))
    return noise_maps(G, settings.noise)


@torch.inference_mode()
def synthesize(G: GeneratorNet, ws: torch.Tensor, noise: list) -> torch.Tensor:
    """ws [N, num_ws, w_dim] → images [N, C, H, W] in about [-1, 1]."""
    return G.synthesis(ws, noise=noise)


def to_uint8(img: torch.Tensor) -> np.ndarray:
    """[N, C, H, W] in [-1, 1] → [N, H, W, C] uint8."""
    img = (img.float() * 127.5 + 128).clamp(0, 255).to(torch.uint8)
    return img.permute(0, 2, 3, 1).cpu().numpy()


def styled_ws(G: GeneratorNet, w: torch.Tensor, settings: RenderSettings) -> torch.Tensor:
    """w [N, w_dim] → truncated ws [N, num_ws, w_dim]."""
    return truncate(broadcast(w, G.num_ws), G.w_avg, settings.psi, settings.cutoff)


def resize(img: torch.Tensor, size: int | None) -> torch.Tensor:
    """[N, C, H, W] → [N, C, size, size], antialiased when shrinking (None or same size: unchanged)."""
    if size is None or size == img.shape[-1]:
        return img
    if size < 1 or size > 4096:
        raise UserError(f"output size must be 1 to 4096 pixels, got {size}")
    return F.interpolate(img.float(), size=(size, size), mode="bilinear", antialias=size < img.shape[-1],
                         align_corners=False)


@torch.inference_mode()
def render_ws(G: GeneratorNet, ws: torch.Tensor, settings: RenderSettings, batch: int = 16,
              pad: bool = False, size: int | None = None) -> np.ndarray:
    """ws → uint8 images [N, H, W, C], in chunks of `batch` (ws already truncated).

    pad=True runs every chunk at exactly `batch` rows: oneDNN picks kernels by shape, so the
    same seed then gives the same pixels whatever else shares its batch (used by exports).
    """
    noise = prepare(G, settings)
    chunks = []
    for i in range(0, ws.shape[0], batch):
        part = ws[i:i + batch]
        if pad and len(part) < batch:
            part = torch.cat([part, part[-1:].expand(batch - len(part), -1, -1)])
        chunks.append(to_uint8(resize(synthesize(G, part, noise), size))[:min(batch, ws.shape[0] - i)])
    return np.concatenate(chunks)


def render_still(G: GeneratorNet, ws: torch.Tensor, settings: RenderSettings, size: int | None = None) -> np.ndarray:
    """ws → uint8 images as every still export renders them (window and CLI alike): padded batches of 8."""
    return render_ws(G, ws, settings, STILL_BATCH, pad=True, size=size)


def psi_sweep(ws: torch.Tensor, w_avg: torch.Tensor, psis: Sequence[float], cutoff: int | None = None) -> torch.Tensor:
    """ws [1, num_ws, w_dim] truncated at each ψ of `psis` → [K, num_ws, w_dim]."""
    return torch.cat([truncate(ws, w_avg, float(psi), cutoff) for psi in psis])


@torch.inference_mode()
def render_latents(G: GeneratorNet, latents: Sequence[Latent], settings: RenderSettings,
                   batch: int = 16, pad: bool = False) -> np.ndarray:
    """Latents → uint8 images [N, H, W, C] with truncation, edits and noise applied."""
    return render_ws(G, latents_ws(G, latents, settings), settings, batch, pad)


@torch.inference_mode()
def noise_batch(G: GeneratorNet, ws: torch.Tensor, settings: RenderSettings, n: int, gen: torch.Generator) -> np.ndarray:
    """ws [1, num_ws, w_dim] under `n` fresh noise draws from `gen` → float64 images [n, H, W, C] in [-1, 1].

    Resolutions set to 'zero' (or strength 0) stay off; the others draw at their strength.
    """
    prepare(G, settings)  # the input transform; noise is drawn fresh below
    noise = []
    for res in G.noise_resolutions:
        s = settings.noise.at(res)
        on = s.mode != "zero" and s.strength != 0.0
        noise.append(torch.randn(n, 1, res, res, generator=gen).to(ws.device) * s.strength if on else None)
    return synthesize(G, ws.expand(n, -1, -1), noise).float().permute(0, 2, 3, 1).cpu().numpy().astype(np.float64)


def variation_units(G: GeneratorNet, ws: torch.Tensor, settings: RenderSettings, draws: int, seed: int = 0,
                    batch: int = 16) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """The variation map: (draws so far, this batch's images, per-pixel std so far) after each batch of noise draws.

    ws [1, num_ws, w_dim] (truncated, perhaps mixed) under `draws` fresh noise realisations from a
    torch.Generator seeded with `seed`, `batch` at a time; images are float64 [n, H, W, C] in [-1, 1], the
    std map [H, W] float32 is the mean over colour. The moments are merged batch by batch (Chan et al.),
    so memory stays at one batch however many draws are asked for.
    """
    if not G.noise_resolutions:
        raise UserError("this model has no noise inputs (StyleGAN3 has none; a StyleGAN2 may be trained "
                        "without): there is no noise variation to show")
    if draws < 2 or draws > 1024:
        raise UserError(f"noise draws must be 2 to 1024, got {draws}")
    gen = torch.Generator().manual_seed(seed)
    count, mean, m2 = 0, 0.0, 0.0
    for start in range(0, draws, batch):
        imgs = noise_batch(G, ws, settings, min(batch, draws - start), gen)  # [n, H, W, C] float64
        n, batch_mean = len(imgs), imgs.mean(axis=0)
        delta = batch_mean - mean
        m2 = m2 + ((imgs - batch_mean) ** 2).sum(axis=0) + delta ** 2 * count * n / (count + n)
        mean, count = mean + delta * n / (count + n), count + n
        yield count, imgs, np.sqrt(m2 / count).mean(axis=-1).astype(np.float32)


def variation_map(G: GeneratorNet, w: torch.Tensor, settings: RenderSettings, draws: int = 100,
                  seed: int = 0) -> np.ndarray:
    """Per-pixel standard deviation of one w's image over `draws` noise realisations (mean over colour), [H, W]."""
    for _, _, std in variation_units(G, styled_ws(G, w.reshape(1, -1), settings), settings, draws, seed):
        pass
    return std


def lerp(a: torch.Tensor, b: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    """Linear interpolation (for W)."""
    return a + (b - a) * t


def slerp(a: torch.Tensor, b: torch.Tensor, t: float | torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    """Spherical interpolation along the great circle (for Z), keeping the norm's interpolation."""
    na, nb = a.norm(dim=-1, keepdim=True), b.norm(dim=-1, keepdim=True)
    ua, ub = a / na, b / nb
    dot = (ua * ub).sum(-1, keepdim=True).clamp(-1 + eps, 1 - eps)
    omega = torch.acos(dot)
    so = torch.sin(omega)
    t = torch.as_tensor(t, dtype=a.dtype, device=a.device)
    direction = (torch.sin((1 - t) * omega) * ua + torch.sin(t * omega) * ub) / so
    return direction * (na + (nb - na) * t)
