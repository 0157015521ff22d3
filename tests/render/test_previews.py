"""Seed-grid thumbnails of large models may stop at a lower resolution's ToRGB, labelled as previews."""
import numpy as np
import torch

from stylegan_studio.engine.contract import messages as m
from stylegan_studio.engine.contract.modelconfig import ModelConfig
from stylegan_studio.engine.nets.networks import Generator
from stylegan_studio.engine.render import renderer
from stylegan_studio.engine.render.renderer import preview_res, render_thumbs
from stylegan_studio.engine.contract.latents import Latent, RenderSettings
from stylegan_studio.engine.render.streams import stream
from stylegan_studio.engine.render.synth import latents_to_w, styled_ws


def test_preview_resolution_rule():
    assert preview_res(ModelConfig(resolution=1024).resolutions, 64) == 64
    assert preview_res(ModelConfig(resolution=1024).resolutions, 100) == 128
    assert preview_res(ModelConfig(resolution=256).resolutions, 256) is None   # no smaller ToRGB would do
    assert preview_res(ModelConfig(resolution=128).resolutions, 64) is None    # small models render in full
    assert preview_res(ModelConfig(resolution=1024).resolutions, None) is None
    assert preview_res((1024,), 64) is None                                    # one output layer: no previews
    assert ModelConfig(resolution=1024).image_macs(64) < ModelConfig(resolution=1024).image_macs() / 2.5


def _grid(G, seeds):
    req = m.RenderSeedGrid("g", 1, seeds=tuple(seeds), settings=RenderSettings(psi=0.7), thumb=32, chunk=4)
    return list(stream(G, req))


def _thumbs(G, seeds, res):
    ws = styled_ws(G, latents_to_w(G, [Latent(seed=s) for s in seeds]), RenderSettings(psi=0.7))
    return render_thumbs(G, ws, RenderSettings(psi=0.7), 32, res=res)


def test_previews_only_when_the_first_thumbnail_shows_they_match(monkeypatch):
    torch.manual_seed(0)
    G = Generator(ModelConfig.small(256, 16, 16)).eval().requires_grad_(False)
    seeds = list(range(7))
    # Untrained lower ToRGBs do not match the full image: every thumbnail is a full render.
    chunks = _grid(G, seeds)
    assert all(c.preview_res is None for c in chunks)
    for c in chunks:  # oneDNN picks kernels by shape: compare batches of the same make-up
        np.testing.assert_array_equal(c.images, _thumbs(G, seeds[c.start:c.start + len(c.images)], None))
    # When they match, the first thumbnail stays full and the rest are previews at the 32² ToRGB.
    monkeypatch.setattr(renderer, "PREVIEW_MAX_DIFF", 255.0)
    chunks = _grid(G, seeds)
    assert chunks[0].start == 0 and chunks[0].preview_res is None
    assert all(c.preview_res == 32 for c in chunks[1:])
    for c in chunks:
        np.testing.assert_array_equal(c.images, _thumbs(G, seeds[c.start:c.start + len(c.images)], c.preview_res))
    assert sum(len(c.images) for c in chunks) == len(seeds)


def test_the_seeds_pane_labels_preview_thumbnails(qtbot):
    from fake_bridge import FakeBridge
    from stylegan_studio.app.panes.seeds import SeedsPane
    from stylegan_studio.app.state import ExploreState
    bridge = FakeBridge()
    pane = SeedsPane(bridge, ExploreState())
    qtbot.addWidget(pane)
    pane.entry.setText("5-7")
    pane.apply_range()
    req = bridge.last(m.RenderSeedGrid)
    img = np.full((1, 8, 8, 3), 90, np.uint8)
    bridge.results("seeds").emit(m.GridChunk("seeds", req.stamp, 0.1, start=0, images=img, total=3))
    bridge.results("seeds").emit(m.GridChunk("seeds", req.stamp, 0.1, start=1, images=img, total=3, preview_res=64))
    assert pane.grid.item(0).text() == "5" and pane.grid.item(1).text() == "6 preview"
    assert "64×64" in pane.grid.item(1).toolTip() and pane.grid.item(2).text() == "7"
