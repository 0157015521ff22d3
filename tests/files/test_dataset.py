"""Datasets: avatar builder determinism, crop/pad, decoded cache."""
import zipfile

import numpy as np
import pytest
from PIL import Image

from stylegan_studio.engine.files import dataset
from stylegan_studio.engine.train.avatars import as_array, build_avatar_zip, read_attributes, render_avatar


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("STYLEGAN_STUDIO_CACHE", str(tmp_path / "cache"))


def test_avatar_zip_is_deterministic_with_attributes(tmp_path):
    a, b = tmp_path / "a.zip", tmp_path / "b.zip"
    build_avatar_zip(a, 6, 32, seed=5, workers=1)
    build_avatar_zip(b, 6, 32, seed=5, workers=1)
    with zipfile.ZipFile(a) as za, zipfile.ZipFile(b) as zb:
        names = sorted(n for n in za.namelist() if n.endswith(".png"))
        assert len(names) == 6
        assert all(za.read(n) == zb.read(n) for n in names)
        imgs = [as_array(za.read(n)) for n in names]
    attrs = read_attributes(a)
    assert [x["seed"] for x in attrs] == list(range(5, 11))
    assert {"background_color", "top", "skin_color"} <= set(attrs[0])
    assert imgs[0].shape == (32, 32, 3)
    assert any(not np.array_equal(imgs[0], im) for im in imgs[1:])  # seeds give different faces
    # The corners show the composited background colour, not black (resvg's circle-style pitfall).
    bg = attrs[0]["background_color"].lstrip("#")
    assert tuple(imgs[0][0, 0]) == tuple(int(bg[i:i + 2], 16) for i in (0, 2, 4))


def test_avatar_steps_with_a_poll_hand_back_control_while_a_chunk_renders(tmp_path):
    # the engine thread renders between steps: a step waits at most `poll`, so some steps repeat the count
    from stylegan_studio.engine.train.avatars import avatar_zip_steps
    out = tmp_path / "a.zip"
    steps = list(avatar_zip_steps(out, 260, 16, seed=5, workers=1, poll=0.001))
    assert steps[-1] == 260 and 250 in steps and steps.count(0) > 1 and steps == sorted(steps)
    assert len(read_attributes(out)) == 260
    assert list(avatar_zip_steps(tmp_path / "b.zip", 260, 16, seed=5, workers=1)) == [250, 260]  # no poll: per chunk
    with zipfile.ZipFile(out) as za, zipfile.ZipFile(tmp_path / "b.zip") as zb:   # the same faces either way
        assert za.namelist() == zb.namelist() and all(za.read(n) == zb.read(n) for n in za.namelist())


def test_render_avatar_other_seed_differs():
    assert render_avatar(1, 16)[0] != render_avatar(2, 16)[0]


def test_crop_and_pad_make_squares():
    im = Image.fromarray(np.tile(np.arange(60, dtype=np.uint8)[None, :, None], (30, 1, 3)))  # 60 wide, 30 high
    crop = dataset.to_square(im, 16, "crop")
    pad = dataset.to_square(im, 16, "pad")
    assert crop.shape == pad.shape == (16, 16, 3)
    assert crop[8, 0, 0] > 10  # the centre crop drops the dark left edge
    assert (pad[0] == pad[0, 0]).all() and not (pad[8] == pad[8, 0]).all()  # padded rows above the image


def test_decoded_images_are_cached(tmp_path):
    root = tmp_path / "imgs"
    root.mkdir()
    for i in range(5):
        Image.new("RGB", (20, 20), (i * 40, 10, 200)).save(root / f"{i}.png")
    arr, report = dataset.load_images(root, 16)
    assert arr.shape == (5, 16, 16, 3) and report.count == 5 and report.resolution == 16
    cached = dataset.cache_dir() / f"{report.key}.npy"
    assert cached.is_file()
    np.save(cached, arr[::-1].copy())  # the second load must come from the cache file
    again, _ = dataset.load_images(root, 16)
    assert np.array_equal(again, arr[::-1])
