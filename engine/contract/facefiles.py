"""The names of faces exported one PNG each into a folder: the window's Export Faces and `generate --out`."""
from __future__ import annotations

import re
from collections.abc import Sequence

from .latents import Latent


def _seed_name(latent: Latent) -> str | None:
    """seed0042.png for a plain seed (of any class, as NVIDIA's gen_images.py names it), else None."""
    return f"seed{latent.seed:04d}.png" if latent.seed is not None and latent.edit is None else None


def _slug(text: str) -> str:
    """'seed 42 (pc 3 +2σ)' → 'seed-42-pc-3-2': letters and digits a file name can hold anywhere."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower().replace("w+", "w-plus")).strip("-")[:60] or "face"


def face_file_names(latents: Sequence[Latent], labels: Sequence[str] = ()) -> list[str]:
    """One file name per face: seed0042.png when every face is a different plain seed (as `generate` has always
    named them); otherwise numbered in order, so a folder lists them as they were kept, each named by its label
    (the favourites' own, else the latent's): 001-seed-42.png, 002-custom-w-plus.png, 003-seed-42-pc-3-2.png."""
    names = [_seed_name(lat) for lat in latents]
    if names and all(names) and len(set(names)) == len(names):
        return names
    digits = max(3, len(str(len(latents))))
    return [f"{k + 1:0{digits}d}-{_slug(labels[k] if k < len(labels) else lat.label())}.png"
            for k, lat in enumerate(latents)]
