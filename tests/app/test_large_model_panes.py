"""Panes with a 1024² model (18 layers, 9 resolutions): compact toggles, scrolling noise rows, streamed results."""
import numpy as np
import pytest

from fake_bridge import FakeBridge
from stylegan_studio.app.panes.mixing import MixingPane
from stylegan_studio.app.panes.noise import NoisePane
from stylegan_studio.app.panes.truncation import TruncationPane
from stylegan_studio.app.state import ExploreState
from stylegan_studio.engine.contract import messages as m
from stylegan_studio.engine.contract.latents import Latent
from test_app_panes import empty_mixing_pane

RES = tuple(2 ** (i // 2 + 2) for i in range(18))
INFO = m.ModelInfo(name="big", path="", model_id="x", resolution=1024, num_ws=18, z_dim=512, w_dim=512,
                   layer_resolutions=RES, device="cpu")


@pytest.fixture
def env(qtbot):
    return FakeBridge(), ExploreState()


def test_eighteen_layer_toggles_fit_beside_the_presets(env, qtbot):
    bridge, state = env
    pane = MixingPane(bridge, state)
    qtbot.addWidget(pane)
    state.set_model(INFO)
    assert len(pane.picker.toggles) == 18 and pane.picker.toggles[17].toolTip() == "layer 17 (1024²)"
    assert pane.picker.box.sizeHint().width() < 400 and pane.minimumSizeHint().width() < 900
    assert [i for i, t in enumerate(pane.picker.toggles) if t.isChecked()] == [0, 1, 2, 3]   # coarse


def test_nine_noise_rows_scroll_instead_of_growing_the_window(env, qtbot):
    bridge, state = env
    pane = NoisePane(bridge, state)
    qtbot.addWidget(pane)
    state.set_model(INFO)
    assert sorted(pane.rows) == [4, 8, 16, 32, 64, 128, 256, 512, 1024]
    assert pane.minimumSizeHint().height() < 400


def grid_event(stamp, value, done, rows=2, cols=1):
    img = lambda n: np.full((n, 4, 4, 3), value, np.uint8)  # noqa: E731
    return m.MixGridReady("mixing", stamp, 0.1, row_images=img(rows), col_images=img(cols),
                          cells=img(rows * cols).reshape(rows, cols, 4, 4, 3), done=done)


def test_a_streamed_mixing_grid_fills_in_and_keeps_old_images_until_replaced(env, qtbot):
    bridge, state = env
    pane = empty_mixing_pane(env, qtbot, info=INFO)
    for k in range(2):
        pane.set_source("row", k, Latent(seed=k))
    pane.set_source("col", 0, Latent(seed=9))
    g, s = pane.grid, bridge.next_stamp()   # results of the requests made after the grid was cleared
    bridge.results("mixing").emit(grid_event(s, 10, done=1))
    assert g.ready == 1 and g._real(0, 0) and not g._real(0, 1) and not g._real(2, 0)
    bridge.results("mixing").emit(grid_event(s, 10, done=None))
    assert g.ready is None and g._real(2, 1)
    bridge.results("mixing").emit(grid_event(s + 1, 20, done=3))       # a new grid (ψ changed) streams in
    assert g.ready is None                                     # ... over the complete previous one
    assert g.row_images[1, 0, 0, 0] == 20 and g.col_images[0, 0, 0, 0] == 20 and g.cells[0, 0, 0, 0, 0] == 10


def test_a_streamed_strip_fills_its_first_images(env, qtbot):
    bridge, state = env
    pane = TruncationPane(bridge, state)
    qtbot.addWidget(pane)
    state.set_model(INFO)
    imgs = np.zeros((6, 8, 8, 3), np.uint8)
    bridge.results("truncation-strip").emit(m.StripReady("truncation-strip", 1, 0.1, psis=(1.0,) * 6, images=imgs,
                                                         done=2))
    assert [lab.pixmap().isNull() for lab in pane.strip] == [False, False, True, True, True, True]
