"""Multi-image renders stream one bounded unit at a time, so a large model keeps the viewer responsive."""
import numpy as np
import pytest

from helpers import tiny_generator
from stylegan_studio.engine.contract import messages as m
from stylegan_studio.engine.render import renderer
from stylegan_studio.engine.contract.modelconfig import ModelConfig
from stylegan_studio.engine.render.renderer import mix_ws, render_thumbs, split_mix, unit_images
from stylegan_studio.engine.contract.latents import Latent, NoiseSpec, RenderSettings, ResNoise
from stylegan_studio.engine.render.streams import stream


def test_unit_size_follows_the_model_cost():
    big, small = ModelConfig(resolution=1024), ModelConfig.small(64, 64, 128)
    assert 2e10 < big.image_macs() < 4e10     # official 1024² architecture: about 3·10¹⁰ MACs an image
    assert unit_images(tiny_generator(16), 16) == 16
    G = tiny_generator(16)
    G.cfg = big                                # only the config is read
    assert unit_images(G, 16) == 1
    assert small.image_macs() < big.image_macs() / 100


@pytest.fixture
def one_image_units(monkeypatch):
    """Make every model 'large': one image per stream unit."""
    monkeypatch.setitem(renderer.UNIT_MACS, "cpu", 1)


def test_mix_grid_fills_in_unit_by_unit_and_ends_complete(one_image_units):
    G = tiny_generator(16)
    rows, cols = (Latent(seed=1), Latent(seed=2)), (Latent(seed=3),)
    req = m.RenderMixGrid("x", 1, rows=rows, cols=cols, layers=(0, 1), thumb=None)
    events = list(stream(G, req))
    assert [e.done for e in events] == [1, 2, 3, 4, None]        # rows, column, then cells
    assert events[0].row_images[0].any() and not events[0].col_images.any() and not events[0].cells.any()
    want = split_mix(render_thumbs(G, mix_ws(G, rows, cols, (0, 1), RenderSettings()), RenderSettings(), None), 2, 1)
    for got, ref in zip((events[-1].row_images, events[-1].col_images, events[-1].cells), want):
        assert np.abs(got.astype(int) - ref).max() <= 1


def test_variation_refines_and_strip_streams(one_image_units):
    G = tiny_generator(16)
    settings = RenderSettings(noise=NoiseSpec(ResNoise("random", 1)))
    var = list(stream(G, m.RenderVariation("v", 1, latent=Latent(seed=3), settings=settings, draws=4, seed=2)))
    assert [e.done for e in var] == [1, 2, 3, None] and var[-1].std_map.max() > 0
    strip = list(stream(G, m.RenderTruncationStrip("s", 1, latent=Latent(seed=3), psis=(1.0, 0.0), thumb=8)))
    assert [e.done for e in strip] == [1, None] and strip[-1].images.shape == (2, 8, 8, 3)


def test_viewer_is_served_between_units_of_long_streams(eng, one_image_units):  # noqa: F811
    lats = tuple(Latent(seed=s) for s in range(6))
    eng.submit(m.RenderMixGrid("mix", 1, rows=lats, cols=lats, layers=(0,), thumb=8))      # 48 units
    eng.submit(m.RenderTruncationStrip("strip", 2, latent=lats[0], thumb=8))               # 6 units
    eng.rec.wait(m.MixGridReady, done=1)
    eng.submit(m.RenderImage("viewer", 3, Latent(seed=9)))
    eng.rec.wait(m.FrameReady, stamp=3)
    mix_before_frame = len(eng.rec.of(m.MixGridReady))
    assert mix_before_frame < 10                                  # served long before the grid is done
    eng.rec.wait(m.StripReady, done=None)
    assert len(eng.rec.of(m.MixGridReady)) < 20                   # the two streams take turns
    eng.rec.wait(m.MixGridReady, done=None, timeout=60)


def test_a_half_filled_mixing_grid_renders_its_sources():
    G = tiny_generator(16)
    for rows, cols in (((), (Latent(seed=3),)), ((Latent(seed=1), Latent(seed=2)), ())):
        last = list(stream(G, m.RenderMixGrid("x", 1, rows=rows, cols=cols, layers=(0,), thumb=None)))[-1]
        assert last.done is None and len(last.row_images) == len(rows) and len(last.col_images) == len(cols)
        assert last.cells.shape[:2] == (len(rows), len(cols)) and (last.row_images.any() or last.col_images.any())
