"""Render requests → numpy images: pure functions of (G, request), run on the engine thread."""
from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .errors import UserError
from .explore import latents_to_w, mix, noise_maps, styled_ws, synthesize, to_uint8, truncate, broadcast
from .messages import RenderImage, RenderMixGrid, RenderSeedGrid, RenderTruncationStrip, RenderVariation
from .networks import Generator
from .specs import Latent, RenderSettings

FIRST_CHUNK = 2  # the first grid chunk is small so the first thumbnails appear quickly


def check_request(G: Generator, latent: Latent | None, layers: Sequence[int], settings: RenderSettings) -> None:
    """Reject latents, layers and cutoffs this model cannot use, with one plain line."""
    if latent is None:
        raise UserError("nothing to render: no seed or latent given")
    if latent.w is not None and np.asarray(latent.w).size != G.cfg.w_dim:
        raise UserError(f"a custom w has {np.asarray(latent.w).size} values; this model needs {G.cfg.w_dim}")
    bad = [i for i in layers if not 0 <= i < G.num_ws]
    if bad:
        raise UserError(f"layer {bad[0]} does not exist: this model has layers 0-{G.num_ws - 1}")
    if settings.cutoff is not None and settings.cutoff > G.num_ws:
        raise UserError(f"cutoff {settings.cutoff} is beyond this model's {G.num_ws} layers")


def resize(img: torch.Tensor, size: int | None) -> torch.Tensor:
    """[N, C, H, W] → [N, C, size, size], antialiased when shrinking (None or same size: unchanged)."""
    if size is None or size == img.shape[-1]:
        return img
    if size < 1 or size > 4096:
        raise UserError(f"output size must be 1 to 4096 pixels, got {size}")
    return F.interpolate(img.float(), size=(size, size), mode="bilinear", antialias=size < img.shape[-1],
                         align_corners=False)


def latent_ws(G: Generator, latent: Latent, settings: RenderSettings, mix_with: Latent | None = None,
              mix_layers: Sequence[int] = ()) -> torch.Tensor:
    """One latent, truncated, optionally with `mix_layers` from `mix_with` → ws [1, num_ws, w_dim]."""
    check_request(G, latent, mix_layers if mix_with is not None else (), settings)
    if mix_with is None or not mix_layers:
        return styled_ws(G, latents_to_w(G, [latent]), settings)
    check_request(G, mix_with, mix_layers, settings)
    ws = styled_ws(G, latents_to_w(G, [latent, mix_with]), settings)  # [2, num_ws, w_dim]
    return mix(ws[:1], ws[1:], mix_layers)


@torch.inference_mode()
def render_image(G: Generator, latent: Latent, settings: RenderSettings, mix_with: Latent | None = None,
                 mix_layers: Sequence[int] = (), size: int | None = None) -> np.ndarray:
    """One image [H, W, 3] uint8."""
    ws = latent_ws(G, latent, settings, mix_with, mix_layers)
    return to_uint8(resize(synthesize(G, ws, noise_maps(G, settings.noise)), size))[0]


def frame(G: Generator, req: RenderImage) -> np.ndarray:
    """The image a RenderImage asks for."""
    return render_image(G, req.latent, req.settings, req.mix_with, req.mix_layers, req.size)


@torch.inference_mode()
def render_thumbs(G: Generator, ws: torch.Tensor, settings: RenderSettings, thumb: int | None,
                  batch: int = 16) -> np.ndarray:
    """ws [N, num_ws, w_dim] → thumbnails [N, thumb, thumb, 3] uint8, in batches."""
    noise = noise_maps(G, settings.noise)
    out = [to_uint8(resize(synthesize(G, ws[i:i + batch], noise), thumb)) for i in range(0, ws.shape[0], batch)]
    return np.concatenate(out)


def grid_chunks(G: Generator, req: RenderSeedGrid) -> Iterator[tuple[int, np.ndarray]]:
    """(start, thumbnails) for the seeds of a grid: a small first chunk, then `req.chunk` at a time."""
    if req.settings.cutoff is not None and req.settings.cutoff > G.num_ws:
        check_request(G, Latent(seed=0), (), req.settings)
    seeds, chunk = list(req.seeds), max(1, req.chunk)
    start = 0
    while start < len(seeds):
        n = min(FIRST_CHUNK, chunk) if start == 0 else chunk
        yield start, _seed_thumbs(G, seeds[start:start + n], req)  # never yield inside inference_mode:
        start += n                                                   # it would leak into the next job unit


@torch.inference_mode()
def _seed_thumbs(G: Generator, seeds: Sequence[int], req: RenderSeedGrid) -> np.ndarray:
    ws = styled_ws(G, latents_to_w(G, [Latent(seed=s) for s in seeds]), req.settings)
    return render_thumbs(G, ws, req.settings, req.thumb)


@torch.inference_mode()
def mix_grid(G: Generator, req: RenderMixGrid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row sources [R, t, t, 3], column sources [C, t, t, 3], cells [R, C, t, t, 3])."""
    return mixing(G, req.rows, req.cols, req.layers, req.settings, req.thumb)


@torch.inference_mode()
def mixing(G: Generator, rows: Sequence[Latent], cols: Sequence[Latent], layers: Sequence[int],
           settings: RenderSettings, thumb: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sources and cells of a style-mixing grid: cell (r, c) is row r with `layers` from column c."""
    if not rows or not cols:
        raise UserError("a mixing grid needs at least one row and one column")
    for lat in (*rows, *cols):
        check_request(G, lat, layers, settings)
    ws = styled_ws(G, latents_to_w(G, [*rows, *cols]), settings)  # [R + C, num_ws, w_dim]
    R, C = len(rows), len(cols)
    ws_rows, ws_cols = ws[:R], ws[R:]
    cells = mix(ws_rows.repeat_interleave(C, 0), ws_cols.repeat(R, 1, 1), layers)  # [R·C, num_ws, w_dim]
    imgs = render_thumbs(G, torch.cat([ws, cells]), settings, thumb)
    cell_imgs = imgs[R + C:]
    return imgs[:R], imgs[R:R + C], cell_imgs.reshape(R, C, *cell_imgs.shape[1:])


@torch.inference_mode()
def variation(G: Generator, req: RenderVariation, batch: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """(one draw [H, W, 3] uint8, per-pixel std over `draws` noise draws [H, W] float32).

    Same noise stream as explore.noise_draws (torch.Generator seeded with `seed`), but on the
    already mixed ws so a mixed image can be examined too.
    """
    if req.draws < 2 or req.draws > 1024:
        raise UserError(f"noise draws must be 2 to 1024, got {req.draws}")
    ws = latent_ws(G, req.latent, req.settings, req.mix_with, req.mix_layers)  # [1, num_ws, w_dim]
    gen = torch.Generator().manual_seed(req.seed)
    out = []
    for start in range(0, req.draws, batch):
        n = min(batch, req.draws - start)
        noise = []
        for res in G.cfg.resolutions:
            s = req.settings.noise.at(res)
            on = s.mode != "zero" and s.strength != 0.0
            noise += [torch.randn(n, 1, res, res, generator=gen).to(ws.device) * s.strength if on else None
                      for _ in (0, 1)]
        out.append(synthesize(G, ws.expand(n, -1, -1), noise).float())
    imgs = torch.cat(out)  # [draws, C, H, W]
    std = imgs.permute(0, 2, 3, 1).cpu().numpy().std(axis=0).mean(axis=-1).astype(np.float32)
    return to_uint8(imgs[:1])[0], std


@torch.inference_mode()
def truncation_strip(G: Generator, req: RenderTruncationStrip) -> np.ndarray:
    """One latent at each ψ of the request → [K, t, t, 3] uint8."""
    if not req.psis:
        raise UserError("a truncation strip needs at least one ψ value")
    check_request(G, req.latent, (), req.settings)
    ws = broadcast(latents_to_w(G, [req.latent]), G.num_ws)  # [1, num_ws, w_dim]
    cut = req.settings.cutoff
    strip = torch.cat([truncate(ws, G.w_avg, float(psi), cut) for psi in req.psis])
    return render_thumbs(G, strip, req.settings, req.thumb)
