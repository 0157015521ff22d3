"""Image datasets: a folder (recursive) or a zip, validated, squared, resized and cached as uint8."""
from __future__ import annotations

import hashlib
import io
import math
import zipfile
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..contract.errors import UserError
from ..files.fileio import atomic_write_bytes, cache_root

# A 1024² PNG is a few MB; a zip member claiming more is a bomb or not a training image, and is skipped unread.
MAX_FILE_BYTES = 128 << 20
IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"}


@dataclass(frozen=True)
class DatasetReport:
    """What a validation pass found: usable images, chosen resolution, skipped files with reasons."""

    path: str
    count: int
    resolution: int
    skipped: tuple[tuple[str, str], ...]
    key: str            # these files at this place (the decode cache's name)
    content: str = ""   # these files wherever they lie: a moved copy keeps it

    def summary(self) -> str:
        """One line for humans."""
        return f"{self.count} images at {self.resolution}², {len(self.skipped)} skipped"


class ImageSource:
    """Lists and opens the image files of a folder or a zip archive."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise UserError(f"{self.path}: no such dataset folder or zip")
        self.zip = None
        if self.path.is_file():
            try:
                self.zip = zipfile.ZipFile(self.path)
            except (zipfile.BadZipFile, OSError, NotImplementedError, ValueError) as exc:  # NotImplemented: zip version
                raise UserError(f"{self.path}: not a readable zip of images ({exc})") from None
            names = [n for n in self.zip.namelist() if Path(n).suffix.lower() in IMAGE_EXTS]
        else:
            names = [str(p.relative_to(self.path)) for p in self.path.rglob("*")
                     if p.suffix.lower() in IMAGE_EXTS and p.is_file()]
        self.names = sorted(names)

    def size(self, name: str) -> int:
        """The size one file claims (a zip member's inflated size)."""
        return self.zip.getinfo(name).file_size if self.zip else (self.path / name).stat().st_size

    def read(self, name: str) -> bytes:
        """Raw bytes of one file; OSError for a damaged member or one too large to be an image we can use."""
        if self.size(name) > MAX_FILE_BYTES:
            raise OSError(f"too large ({self.size(name) >> 20} MB; images above {MAX_FILE_BYTES >> 20} MB are not read)")
        if not self.zip:
            return (self.path / name).read_bytes()
        try:
            return self.zip.read(name)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError) as exc:
            # RuntimeError: a member flagged as encrypted; NotImplementedError: an unknown compression or version
            raise OSError(f"damaged zip member ({exc})") from None

    def fingerprint(self) -> str:
        """Identity of the place, file list and sizes (changes when files change; decode caches and training
        states are named by it)."""
        return self._digest(str(self.path.resolve()))

    def listing(self) -> str:
        """Identity of the file list and sizes alone (a moved or copied dataset keeps it)."""
        return self._digest("")

    def _digest(self, place: str) -> str:
        h = hashlib.sha256(place.encode())
        for n in self.names:
            h.update(f"{n}:{self.size(n)};".encode())
        return h.hexdigest()[:16]


def decode(data: bytes) -> Image.Image:
    """Decode fully (so truncated files fail here), honour EXIF rotation, convert to RGB."""
    with Image.open(io.BytesIO(data)) as im:
        if im.width * im.height > (Image.MAX_IMAGE_PIXELS or 1 << 62):  # Pillow only warns up to twice its limit
            raise Image.DecompressionBombError(f"{im.width}×{im.height} pixels")
        im.load()
        im = ImageOps.exif_transpose(im)
        if im.mode in ("RGBA", "LA", "P"):
            im = im.convert("RGBA")
            bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
            im = Image.alpha_composite(bg, im)
        return im.convert("RGB")


def to_square(im: Image.Image, res: int, mode: str = "crop") -> np.ndarray:
    """Centre-crop (or pad) to a square, then resize to res × res with a Lanczos filter."""
    w, h = im.size
    if mode == "pad":
        side = max(w, h)
        canvas = Image.new("RGB", (side, side), im.getpixel((0, 0)))
        canvas.paste(im, ((side - w) // 2, (side - h) // 2))
        im = canvas
    else:
        side = min(w, h)
        im = im.crop(((w - side) // 2, (h - side) // 2, (w - side) // 2 + side, (h - side) // 2 + side))
    if im.size != (res, res):
        im = im.resize((res, res), Image.LANCZOS)
    return np.asarray(im, dtype=np.uint8)


def choose_resolution(sizes: list[int]) -> int:
    """Largest power of two (8..1024) not above the median shortest side."""
    median = sorted(sizes)[len(sizes) // 2]
    return int(min(1024, max(8, 2 ** int(math.log2(max(median, 1))))))


def _probe(source: ImageSource, name: str) -> tuple[int | None, str]:
    """(shortest side, '') or (None, reason)."""
    try:
        data = source.read(name)
    except OSError as exc:
        return None, f"unreadable ({exc.strerror or exc})"[:120]
    if not data:
        return None, "empty file"
    try:
        im = decode(data)
    except OSError as exc:
        text = str(exc)
        if "truncat" in text.lower():
            return None, "truncated"
        if isinstance(exc, UnidentifiedImageError):   # its text names an in-memory buffer's address
            return None, "corrupt (not an image Pillow can read)"
        return None, f"corrupt ({text.splitlines()[0][:80]})"
    except Image.DecompressionBombError:
        return None, "decompression bomb (more pixels than Pillow's limit allows; not decoded)"
    except (ValueError, SyntaxError) as exc:
        return None, f"corrupt ({str(exc)[:80]})"
    return min(im.size), ""


PARALLEL_MIN = 4000  # files from which extra processes pay for their start (each opens the source again)


def _chunks(names: list[str], workers: int) -> list[list[str]]:
    """`names` in about 4 chunks per worker, in order."""
    size = max(1, -(-len(names) // (4 * workers)))
    return [names[i:i + size] for i in range(0, len(names), size)]


def _probe_chunk(args: tuple[str, list[str]]) -> list[tuple[int | None, str]]:
    path, names = args
    source = ImageSource(path)
    return [_probe(source, n) for n in names]


def _decode_chunk(args: tuple[str, list[str], int, str]) -> np.ndarray:
    path, names, res, mode = args
    source = ImageSource(path)
    return np.stack([to_square(decode(source.read(n)), res, mode) for n in names])


def _map_chunks(fn, path: str | Path, names: list[str], workers: int, *extra) -> list:
    """fn over `names` in chunks: in `workers` processes for large datasets, else here; results in order."""
    if workers <= 1 or len(names) < PARALLEL_MIN:
        return [fn((str(path), names, *extra))]
    jobs = [(str(path), chunk, *extra) for chunk in _chunks(names, workers)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fn, jobs))


def validate(path: str | Path, resolution: int = 0, mode: str = "crop",
             workers: int = 1) -> tuple[DatasetReport, list[str]]:
    """Check every file (in `workers` processes for large datasets); returns the report and the usable file names."""
    source = ImageSource(path)
    if not source.names:
        raise UserError(f"{path}: no image files (PNG, JPEG, WebP, …) found")
    sides, skipped = {}, []
    probes = [p for part in _map_chunks(_probe_chunk, path, source.names, workers) for p in part]
    for name, (side, reason) in zip(source.names, probes):
        if side is None:
            skipped.append((name, reason))
        else:
            sides[name] = side
    if not sides:
        raise UserError(f"{path}: none of the {len(source.names)} image files could be read")
    res = resolution or choose_resolution(list(sides.values()))
    if res < 8 or res > 1024 or res & (res - 1):
        raise UserError(f"resolution must be a power of two from 8 to 1024, got {res}")
    small = [n for n, s in sides.items() if s < max(4, res // 4)]  # would need more than 4× upscaling
    skipped += [(n, f"too small ({sides[n]} px < {max(4, res // 4)})") for n in small]
    usable = [n for n in source.names if n in sides and n not in small]
    if not usable:
        raise UserError(f"{path}: no image is large enough for {res}² training")
    key, content = (hashlib.sha256(f"{ident}:{res}:{mode}".encode()).hexdigest()[:16]
                    for ident in (source.fingerprint(), source.listing()))
    return DatasetReport(str(path), len(usable), res, tuple(sorted(skipped)), key, content), usable


def cache_dir() -> Path:
    """Where decoded datasets are cached."""
    return cache_root() / "datasets"


def load_images(path: str | Path, resolution: int = 0, mode: str = "crop",
                workers: int = 1) -> tuple[np.ndarray, DatasetReport]:
    """All usable images as uint8 [N, R, R, 3], decoded once (in `workers` processes) and cached on disk."""
    report, names = validate(path, resolution, mode, workers)
    cached = cache_dir() / f"{report.key}.npy"
    if cached.is_file():
        try:
            arr = np.load(cached, allow_pickle=False)
            if arr.shape == (report.count, report.resolution, report.resolution, 3):
                return arr, report
        except (OSError, ValueError):
            pass  # a damaged cache is rebuilt below
    arr = np.concatenate(_map_chunks(_decode_chunk, path, names, workers, report.resolution, mode))
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        np.save(buf, arr, allow_pickle=False)
        atomic_write_bytes(cached, buf.getvalue())
    except OSError:
        pass  # caching is an optimisation only
    return arr, report
