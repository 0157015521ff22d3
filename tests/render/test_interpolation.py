"""The interpolation strip: a render kind added through the contract, one renderer and one pane."""
import numpy as np
import pytest

from fake_bridge import FakeBridge
from helpers import tiny_generator
from stylegan_studio.app.panes.interpolation import InterpolationPane
from stylegan_studio.app.state import ExploreState
from stylegan_studio.engine.contract import messages as m
from stylegan_studio.engine.contract.latents import Edit, Latent, RenderSettings, SpecError
from stylegan_studio.engine.contract.requests import RenderImage, RenderInterpolation
from stylegan_studio.engine.render import exports
from stylegan_studio.engine.render.streams import stream

W = np.linspace(-1, 1, 16).astype(np.float32)


def test_the_strip_runs_from_one_face_to_the_other_in_w():
    G = tiny_generator(16)
    settings = RenderSettings(psi=0.6)
    start, end = Latent(seed=3, edit=Edit(tuple(W.tolist()), (0, 1), "x")), Latent(seed=8)
    req = RenderInterpolation("i", 1, start=start, end=end, steps=5, settings=settings, thumb=None)
    events = list(stream(G, req))
    strip = events[-1]
    assert isinstance(strip, m.InterpolationReady) and strip.done is None and strip.images.shape == (5, 16, 16, 3)
    for k, face in ((0, start), (-1, end)):  # the ends are the faces the viewer shows for them
        viewer = list(stream(G, RenderImage("v", 1, latent=face, settings=settings)))[0].image
        assert np.abs(strip.images[k].astype(int) - viewer).max() <= 1
    assert not np.array_equal(strip.images[2], strip.images[0]) and not np.array_equal(strip.images[2], strip.images[-1])
    still = exports.interpolation(G, req)            # the still: the same faces side by side
    assert still.shape == (16, 5 * 16 + 4 * 2, 3)


@pytest.mark.parametrize("steps", [1, 65, 2.5, True])
def test_a_strip_needs_2_to_64_steps(steps):
    with pytest.raises(SpecError, match="2 to 64 steps"):
        RenderInterpolation(start=Latent(seed=1), end=Latent(seed=2), steps=steps)


def test_a_face_the_model_cannot_use_is_one_line():
    from stylegan_studio.engine.contract.errors import UserError
    with pytest.raises(UserError, match="custom w has 3 values"):
        list(stream(tiny_generator(16), RenderInterpolation(start=Latent(seed=1), end=Latent(w=np.zeros(3)))))


def test_the_pane_asks_for_the_strip_and_saves_the_same_request(qtbot):
    bridge, state = FakeBridge(), ExploreState()
    pane = InterpolationPane(bridge, state)
    qtbot.addWidget(pane)
    pane.show()
    state.set_model(m.ModelInfo(name="t", path="", model_id="x", resolution=16, num_ws=6, z_dim=16, w_dim=16,
                                layer_resolutions=(4, 4, 8, 8, 16, 16), device="cpu"))
    state.set_latent(Latent(seed=4))
    pane.to_seed.setValue(9)
    pane.steps.setValue(5)
    req = bridge.last(RenderInterpolation)
    assert (req.start, req.end, req.steps, req.thumb) == (Latent(seed=4), Latent(seed=9), 5, 64)
    assert len(pane.cells) == 5 and "seed 4" in pane.note.text()
    images = np.full((5, 8, 8, 3), 90, np.uint8)
    bridge.results("interpolation").emit(m.InterpolationReady("interpolation", req.stamp, 0.01, images=images, done=2))
    assert not pane.cells[1].pixmap().isNull() and pane.cells[2].pixmap().isNull()
    pane.save_strip("strip.png")
    cmd = bridge.last(m.ExportStill)
    assert cmd.path == "strip.png" and cmd.request == RenderInterpolation(
        "interpolation", 0, start=Latent(seed=4), end=Latent(seed=9), steps=5, settings=state.settings, thumb=None)


def test_the_strip_is_not_rendered_while_its_tab_is_behind_another(qtbot):
    # isVisible() stays True for a dock tabbed behind another, so the pane follows its dock's visibility.
    bridge, state = FakeBridge(), ExploreState()
    pane = InterpolationPane(bridge, state)
    qtbot.addWidget(pane)
    pane.show()
    pane.set_shown(False)
    state.set_model(m.ModelInfo(name="t", path="", model_id="x", resolution=16, num_ws=6, z_dim=16, w_dim=16,
                                layer_resolutions=(4, 4, 8, 8, 16, 16), device="cpu"))
    state.set_latent(Latent(seed=4))
    assert bridge.last(RenderInterpolation) is None
    pane.set_shown(True)
    assert bridge.last(RenderInterpolation).start == Latent(seed=4)
