"""PNG files carrying their provenance, and image grids (numpy + Pillow)."""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin, UnidentifiedImageError

from ..contract.errors import UserError
from .fileio import atomic_write_bytes, cannot_read, check_suffix
from .provenance import APP, spec_from

PROVENANCE_KEY = "stylegan-studio"


def encode_png(img: np.ndarray, provenance: dict | None = None) -> bytes:
    """uint8 [H, W, 3] → PNG bytes with a JSON provenance text chunk."""
    info = PngImagePlugin.PngInfo()
    if provenance is not None:
        info.add_text(PROVENANCE_KEY, json.dumps(provenance, sort_keys=True))
        info.add_text("Software", "stylegan-studio")
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(img)).save(buf, format="PNG", pnginfo=info, compress_level=6)
    return buf.getvalue()


def save_png(path: str | Path, img: np.ndarray, provenance: dict | None = None) -> None:
    """Write a PNG atomically, with provenance (under a .png name only)."""
    check_suffix(path, ".png")
    atomic_write_bytes(path, encode_png(img, provenance))


class PngError(UserError, ValueError):
    """A PNG whose provenance cannot be read (damaged image data, a chunk that is not a JSON object)."""


def read_provenance(path: str | Path) -> dict | None:
    """The provenance a studio PNG carries, or None; an unreadable file is a ReadError, a damaged one a PngError."""
    try:
        with Image.open(path) as im:
            text = im.text.get(PROVENANCE_KEY) if hasattr(im, "text") else None
    except (SyntaxError, EOFError, Image.DecompressionBombError, ValueError) as exc:
        # Pillow reports a broken chunk as SyntaxError ("broken PNG file"); `text` reads past the image data
        raise PngError(str(exc).splitlines()[0] if str(exc) else "a damaged PNG file") from None
    except UnidentifiedImageError:
        raise PngError("not an image file") from None
    except OSError as exc:  # missing, a folder, or a damaged image
        raise (cannot_read(path, exc) if exc.errno else PngError(str(exc) or "not an image")) from None
    if not text:
        return None
    try:
        rec = json.loads(text)
    except RecursionError:  # a hostile chunk nests brackets thousands deep
        raise PngError("the provenance is nested too deeply") from None
    except ValueError as exc:
        raise PngError(f"the provenance is not JSON ({exc})") from None
    if not isinstance(rec, dict):
        raise PngError("the provenance is not a JSON object")
    return rec


def read_request(path: str | Path):
    """(request, record) of a PNG the studio saved, None for any other image; a damaged one is a UserError."""
    try:
        rec = read_provenance(path)
    except PngError as exc:
        raise PngError(f"cannot read {path}: {exc}") from None
    if not rec or rec.get("app") != APP:
        return None
    try:
        return spec_from(rec), rec
    except UserError as exc:
        raise UserError(f"{path}: {exc}") from None


def make_grid(imgs: np.ndarray, cols: int, pad: int = 0, fill: int = 255) -> np.ndarray:
    """[N, H, W, C] → one [rows·H, cols·W, C] image, row-major, blank cells filled."""
    n, h, w, c = imgs.shape
    rows = -(-n // cols)
    out = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad, c), fill, np.uint8)
    for i in range(n):
        r, k = divmod(i, cols)
        out[r * (h + pad):r * (h + pad) + h, k * (w + pad):k * (w + pad) + w] = imgs[i]
    return out


def mixing_figure(sources_r: np.ndarray, sources_c: np.ndarray, cells: np.ndarray, fill: int = 255) -> np.ndarray:
    """Sources along the top and left, cells [R, C, H, W, 3] inside, blank corner."""
    R, C, H, W, ch = cells.shape
    canvas = np.full(((R + 1) * H, (C + 1) * W, ch), fill, np.uint8)
    canvas[:H, W:] = np.concatenate(list(sources_c), axis=1)
    canvas[H:, :W] = np.concatenate(list(sources_r), axis=0)
    canvas[H:, W:] = cells.transpose(0, 2, 1, 3, 4).reshape(R * H, C * W, ch)
    return canvas


def grey_image(values: np.ndarray) -> np.ndarray:
    """float [H, W] → uint8 [H, W, 3] grey, normalised to its own maximum (e.g. a noise std map)."""
    top = max(float(values.max()), 1e-8)
    grey = (np.clip(values / top, 0, 1) * 255).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=2)
