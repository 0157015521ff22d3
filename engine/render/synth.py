"""The paper's operations on latents, batched: mapping, truncation, mixing, noise, synthesis to uint8."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ..nets.device import device_of
from ..contract.errors import UserError
from ..nets.networks import Generator
from ..contract.latents import Latent, NoiseSpec, RenderSettings, position_seeds, position_z, seed_to_z

STILL_BATCH = 8  # stills render in padded batches of this size (see render_still)


@torch.inference_mode()
def map_z(G: Generator, z: np.ndarray | torch.Tensor) -> torch.Tensor:
    """z [N, z_dim] → w [N, w_dim], one row at a time.

    BLAS blocks a matrix product by its row count, so a batched mapping can differ in the last bit
    depending on the batch; mapping rows singly (cheap: a few MMACs) keeps a seed's w exact.
    """
    z = torch.as_tensor(z, dtype=torch.float32, device=device_of(G))
    return torch.cat([G.mapping(z[i:i + 1]) for i in range(z.shape[0])]) if len(z) else G.mapping(z)


def latents_to_w(G: Generator, latents: Sequence[Latent]) -> torch.Tensor:
    """Seeds and explicit ws → w [N, w_dim], mapping all seeds in one pass (per-layer ws: see latents_to_ws)."""
    if any(lat.per_layer for lat in latents):
        raise UserError("a per-layer (W+) latent has no single w; only images, mixes and ψ strips take it")
    dev = device_of(G)
    out = torch.empty(len(latents), G.cfg.w_dim, device=dev)
    seeded = [i for i, lat in enumerate(latents) if lat.seed is not None]
    if seeded:
        out[seeded] = map_z(G, seed_to_z([latents[i].seed for i in seeded], G.cfg.z_dim))
    for i, lat in enumerate(latents):
        if lat.w is not None:
            out[i] = torch.as_tensor(np.asarray(lat.w, dtype=np.float32).reshape(-1), device=dev)
        elif lat.pos is not None:
            out[i] = position_w(G, lat.pos, lat.space)
    return out


def position_w(G: Generator, pos: tuple[float, float], space: str) -> torch.Tensor:
    """w [w_dim] of a fractional seed: its neighbours' z slerped ('z'), or their w lerped ('w', bilinear weights).

    At an integer point both give exactly that seed's w.
    """
    if space == "z":
        return map_z(G, position_z(pos, G.cfg.z_dim)[None])[0]
    near = position_seeds(pos)
    ws = map_z(G, seed_to_z([s for s, _, _, _ in near], G.cfg.z_dim))
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


def latents_to_ws(G: Generator, latents: Sequence[Latent]) -> torch.Tensor:
    """Latents → untruncated ws [N, num_ws, w_dim]: a seed's or w's on every layer, per-layer ws (W+) as given."""
    ws = broadcast(latents_to_w(G, [Latent(w=np.asarray(lat.w)[0]) if lat.per_layer else lat for lat in latents]),
                   G.num_ws)
    for i, lat in enumerate(latents):
        if lat.per_layer:
            ws[i] = torch.as_tensor(np.asarray(lat.w, dtype=np.float32), device=ws.device)
    return ws


def latents_ws(G: Generator, latents: Sequence[Latent], settings: RenderSettings) -> torch.Tensor:
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


def noise_maps(G: Generator, spec: NoiseSpec, batch: int = 1) -> list:
    """One noise map per synthesis layer as chosen per resolution (None where noise is off).

    'random' maps come from numpy's RandomState(seed) so a noise seed means the same pixels
    on every platform; they are shared by the whole batch so an image never depends on its
    neighbours. `batch` > 1 only matters for per-image draws (see noise_draws).
    """
    dev, out = device_of(G), []
    for res in G.cfg.resolutions:
        setting = spec.at(res)
        if setting.mode == "zero" or setting.strength == 0.0:
            out += [None, None]
            continue
        if setting.mode == "const":
            maps = [G.synthesis.stored_noise(2 * (G.cfg.resolutions.index(res)) + k) for k in (0, 1)]
        else:
            rnd = np.random.RandomState(setting.seed % 2**32).randn(2, 1, 1, res, res).astype(np.float32)
            maps = [torch.from_numpy(rnd[k]).to(dev) for k in (0, 1)]
        out += [m * setting.strength if setting.strength != 1.0 else m for m in maps]
    return out


@torch.inference_mode()
def synthesize(G: Generator, ws: torch.Tensor, noise: list) -> torch.Tensor:
    """ws [N, num_ws, w_dim] → images [N, C, H, W] in about [-1, 1]."""
    return G.synthesis(ws, noise=noise)


def to_uint8(img: torch.Tensor) -> np.ndarray:
    """[N, C, H, W] in [-1, 1] → [N, H, W, C] uint8."""
    img = (img.float() * 127.5 + 128).clamp(0, 255).to(torch.uint8)
    return img.permute(0, 2, 3, 1).cpu().numpy()


def styled_ws(G: Generator, w: torch.Tensor, settings: RenderSettings) -> torch.Tensor:
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
def render_ws(G: Generator, ws: torch.Tensor, settings: RenderSettings, batch: int = 16,
              pad: bool = False, size: int | None = None) -> np.ndarray:
    """ws → uint8 images [N, H, W, C], in chunks of `batch` (ws already truncated).

    pad=True runs every chunk at exactly `batch` rows: oneDNN picks kernels by shape, so the
    same seed then gives the same pixels whatever else shares its batch (used by exports).
    """
    noise = noise_maps(G, settings.noise)
    chunks = []
    for i in range(0, ws.shape[0], batch):
        part = ws[i:i + batch]
        if pad and len(part) < batch:
            part = torch.cat([part, part[-1:].expand(batch - len(part), -1, -1)])
        chunks.append(to_uint8(resize(synthesize(G, part, noise), size))[:min(batch, ws.shape[0] - i)])
    return np.concatenate(chunks)


def render_still(G: Generator, ws: torch.Tensor, settings: RenderSettings, size: int | None = None) -> np.ndarray:
    """ws → uint8 images as every still export renders them (window and CLI alike): padded batches of 8."""
    return render_ws(G, ws, settings, STILL_BATCH, pad=True, size=size)


def psi_sweep(ws: torch.Tensor, w_avg: torch.Tensor, psis: Sequence[float], cutoff: int | None = None) -> torch.Tensor:
    """ws [1, num_ws, w_dim] truncated at each ψ of `psis` → [K, num_ws, w_dim]."""
    return torch.cat([truncate(ws, w_avg, float(psi), cutoff) for psi in psis])


@torch.inference_mode()
def render_latents(G: Generator, latents: Sequence[Latent], settings: RenderSettings,
                   batch: int = 16, pad: bool = False) -> np.ndarray:
    """Latents → uint8 images [N, H, W, C] with truncation, edits and noise applied."""
    return render_ws(G, latents_ws(G, latents, settings), settings, batch, pad)


@torch.inference_mode()
def noise_batch(G: Generator, ws: torch.Tensor, settings: RenderSettings, n: int, gen: torch.Generator) -> np.ndarray:
    """ws [1, num_ws, w_dim] under `n` fresh noise draws from `gen` → float64 images [n, H, W, C] in [-1, 1].

    Resolutions set to 'zero' (or strength 0) stay off; the others draw at their strength.
    """
    noise = []
    for res in G.cfg.resolutions:
        s = settings.noise.at(res)
        on = s.mode != "zero" and s.strength != 0.0
        noise += [torch.randn(n, 1, res, res, generator=gen).to(ws.device) * s.strength if on else None
                  for _ in (0, 1)]
    return synthesize(G, ws.expand(n, -1, -1), noise).float().permute(0, 2, 3, 1).cpu().numpy().astype(np.float64)


def noise_draws(G: Generator, w: torch.Tensor, settings: RenderSettings, draws: int, seed: int = 0,
                batch: int = 16) -> np.ndarray:
    """One latent under `draws` fresh noise realisations at every resolution whose noise is on.

    Returns float32 images [draws, H, W, C] in [-1, 1]; resolutions set to 'zero' stay off.
    """
    ws = styled_ws(G, w.reshape(1, -1), settings)
    gen = torch.Generator().manual_seed(seed)
    return np.concatenate([noise_batch(G, ws, settings, min(batch, draws - start), gen)
                           for start in range(0, draws, batch)]).astype(np.float32)


def variation_map(G: Generator, w: torch.Tensor, settings: RenderSettings, draws: int = 100,
                  seed: int = 0) -> np.ndarray:
    """Per-pixel standard deviation over `draws` noise realisations (mean over colour), [H, W]."""
    imgs = noise_draws(G, w, settings, draws, seed)
    return imgs.std(axis=0).mean(axis=-1).astype(np.float32)


def init_w_avg(G: Generator, samples: int = 4096, seed: int = 0) -> None:
    """Centre truncation on a fresh model's mean w (a trained model keeps its running mean)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        G.w_avg.copy_(G.mapping(torch.randn(samples, G.cfg.z_dim, generator=gen)).mean(0))


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
