"""A training curve file: G_ema at several points of one run, float16, in one safetensors file.

A lent GPU returns at most 8 files (docs/gpu-training.md); the curve file carries the run's intermediate
G_ema in one of them, so its FID curve is measured back on the CPU (`split_curve` turns it into model files).
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save as st_save

from ..nets.api import GeneratorNet
from ..nets.registry import generator_from_config
from .fileio import atomic_write_bytes
from .modelfile import ModelFileError, ModelMeta, save_model

FORMAT = "stylegan-studio/curve"
MAX_POINTS = 64  # more than a file of this kind ever holds: a header naming more is damaged


class CurveWriter:
    """Adds G_ema snapshots to one file, each time rewritten whole (atomically) while it stays under `limit`."""

    def __init__(self, path: str | Path, limit: int) -> None:
        self.path, self.limit = Path(path), limit
        self.points: list[tuple[float, dict[str, torch.Tensor]]] = []

    def room(self, G: GeneratorNet) -> int:
        """How many snapshots of G fit under the limit (a little is kept for the header)."""
        per = sum(t.numel() * 2 for t in G.state_dict().values())
        return max(0, (self.limit - (64 << 10)) // per)

    def add(self, G: GeneratorNet, kimg: float) -> bool:
        """Add G (as float16) at `kimg` and rewrite the file; False when it would pass the limit."""
        if len(self.points) >= self.room(G):
            return False
        self.points.append((round(kimg, 3), {k: v.detach().to("cpu", torch.float16).contiguous()
                                             for k, v in G.state_dict().items()}))
        tensors = {f"{i}.{k}": v for i, (_, sd) in enumerate(self.points) for k, v in sd.items()}
        meta = {"format": FORMAT, "arch": G.arch, "config": json.dumps(G.cfg.to_dict()),
                "kimg": json.dumps([k for k, _ in self.points])}
        atomic_write_bytes(self.path, st_save(tensors, metadata=meta))
        return True


def split_curve(path: str | Path, folder: str | Path, source: str = "") -> list[tuple[float, Path]]:
    """Write each snapshot of a curve file as a model file in `folder`; returns (kimg, model file), in order."""
    path, folder = Path(path), Path(folder)
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            if meta.get("format") != FORMAT:
                raise ModelFileError(f"{path}: not a stylegan-studio curve file")
            kimgs = [float(k) for k in json.loads(meta["kimg"])][:MAX_POINTS + 1]
            if len(kimgs) > MAX_POINTS:
                raise ValueError("too many points")
            config = json.loads(meta["config"])
            parts = [{k.split(".", 1)[1]: f.get_tensor(k).float() for k in f.keys() if k.split(".", 1)[0] == str(i)}
                     for i in range(len(kimgs))]
    except ModelFileError:
        raise
    except Exception as exc:  # safetensors' own errors, bad JSON, a missing key
        raise ModelFileError(f"{path}: damaged curve file ({type(exc).__name__})") from None
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for kimg, state in zip(kimgs, parts):
        try:
            G = generator_from_config(meta["arch"], config)
            G.load_state_dict(state, strict=True)
        except Exception as exc:  # an unknown arch, a bad config, weights that do not fit it
            raise ModelFileError(f"{path}: the snapshot at {kimg:g} kimg does not fit its config "
                                 f"({type(exc).__name__})") from None
        target = folder / f"curve-{kimg:08.1f}kimg.safetensors"
        save_model(G, target, ModelMeta(name=target.stem, kimg=kimg, source=source or f"curve file {path.name}"))
        out.append((kimg, target))
    return out
