"""A run's fakes grids, tick after tick, as a video: how the model learned (the classic growing video)."""
from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..contract.errors import UserError
from ..contract.training import holds_run
from ..contract.video import check_format
from ..files.pngio import PngError, read_provenance
from ..render.video import encode
from .state import RunFiles

BATCH = 16  # frames handed to the encoder at once (one job unit)
MIN_WIDTH = 1024  # px: an 8-face grid of 32² or 64² faces is enlarged to this by default


def timelapse_ticks(run_dir: str | Path) -> list[int]:
    """The ticks whose fakes grid the timelapse shows; a UserError for a folder that is no run or has none."""
    if not holds_run(str(run_dir)):
        raise UserError(f"{run_dir}: not a training run folder (no config.json)")
    ticks = RunFiles(Path(run_dir)).fakes_ticks()
    if not ticks:
        raise UserError(f"{run_dir}: the run has no fakes grids yet (one is written every tick)")
    return ticks


def captioned(grid: np.ndarray, text: str) -> np.ndarray:
    """The grid with a dark strip below it saying `text` (e.g. '12.5 kimg')."""
    h, w = grid.shape[:2]
    strip = max(14, w // 30) // 2 * 2  # even: the encoder wants even sizes
    im = Image.new("RGB", (w, h + strip), (24, 24, 24))
    im.paste(Image.fromarray(grid), (0, 0))
    font = ImageFont.load_default(size=round(strip * 0.75))
    ImageDraw.Draw(im).text((4, h + strip // 2), text, fill=(235, 235, 235), font=font, anchor="lm")
    return np.asarray(im)


def caption(tick: int, kimg: float | None) -> str:
    """'tick 12 · 0.75 kimg' (kimg from the grid's provenance; left out when it has none)."""
    if kimg is None:
        return f"tick {tick}"
    return f"tick {tick} · {kimg:,.{1 if kimg >= 10 else 2}f} kimg"


def _kimg(path: Path) -> float | None:
    try:
        k = (read_provenance(path) or {}).get("kimg")
    except (PngError, OSError):
        return None
    return float(k) if isinstance(k, (int, float)) else None


def _frames(files: RunFiles, ticks: list[int], width: int | None) -> Iterator[np.ndarray]:
    """One captioned frame per readable grid, all the size of the first one: `width` px wide, or by default
    enlarged a whole number of times to at least MIN_WIDTH (nearest neighbour: a 64² face stays crisp)."""
    size = None
    for tick in ticks:
        grid = files.read_fakes(tick)
        if grid is None:
            continue
        if size is None:
            h, w = grid.shape[:2]
            scale = width / w if width else math.ceil(MIN_WIDTH / w)
            size = (max(2, round(w * scale / 2) * 2), max(2, round(h * scale / 2) * 2))
        if (grid.shape[1], grid.shape[0]) != size:  # enlarged, or a resumed run's grids of another size
            grid = np.asarray(Image.fromarray(grid).resize(size, Image.NEAREST))
        yield captioned(grid, caption(tick, _kimg(files.fakes_path(tick))))


def timelapse_job(run_dir: str | Path, out_path: str | Path, fps: int = 10, quality: int = 80,
                  width: int | None = None) -> Iterator[tuple[int, int]]:
    """Encode the run's fakes grids into `out_path` (mp4, webm, gif, webp), `width` px wide (None: see _frames);
    yields (frames done, total)."""
    check_format(str(out_path))
    if not 1 <= fps <= 240 or not 0 <= quality <= 100:
        raise UserError("fps must be 1-240 and quality 0-100")
    if width is not None and not 16 <= width <= 8192:
        raise UserError("width must be 16-8192 px")
    ticks = timelapse_ticks(run_dir)
    files = RunFiles(Path(run_dir))
    comment = json.dumps({"app": "stylegan-studio", "timelapse": str(run_dir), "ticks": [ticks[0], ticks[-1]]})
    frames = _frames(files, ticks, width)
    first = next(frames, None)
    if first is None:
        raise UserError(f"{run_dir}: none of the run's {len(ticks)} fakes grids could be read")
    batches = (np.stack(b) for b in _chunks(itertools.chain([first], frames), BATCH))
    for done in encode(batches, out_path, fps, quality, comment):
        yield done, len(ticks)


def _chunks(frames: Iterator[np.ndarray], n: int) -> Iterator[list[np.ndarray]]:
    batch: list[np.ndarray] = []
    for f in frames:
        batch.append(f)
        if len(batch) == n:
            yield batch
            batch = []
    if batch:
        yield batch
