"""The Blend Models dialog in the window: live rows beside both parents, the curve, refusals, Save and open."""
import numpy as np
import pytest

from helpers import tiny_generator
from stylegan_studio.app.panes.registry import Pane
from stylegan_studio.engine.files.modelfile import ModelMeta, read_header, save_model
from stylegan_studio.engine.contract.blend import BlendSpec
from test_app_window import window  # noqa: F401  (the fixture: a window on a real engine and a tiny model)


def image(label) -> np.ndarray:
    qimg = label.pixmap().toImage()
    return np.array(qimg.constBits(), np.uint8).reshape(qimg.height(), qimg.bytesPerLine())


def blend_done(window, qtbot, action):  # noqa: F811
    """Run `action` and return the finished BlendReady it leads to."""
    with qtbot.waitSignal(window.bridge.results("blend"), timeout=30000,
                          check_params_cb=lambda ev: ev.done is None and hasattr(ev, "blend_images")) as sig:
        action()
    return sig.args[0]


def test_the_dialog_blends_live_refuses_in_one_line_and_saves(window, qtbot, tmp_path):  # noqa: F811
    other = tmp_path / "other.safetensors"
    save_model(tiny_generator(16, seed=1), other, ModelMeta(name="finetuned"))
    window.open_blend_dialog()
    dialog = window.blend_dialog
    assert dialog.isVisible() and "Choose a second model" in dialog.message.text()
    assert [dialog.at.itemText(i) for i in range(dialog.at.count())] == ["4²", "8²", "16²"]
    assert dialog.spec() == BlendSpec(16, 1.0)

    first = blend_done(window, qtbot, lambda: dialog.choose_other(str(other)))
    assert first.base_images.shape == (6, 96, 96, 3) and first.other_name == "finetuned"
    views = [image(v) for v in dialog.row_views]
    assert views[0].shape[0] == 96 and not np.array_equal(views[0], views[2])
    assert "finetuned" in dialog.row_labels[2].text() and "16² 90%" in dialog.message.text()
    assert dialog.curve.spec == BlendSpec(16, 1.0) and dialog.curve.resolutions == (4, 8, 16)

    # a hard swap at 16², then at 4² (every layer from the second model, fed the open model's ws)
    dialog.at.setCurrentIndex(2)
    ev = blend_done(window, qtbot, lambda: dialog.width_box.setValue(0))
    assert dialog.curve.spec == BlendSpec(16, 0.0) and ev.weights == ((4, 0.0), (8, 0.0), (16, 1.0))
    ev = blend_done(window, qtbot, lambda: dialog.at.setCurrentIndex(0))
    assert ev.weights == ((4, 1.0), (8, 1.0), (16, 1.0))
    assert not np.array_equal(ev.blend_images, ev.base_images)

    # a model that cannot be blended: one line, the window stays
    big = tmp_path / "big.safetensors"
    save_model(tiny_generator(32), big)
    with qtbot.waitSignal(window.bridge.error, timeout=30000):
        dialog.choose_other(str(big))
    text = dialog.message.text()
    assert text.startswith("Cannot blend: the resolution differs") and "\n" not in text
    assert not dialog.save_btn.isEnabled()              # no blend to save

    # save the blend and open it: its card names both parents
    blend_done(window, qtbot, lambda: dialog.choose_other(str(other)))
    assert dialog.save_btn.isEnabled()
    out = tmp_path / "blend.safetensors"
    with qtbot.waitSignal(window.bridge.model_info, timeout=30000,
                          check_params_cb=lambda info: info.path == str(out)):
        dialog.save(str(out))
    _, card = read_header(out)
    assert card.blend["other"]["name"] == "finetuned" and card.blend["at"] == 4 and card.blend["width"] == 0
    assert card.blend["base"]["path"].endswith("tiny.safetensors")
    assert not dialog.isVisible() and window.state.model.path == str(out)
    assert "Opening the blend blend.safetensors" in window.statusBar().currentMessage() \
        or window.statusBar().currentMessage().startswith("Opened")


def test_before_a_second_model_the_dialog_shows_the_open_models_faces(window, qtbot):  # noqa: F811
    with qtbot.waitSignal(window.bridge.results("blend"), timeout=30000,
                          check_params_cb=lambda ev: ev.start + len(ev.images) == ev.total == 6):
        window.open_blend_dialog()                                          # seeds 0-5 of the open model
    dialog = window.blend_dialog
    assert image(dialog.row_views[0]).shape[0] == 96 and dialog.row_views[0].pixmap().width() == 6 * 96
    assert all((face != 43).any() for face in dialog._row[1])               # every face, no dark placeholder left
    assert dialog.row_views[1].pixmap().isNull() and "Choose a second model" in dialog.message.text()


def test_bad_seeds_say_so_without_rendering(window, qtbot):  # noqa: F811
    window.open_blend_dialog()
    dialog = window.blend_dialog
    dialog.seeds.setText("3-1")
    dialog.request()
    assert "runs backwards" in dialog.message.text()


@pytest.mark.parametrize("width", [0.0, 1.0, 2.5])
def test_the_curve_plot_draws_the_spec(qtbot, width):
    from stylegan_studio.app.dialogs.blend import CurvePlot
    plot = CurvePlot()
    qtbot.addWidget(plot)
    plot.set_curve(BlendSpec(16, width), (4, 8, 16, 32, 64))
    plot.resize(300, 110)
    img = plot.grab().toImage()
    # the curve's blue is in the plot, low at the left end and high at the right end
    blue = [(x, y) for x in range(0, 300, 2) for y in range(110) if img.pixelColor(x, y).name() == "#3d8fd1"]
    assert blue
    left = [y for x, y in blue if x < 60]
    right = [y for x, y in blue if x > 250]
    assert min(left) > max(right)


def test_a_width_drag_shows_the_newest_blend(window, qtbot, tmp_path):  # noqa: F811
    other = tmp_path / "other.safetensors"
    save_model(tiny_generator(16, seed=1), other)
    window.open_blend_dialog()
    dialog = window.blend_dialog
    blend_done(window, qtbot, lambda: dialog.choose_other(str(other)))
    finals = []
    window.bridge.results("blend").connect(lambda ev: ev.done is None and finals.append(ev))
    want = BlendSpec(16, 2.0).weights((4, 8, 16))
    for k in range(1, 9):   # eight values in a row, as a drag sends them; the GUI thread never waits
        dialog.width_box.setValue(k * 0.25)
    qtbot.waitUntil(lambda: bool(finals) and dict(finals[-1].weights) == want, timeout=30000)
    qtbot.wait(300)
    assert dict(finals[-1].weights) == want   # nothing older arrived after it
    assert "16² 75%" in dialog.message.text()


def test_the_rows_follow_the_viewers_psi_not_its_face(window, qtbot, tmp_path):  # noqa: F811
    other = tmp_path / "other.safetensors"
    save_model(tiny_generator(16, seed=1), other)
    window.open_blend_dialog()
    dialog = window.blend_dialog
    before = blend_done(window, qtbot, lambda: dialog.choose_other(str(other)))
    stamps = []
    window.bridge.results("blend").connect(lambda ev: stamps.append(ev.stamp))
    with qtbot.waitSignal(window.bridge.results("viewer"), timeout=20000):
        window.step_seed(1)          # another face in the viewer: the blend rows stay
    qtbot.wait(200)
    assert stamps == []
    after = blend_done(window, qtbot, lambda: window.panes[Pane.TRUNCATION].set_values(0.2, None))
    assert not np.array_equal(after.base_images, before.base_images)
