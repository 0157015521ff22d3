"""Video export: frames rendered in batches and encoded as they come (PyAV for MP4/WebM, Pillow for GIF/WebP)."""
from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from .synth import (broadcast, latents_to_w, latents_ws, map_z, prepare, psi_sweep, slerp, styled_ws, synthesize,
                    to_uint8)
from ..contract.errors import UserError
from .renderer import check_request
from ..files.fileio import WriteError, commit_temp, describe_os_error, temp_path_for
from ..files.modelfile import ModelMeta
from ..nets.api import GeneratorNet
from ..files.pngio import make_grid
from ..contract.latents import Edit, Latent, NoiseSpec, RenderSettings, seed_to_z
from ..contract.video import VideoSpec, check_format, describe_spec, path_frames

BATCH = 8


def ease(t: np.ndarray, how: str) -> np.ndarray:
    """Linear or smoothstep easing of interpolation positions in [0, 1]."""
    return t if how == "linear" else t * t * (3 - 2 * t)


def _positions(spec: VideoSpec, n_keys: int) -> list[tuple[int, float]]:
    """(segment, t) for every frame of a walk through n_keys keyframes."""
    segments = n_keys if spec.loop else n_keys - 1
    t = ease(np.arange(spec.frames_per_step) / spec.frames_per_step, spec.easing)
    out = [(s, float(x)) for s in range(segments) for x in t]
    return out if spec.loop else out + [(segments - 1, 1.0)]


def _walk_ws(G: GeneratorNet, spec: VideoSpec, seeds: tuple[int, ...]) -> torch.Tensor:
    """ws for every frame of a walk through `seeds` [F, num_ws, w_dim]."""
    n = len(seeds)
    pos = _positions(spec, n)
    a = [seeds[s] for s, _ in pos]
    b = [seeds[(s + 1) % n] for s, _ in pos]
    t = torch.tensor([x for _, x in pos]).unsqueeze(1)
    if spec.space == "z":
        z = slerp(torch.from_numpy(seed_to_z(a, G.z_dim)), torch.from_numpy(seed_to_z(b, G.z_dim)), t)
        w = map_z(G, z, [spec.c] * len(z))
    else:
        wa, wb = (latents_to_w(G, [Latent(seed=s, c=spec.c) for s in keys]) for keys in (a, b))
        w = torch.lerp(wa, wb, t.to(wa.device))
    return styled_ws(G, w, RenderSettings(psi=spec.psi, cutoff=spec.cutoff))


def _keys_walk_ws(G: GeneratorNet, spec: VideoSpec) -> torch.Tensor:
    """ws for every frame of a walk through `spec.latents` [F, num_ws, w_dim]: their ws (truncated, edits added)
    lerped, which is the walk in W for plain faces and also carries W+ faces and edits along."""
    settings = RenderSettings(psi=spec.psi, cutoff=spec.cutoff)
    for latent in spec.latents:   # a w of another model is one line, not a tensor size error
        check_request(G, latent, (), settings)
    keys = latents_ws(G, list(spec.latents), settings)
    pos = _positions(spec, len(keys))
    a = keys[[s for s, _ in pos]]
    b = keys[[(s + 1) % len(keys) for s, _ in pos]]
    return torch.lerp(a, b, torch.tensor([x for _, x in pos], device=keys.device).view(-1, 1, 1))


def _batches(G: GeneratorNet, ws: torch.Tensor, settings: RenderSettings) -> Iterator[np.ndarray]:
    noise = prepare(G, settings)
    for i in range(0, ws.shape[0], BATCH):
        yield to_uint8(synthesize(G, ws[i:i + BATCH], noise))


def _moved(spec: VideoSpec, noise: bool = True) -> RenderSettings:
    """The spec's noise (else the stored maps) and input transform: the settings every frame is rendered with."""
    return RenderSettings(translate=spec.translate, rotate=spec.rotate, noise=spec.noise if noise else NoiseSpec())


def frames_walk(G, spec):
    """Walk through the seeds, lerp in W or slerp in Z; along a travelled path, each frame a fractional seed; or
    through the spec's faces (favourites)."""
    if spec.path:
        latents = [Latent(pos=(float(x), float(y)), space=spec.space, c=spec.c)
                   for x, y in path_frames(spec.path, spec.frames_per_step)]
        return _batches(G, latents_ws(G, latents, RenderSettings(psi=spec.psi, cutoff=spec.cutoff)), _moved(spec))
    if spec.latents:
        return _batches(G, _keys_walk_ws(G, spec), _moved(spec))
    return _batches(G, _walk_ws(G, spec, spec.seeds), _moved(spec))


def frames_truncation(G, spec):
    """ψ swept from psi_range[0] to psi_range[1] for each seed in turn."""
    ws = broadcast(latents_to_w(G, [Latent(seed=s, c=spec.c) for s in spec.seeds]), G.num_ws)  # [S, num_ws, w_dim]
    psis = np.linspace(*spec.psi_range, spec.frames_per_step)
    return _batches(G, torch.cat([psi_sweep(ws[k:k + 1], G.w_avg, psis, spec.cutoff) for k in range(len(ws))]),
                    _moved(spec))


def frames_morph(G, spec):
    """The chosen layers interpolated from seed A to seed B, the others fixed at A."""
    spec2 = VideoSpec(**{**spec.__dict__, "loop": False})
    ws = _walk_ws(G, spec2, spec.seeds[:2])
    if spec.layers:
        fixed = [i for i in range(G.num_ws) if i not in spec.layers]
        ws[:, fixed] = ws[:1, fixed]
    return _batches(G, ws, _moved(spec))


def frames_noise(G, spec) -> Iterator[np.ndarray]:
    """One latent; chosen resolutions' noise drifts smoothly (unit variance kept), others stay stored."""
    ws = styled_ws(G, latents_to_w(G, [Latent(seed=spec.seeds[0], c=spec.c)]),
                   RenderSettings(psi=spec.psi, cutoff=spec.cutoff))
    if not G.noise_resolutions:
        raise UserError("this model has no noise inputs (StyleGAN3 has none; a StyleGAN2 may be trained "
                        "without): a noise video would not move")
    chosen = set(spec.noise_res or G.noise_resolutions)
    keys = max(2, len(spec.seeds)) if spec.loop else 2
    gen = torch.Generator().manual_seed(spec.seeds[0])
    stored = prepare(G, _moved(spec, noise=False))   # what it does not animate stays as stored
    anchors = [torch.randn(keys, 1, r, r, generator=gen) for r in G.noise_resolutions]
    pos = _positions(spec, keys)
    for i in range(0, len(pos), BATCH):
        chunk = pos[i:i + BATCH]
        a = torch.tensor([s for s, _ in chunk])
        b = (a + 1) % keys
        ang = torch.tensor([t for _, t in chunk]).view(-1, 1, 1, 1) * (math.pi / 2)
        noise = []
        for k, r in enumerate(G.noise_resolutions):
            if r in chosen:
                m = anchors[k]
                noise.append((m[a] * torch.cos(ang) + m[b] * torch.sin(ang)).to(ws.device))
            else:
                noise.append(stored[k])
        yield to_uint8(synthesize(G, ws.expand(len(chunk), -1, -1), noise))


def frames_grid(G, spec):
    """Several walks side by side: cell k walks through the seeds rotated by k."""
    n = len(spec.seeds)
    walks = torch.stack([_walk_ws(G, spec, spec.seeds[k:] + spec.seeds[:k]) for k in range(n)], 1)  # [F, n, …]
    cols = spec.grid_cols or int(math.ceil(math.sqrt(n)))
    noise = prepare(G, _moved(spec))
    step = max(1, BATCH // n)
    for i in range(0, walks.shape[0], step):
        chunk = walks[i:i + step]
        cells = to_uint8(synthesize(G, chunk.reshape(-1, *chunk.shape[2:]), noise))
        yield np.stack([make_grid(cells[k * n:(k + 1) * n], cols, fill=0) for k in range(len(chunk))])


def direction_amounts(spec: VideoSpec) -> np.ndarray:
    """Amounts in σ per frame of one face: from → to, or from → to → from (cosine) when looping."""
    a, b = spec.amount_range
    t = np.arange(spec.frames_per_step) / spec.frames_per_step if spec.loop else \
        np.linspace(0.0, 1.0, spec.frames_per_step)
    u = (1 - np.cos(2 * np.pi * t)) / 2 if spec.loop else ease(t, spec.easing)
    return a + (b - a) * u


def frames_direction(G, spec):
    """Each seed in turn moved along the direction by each amount (the Edit the Directions pane makes)."""
    layers = spec.layers or tuple(range(G.num_ws))
    d = np.asarray(spec.direction, np.float32)
    latents = [Latent(seed=s, c=spec.c, edit=Edit(tuple((np.float32(a * spec.sigma) * d).tolist()), layers))
               for s in spec.seeds for a in direction_amounts(spec)]
    settings = RenderSettings(psi=spec.psi, cutoff=spec.cutoff)
    check_request(G, latents[0], (), settings)   # another model's direction: one line, not a tensor size error
    return _batches(G, latents_ws(G, latents, settings), _moved(spec))


FRAMES = {"walk": frames_walk, "truncation": frames_truncation, "morph": frames_morph, "noise": frames_noise,
          "grid": frames_grid, "direction": frames_direction}


def frame_count(G: GeneratorNet, spec: VideoSpec) -> int:
    """Number of frames the spec produces."""
    if spec.path:
        return len(path_frames(spec.path, spec.frames_per_step))
    if spec.kind in ("truncation", "direction"):
        return spec.frames_per_step * len(spec.seeds)
    if spec.kind == "morph":
        return spec.frames_per_step + 1
    keys = len(spec.latents or spec.seeds) if spec.kind != "noise" else (max(2, len(spec.seeds)) if spec.loop else 2)
    return spec.frames_per_step * (keys if spec.loop else keys - 1) + (0 if spec.loop else 1)


def resize(frames: np.ndarray, size: int | None, how: str) -> np.ndarray:
    """Scale frames so the longer side is `size`, keeping even dimensions for yuv420p."""
    h, w = frames.shape[1:3]
    scale = (size / max(h, w)) if size else 1.0
    nh, nw = max(2, int(round(h * scale / 2)) * 2), max(2, int(round(w * scale / 2)) * 2)
    if (nh, nw) == (h, w):
        return frames
    resample = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR, "lanczos": Image.LANCZOS}[how]
    return np.stack([np.asarray(Image.fromarray(f).resize((nw, nh), resample)) for f in frames])


class _AVWriter:
    """MP4 (H.264, yuv420p) or WebM (VP9) through PyAV."""

    def __init__(self, path: Path, suffix: str, fps: int, quality: int, comment: str) -> None:
        import av  # deliberate: PyAV loads FFmpeg's libraries (0.12 s), only when a video is written
        self.av = av
        self.container = av.open(str(path), "w", format="mp4" if suffix == ".mp4" else "webm")
        self.container.metadata["comment"] = comment
        codec = "libx264" if suffix == ".mp4" else "libvpx-vp9"
        self.stream = self.container.add_stream(codec, rate=fps)
        self.stream.pix_fmt = "yuv420p"
        crf = int(round(40 - 0.3 * quality)) if suffix == ".mp4" else int(round(50 - 0.4 * quality))
        self.stream.options = {"crf": str(crf)} if suffix == ".mp4" else {"crf": str(crf), "b": "0"}
        self.sized = False

    def write(self, frames: np.ndarray) -> None:
        if not self.sized:
            self.stream.height, self.stream.width = frames.shape[1:3]
            self.sized = True
        for f in frames:
            for packet in self.stream.encode(self.av.VideoFrame.from_ndarray(f, format="rgb24")):
                self.container.mux(packet)

    def close(self) -> None:
        for packet in self.stream.encode():
            self.container.mux(packet)
        self.container.close()


class _PillowWriter:
    """GIF (fast octree palette per frame) or animated WebP through Pillow, written at the end."""

    def __init__(self, path: Path, suffix: str, fps: int, quality: int, comment: str) -> None:
        self.path, self.suffix, self.fps, self.quality, self.comment = path, suffix, fps, quality, comment
        self.frames: list[Image.Image] = []

    def write(self, frames: np.ndarray) -> None:
        for f in frames:
            im = Image.fromarray(f)
            self.frames.append(im.quantize(method=Image.Quantize.FASTOCTREE) if self.suffix == ".gif" else im)

    def close(self) -> None:
        extra = {"quality": self.quality} if self.suffix == ".webp" else {"comment": self.comment.encode()}
        self.frames[0].save(self.path, format="GIF" if self.suffix == ".gif" else "WEBP", save_all=True,
                            append_images=self.frames[1:], duration=round(1000 / self.fps), loop=0, **extra)


def video_job(G: GeneratorNet, meta: ModelMeta, model_path: str | Path, spec: VideoSpec,
              out_path: str | Path) -> Iterator[tuple[int, int]]:
    """Render and encode; yields (frames done, total) per batch; no partial file on cancel or failure."""
    total = frame_count(G, spec)
    comment = json.dumps({"app": "stylegan-studio", "model_id": meta.model_id, "model_path": str(model_path),
                          "video": describe_spec(spec)})
    batches = (resize(frames, spec.size, spec.filter) for frames in FRAMES[spec.kind](G, spec))
    for done in encode(batches, out_path, spec.fps, spec.quality, comment):
        yield done, total


def encode(batches: Iterable[np.ndarray], out_path: str | Path, fps: int, quality: int,
           comment: str) -> Iterator[int]:
    """Encode batches of uint8 frames [N, H, W, 3] by the file's suffix; yields frames written so far.

    Written to a temporary file and renamed at the end: no partial file on cancel or failure.
    """
    suffix = check_format(str(out_path))
    tmp = temp_path_for(out_path)
    writer_cls = _AVWriter if suffix in (".mp4", ".webm") else _PillowWriter
    try:
        writer = writer_cls(tmp, suffix, fps, quality, comment)
        done = 0
        for frames in batches:
            writer.write(frames)
            done += len(frames)
            yield done
        writer.close()
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise WriteError(f"cannot write {out_path}: {describe_os_error(exc)}") from None
    except BaseException:  # cancelled (GeneratorExit) or failed: leave nothing behind
        Path(tmp).unlink(missing_ok=True)
        raise
    commit_temp(tmp, out_path)  # its own WriteError (said once, not wrapped again above)


def upsample_nearest(frames: np.ndarray, factor: int) -> np.ndarray:
    """Integer nearest-neighbour upscale (used by figures)."""
    t = torch.from_numpy(frames).permute(0, 3, 1, 2).float()
    return F.interpolate(t, scale_factor=factor, mode="nearest").byte().permute(0, 2, 3, 1).numpy()
