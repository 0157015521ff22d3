"""A face dataset from the python-avatars package (MIT), rasterised with resvg, deterministic by seed."""
from __future__ import annotations

import io
import json
import multiprocessing
import random
import zipfile
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from pathlib import Path
from typing import Iterator

import numpy as np
import python_avatars as pa
import resvg_py
from PIL import Image

from ..files.fileio import WriteError, commit_temp, describe_os_error, temp_path_for

# The SVG is 264 × 280: we render it to fit the square's height and centre it on its background.
SVG_W, SVG_H = 264, 280


def avatar_attributes(seed: int) -> tuple[dict, object]:
    """(attribute values, Avatar) for one seed: python-avatars' own random choice after random.seed."""
    random.seed(seed)
    avatar = pa.Avatar.random()
    return {k: (v.name if hasattr(v, "name") else str(v)) for k, v in vars(avatar).items()}, avatar


def render_avatar(seed: int, res: int) -> tuple[bytes, dict]:
    """PNG bytes (res × res) and attributes of the avatar for `seed`."""
    attrs, avatar = avatar_attributes(seed)
    # resvg fills the 'circle' style's background black: render transparent, composite ourselves.
    avatar.style = pa.AvatarStyle.TRANSPARENT
    h = res
    w = max(1, round(res * SVG_W / SVG_H))
    png = resvg_py.svg_to_bytes(svg_string=avatar.render(), width=w, height=h)
    face = Image.open(io.BytesIO(bytes(png))).convert("RGBA")
    bg = str(getattr(avatar.background_color, "value", avatar.background_color))
    canvas = Image.new("RGBA", (res, res), bg)
    canvas.alpha_composite(face, ((res - face.width) // 2, 0))
    out = io.BytesIO()
    canvas.convert("RGB").save(out, format="PNG")
    return out.getvalue(), {**attrs, "background_color": bg, "seed": seed}


def _render_chunk(args: tuple[list[int], int]) -> list[tuple[bytes, dict]]:
    seeds, res = args
    return [render_avatar(s, res) for s in seeds]


def avatar_zip_steps(out: str | Path, count: int, res: int, seed: int = 0, workers: int = 2,
                     start_method: str | None = None, poll: float | None = None) -> Iterator[int]:
    """Write `count` avatars (seeds seed … seed+count−1) and attributes.json into a zip, atomically, yielding how
    many are written after each chunk; closed early (a cancelled job), it leaves no file and drops unstarted chunks.

    `start_method` picks how worker processes start ("spawn" from a process running other threads: a forked
    child can inherit a lock held by one of them and hang). With `poll` (seconds) it also yields, the count
    unchanged, whenever the next chunk is not ready by then: a caller that renders between steps (the engine
    thread) waits that long at most, not a whole chunk.
    """
    seeds = list(range(seed, seed + count))
    chunks = [(seeds[i:i + 250], res) for i in range(0, count, 250)]
    tmp = temp_path_for(out)
    attrs, done = [], 0
    context = multiprocessing.get_context(start_method) if start_method else None
    pool = ProcessPoolExecutor(max_workers=max(1, workers), mp_context=context)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
            for future in [pool.submit(_render_chunk, c) for c in chunks]:
                while True:
                    try:
                        chunk = future.result(timeout=poll)
                        break
                    except FuturesTimeout:
                        yield done
                for png, a in chunk:
                    zf.writestr(f"img/{a['seed']:08d}.png", png)
                    attrs.append(a)
                done += len(chunk)
                yield done
            zf.writestr("attributes.json", json.dumps(attrs, indent=0))
    except OSError as exc:  # e.g. the disk filled up while the zip grew
        Path(tmp).unlink(missing_ok=True)
        raise WriteError(f"cannot write {out}: {describe_os_error(exc)}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    commit_temp(tmp, out)


def build_avatar_zip(out: str | Path, count: int, res: int, seed: int = 0, workers: int = 2,
                     progress=None) -> int:
    """Write `count` avatars and attributes.json into a zip (avatar_zip_steps to the end); progress(done, count)."""
    for done in avatar_zip_steps(out, count, res, seed, workers):
        if progress:
            progress(done, count)
    return count


def read_attributes(path: str | Path) -> list[dict]:
    """The attributes.json of an avatar zip."""
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read("attributes.json"))


def as_array(png: bytes) -> np.ndarray:
    """PNG bytes → uint8 [H, W, 3]."""
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
