"""The window's side of StyleGAN2-ADA / StyleGAN3 models, against a fake bridge: the class picker, the mixing
grid's layers, the Noise pane without noise inputs, the input's translate / rotate, opening .pkl files."""
import dataclasses

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QTabBar

from fake_bridge import FakeBridge
from stylegan_studio.app.panes.layers import LayersPane
from stylegan_studio.app.panes.mixing import MixingPane
from stylegan_studio.app.panes.noise import NoisePane
from stylegan_studio.app.panes.seeds import SeedsPane
from stylegan_studio.app.panes.truncation import TruncationPane
from stylegan_studio.app.qtutil import latent_from_mime, latent_to_mime
from stylegan_studio.app.state import ExploreState
from stylegan_studio.app.window import MODEL_FILTER, START_SIZE, MainWindow, is_model_path
from stylegan_studio.engine.contract import messages as m
from stylegan_studio.engine.contract.latents import Latent, layer_ranges
from test_app_panes import drop

# A StyleGAN2-ADA model at 64² with 4 classes (one ws per conv and the last ToRGB: 2 per resolution from 8²).
V2_RES = (4, 4, 8, 8, 16, 16, 32, 32, 64, 64)
V2_COND = m.ModelInfo(name="sg2ada_cond", path="", model_id="c", resolution=64, num_ws=10, z_dim=32, w_dim=32,
                      layer_resolutions=V2_RES, noise_resolutions=(4, 8, 8, 16, 16, 32, 32, 64, 64), device="cpu",
                      arch="stylegan2", c_dim=4, can_train=False)
V2_UNCOND = m.ModelInfo(name="sg2ada_uncond", path="", model_id="u", resolution=32, num_ws=8, z_dim=24, w_dim=32,
                        layer_resolutions=V2_RES[:8], noise_resolutions=(4, 8, 8, 16, 16, 32, 32), device="cpu",
                        arch="stylegan2", can_train=False)
# A StyleGAN3 'T' model: ws 0 feeds the input, ws i+1 layer L_i; labelled with the layers' sizes; no noise inputs.
V3_LABELS = ("in 36²", "L0 36²", "L1 36²", "L2 52²", "L3 52²", "L4 84²", "L5 84²", "L6 64²", "L7 64²")
V3 = m.ModelInfo(name="sg3_t", path="", model_id="t", resolution=64, num_ws=9, z_dim=32, w_dim=32,
                 layer_resolutions=(4, 4, 8, 8, 16, 16, 32, 64, 64), layer_labels=V3_LABELS, noise_resolutions=(),
                 device="cpu", arch="stylegan3", has_input_transform=True, can_train=False,
                 source_note="the embedded source of G_ema differs from NVIDIA's released code; it was not run")


@pytest.fixture
def env(qtbot):
    return FakeBridge(), ExploreState()


def test_the_class_picker_shows_for_a_conditional_model_and_the_seeds_and_viewer_follow_it(env, qtbot):
    bridge, state = env
    pane = SeedsPane(bridge, state)
    qtbot.addWidget(pane)
    pane.show()
    state.set_model(V2_UNCOND)
    assert not pane.class_box.isVisible() and bridge.last(m.RenderSeedGrid).c is None
    state.set_model(V2_COND)
    assert pane.class_box.isVisible() and pane.class_box.maximum() == 3 and state.latent == Latent(seed=0, c=0)
    pane.class_box.setValue(2)
    grid = bridge.last(m.RenderSeedGrid)
    assert grid.c == 2 and grid.latents()[0] == Latent(seed=0, c=2)
    assert pane.grid.item(5).data(Qt.ItemDataRole.UserRole) == Latent(seed=5, c=2)
    assert state.latent == Latent(seed=0, c=2) and "class 2" in state.describe()
    dragged = latent_from_mime(pane.grid.mimeData([pane.grid.item(5)]))
    assert dragged == Latent(seed=5, c=2)
    state.set_model(V2_UNCOND)  # back to an unconditional model: no class anywhere
    assert not pane.class_box.isVisible() and state.latent == Latent(seed=0) and bridge.last(m.RenderSeedGrid).c is None


def test_a_dragged_face_keeps_its_class_in_the_mixing_grid(env, qtbot):
    bridge, state = env
    pane = MixingPane(bridge, state)
    qtbot.addWidget(pane)
    pane.resize(900, 500)
    pane.show()
    state.set_model(V2_COND)
    assert all(lat.c == 0 for lat in pane.grid.rows + pane.grid.cols)  # the pre-filled faces take the class
    pane.clear()
    state.set_class(3)
    drop(pane.grid, latent_to_mime(Latent(seed=7, c=1)), 5, pane.grid.tile + 5)
    drop(pane.grid, latent_to_mime(Latent(seed=9)), pane.grid.tile + 5, 5)   # e.g. a seed without a class
    req = bridge.last(m.RenderMixGrid)
    assert req.rows == (Latent(seed=7, c=1),) and req.cols == (Latent(seed=9, c=3),)
    state.set_model(V2_UNCOND)
    assert pane.grid.rows == [Latent(seed=7)] and pane.grid.cols == [Latent(seed=9)]


def test_mime_without_a_valid_class_is_refused():
    mime = latent_to_mime(Latent(seed=3, c=2))
    assert latent_from_mime(mime) == Latent(seed=3, c=2)
    bad = QMimeData()
    bad.setData("application/x-stylegan-studio-latent", b'{"seed": 3, "c": -1}')
    assert latent_from_mime(bad) is None


def headers(picker) -> list[str]:
    """The texts over the layer toggles (the picker grid's first row), left to right."""
    box = picker.box
    return [box.itemAt(k).widget().text() for k in range(box.count()) if box.getItemPosition(k)[0] == 0]


def test_the_mixing_grid_works_by_ws_index_with_the_models_labels(env, qtbot):
    bridge, state = env
    pane = MixingPane(bridge, state)
    qtbot.addWidget(pane)
    state.set_model(V3)
    picker = pane.picker
    assert len(picker.toggles) == 9
    assert headers(picker) == ["36²", "52²", "84²", "64²"]   # one header per run of equal sizes; the layer's name in its tooltip
    for name in ("coarse", "middle", "fine"):
        picker.preset(name)
        assert bridge.last(m.RenderMixGrid).layers == layer_ranges(V3.layer_resolutions)[name]
    assert bridge.last(m.RenderMixGrid).layers == (7, 8)
    assert picker.toggles[4].toolTip() == "layer 4 (L3 52²)"
    small = m.ModelInfo(**{**V2_UNCOND.__dict__, "layer_resolutions": (16, 16, 32, 32)})  # no coarse layer
    state.set_model(small)
    assert not picker.buttons["coarse"].isEnabled() and picker.buttons["middle"].isEnabled()
    state.set_model(V2_COND)  # per resolution on v2: one label over each pair
    assert headers(picker) == ["4²", "8²", "16²", "32²", "64²"] and len(picker.toggles) == 10
    picker.preset("coarse")
    assert bridge.last(m.RenderMixGrid).layers == (0, 1, 2, 3)


def test_the_noise_pane_says_when_a_model_has_no_noise_inputs_and_disables_itself(env, qtbot):
    bridge, state = env
    pane = NoisePane(bridge, state)
    qtbot.addWidget(pane)
    pane.show()
    state.set_model(V2_COND)
    assert sorted(pane.rows) == [4, 8, 16, 32, 64] and pane.controls.isEnabled() and not pane.none_note.isVisible()
    pane.resample(64)
    assert state.settings.noise.at(64).mode == "random"
    pane.animate.setChecked(True)
    state.set_model(V3)
    assert not pane.controls.isEnabled() and pane.none_note.isVisible() and "no noise inputs" in pane.none_note.text()
    assert not pane.rows and not pane.timer.isActive()
    with qtbot.waitSignal(pane.status) as sig:
        pane.resample_group("fine")
    assert "no noise" in sig.args[0]
    assert "noise" not in state.describe()


def test_the_layers_pane_says_when_a_model_lists_no_layers(env, qtbot):
    bridge, state = env
    pane = LayersPane(bridge, state)
    qtbot.addWidget(pane)
    pane.show()
    state.set_model(m.ModelInfo(**{**V2_UNCOND.__dict__, "feature_layers": (("4x4/conv1", 4, 32),)}))
    assert pane.layers.count() == 1 and pane.layers.isEnabled() and not pane.none_note.isVisible()
    state.set_model(V3)
    assert pane.layers.count() == 0 and not pane.layers.isEnabled() and pane.none_note.isVisible()


def test_translate_and_rotate_show_for_a_fourier_input_and_re_render(env, qtbot):
    bridge, state = env
    pane = TruncationPane(bridge, state)
    qtbot.addWidget(pane)
    pane.show()
    state.set_model(V2_COND)
    assert not pane.transform_box.isVisible()
    state.set_model(V3)
    assert pane.transform_box.isVisible()
    changes = []
    state.changed.connect(lambda: changes.append(state.settings))
    pane.move_x.setValue(25)
    pane.move_y.setValue(-10)
    pane.rotate.setValue(30)
    assert state.settings.translate == (0.25, -0.1) and state.settings.rotate == 30.0 and len(changes) == 3
    assert [lab.text() for lab in pane.transform_labels] == ["+0.25", "-0.10", "+30°"]
    assert "rotated +30°" in state.describe()
    pane.set_transform((0.0, 0.0), 0.0)
    assert not state.settings.transformed and len(changes) == 4
    pane.rotate.setValue(-45)
    state.set_model(V2_COND)  # a model without a Fourier input cannot be moved: the transform resets
    assert not state.settings.transformed and pane.rotate.value() == 0 and not pane.transform_box.isVisible()


@pytest.fixture
def window(qtbot, tmp_path):
    bridge = FakeBridge()
    win = MainWindow(bridge, QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    return win


def test_the_window_opens_nvidia_pickles_and_shows_their_source_note(window, tmp_path):
    assert "*.pkl" in MODEL_FILTER.split(";;")[0] and is_model_path("ffhq.PKL")
    pkl = tmp_path / "stylegan3-t-ffhq.pkl"
    pkl.write_bytes(b"not read by the window")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(pkl))])
    enter = QDragEnterEvent(QPoint(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(window, QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime,
                                              Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier))
    assert window.bridge.last(m.LoadModel).path == str(pkl)
    assert "converted the first time" in window.statusBar().currentMessage()
    window.bridge.model_info.emit(m.ModelInfo(**{**V3.__dict__, "path": str(pkl), "notice": "Converted once"}))
    assert "StyleGAN3" in window.model_label.text() and "source differs" in window.model_label.text()
    assert window.model_label.toolTip() == V3.source_note
    assert window.statusBar().currentMessage() == f"Converted once · {V3.source_note}"
    assert window.qsettings.value("recent", [], type=list)[0] == str(pkl)
    assert [a.text() for a in window.recent_menu.actions()] == [pkl.name, "", "Clear Recent Models"]


def test_a_recent_model_that_is_gone_is_greyed_out_and_the_list_can_be_cleared(window, tmp_path):
    gone = tmp_path / "moved.safetensors"
    window.remember(recent=[str(gone)])
    window.recent_menu.aboutToShow.emit()                     # as the menu opens
    first = window.recent_menu.actions()[0]
    assert first.text() == "moved.safetensors (not found)" and not first.isEnabled() and first.toolTip() == str(gone)
    window.recent_menu.actions()[-1].trigger()                # Clear Recent Models
    assert window.recent_menu.actions() == [] and window.qsettings.value("recent", [], type=list) == []


def test_the_class_and_the_input_transform_travel_into_save_image(window, tmp_path):
    window.bridge.model_info.emit(V3)
    window.panes["truncation"].rotate.setValue(12)
    window.panes["truncation"].move_x.setValue(-5)
    window.save_image(str(tmp_path / "moved.png"))
    still = window.bridge.last(m.ExportStill)
    assert still.request.settings.rotate == 12.0 and still.request.settings.translate == (-0.05, 0.0)
    window.bridge.model_info.emit(V2_COND)
    window.panes["seeds"].class_box.setValue(3)
    window.step_seed(4)
    assert window.state.latent == Latent(seed=4, c=3)
    window.save_image(str(tmp_path / "class.png"))
    assert window.bridge.last(m.ExportStill).request.latent == Latent(seed=4, c=3)
    window.export_figure("uncurated", str(tmp_path / "fig.png"))
    assert window.bridge.last(m.ExportStill).request.c == 3
    assert window.project_dialog.options().c == 3
    assert window.bridge.last(m.RenderImage).latent == Latent(seed=4, c=3)   # the viewer renders in that class


def test_a_saved_face_opened_again_brings_its_class_to_the_seeds_pane(window):
    from stylegan_studio.app import restore
    window.bridge.model_info.emit(V2_COND)
    restore._face(window, m.RenderImage(latent=Latent(seed=5, c=2)))
    assert window.panes["seeds"].class_box.value() == 2 and window.state.latent == Latent(seed=5, c=2)
    window.step_seed(1)
    assert window.state.latent == Latent(seed=6, c=2)          # the next seed stays in the face's class


def test_the_side_docks_tabs_show_their_full_names(window, qtbot):
    window.resize(*START_SIZE)   # the first launch's size on a screen that has it
    window.show()
    qtbot.waitExposed(window)
    bar = next(tb for tb in window.findChildren(QTabBar) if tb.isVisible() and tb.count() >= 5)
    assert bar.width() >= sum(bar.tabSizeHint(i).width() for i in range(bar.count()))


def test_the_status_bar_says_when_a_snapshot_was_taken_while_growing(window):
    v1 = m.ModelInfo(name="run-000003", path="", model_id="g", resolution=64, num_ws=10, z_dim=32, w_dim=32,
                     layer_resolutions=V2_RES, device="cpu")
    window.bridge.model_info.emit(dataclasses.replace(v1, grown_res=16, grown_alpha=0.5))
    assert "64² (grown to 16², fading in 0.50)" in window.model_label.text()
    window.bridge.model_info.emit(dataclasses.replace(v1, grown_res=32))
    assert "64² (grown to 32²) ·" in window.model_label.text()
    window.bridge.model_info.emit(v1)
    assert "grown" not in window.model_label.text()


def test_the_studio_reopens_the_last_model_or_falls_back_to_the_bundled_one(window, tmp_path):
    from stylegan_studio.app.bridge import bundled_model_path
    from stylegan_studio.app.window import last_model
    kept = tmp_path / "mine.safetensors"
    kept.write_bytes(b"x")
    window.remember(recent=[str(tmp_path / "gone.safetensors"), str(kept)])
    assert last_model(window.qsettings) == str(kept)           # the newest entry still there
    window.remember(recent=[])
    assert last_model(window.qsettings) is None               # a first launch: the bundled model
    # the last model no longer opens (damaged since): the bundled one, not an empty window
    window.bridge.error.emit(m.ErrorEvent("mine.safetensors: damaged", m.LoadModel(str(kept))))
    assert window.bridge.last(m.LoadModel) == m.LoadModel(str(bundled_model_path()))
    assert window.statusBar().currentMessage() == ("Could not open mine.safetensors (mine.safetensors: damaged): "
                                                   "showing the bundled model")
    window.bridge.model_info.emit(V2_COND)                    # a model is open: a failed open keeps it, as before
    n = len(window.bridge.commands)
    window.bridge.error.emit(m.ErrorEvent("other: damaged", m.LoadModel(str(tmp_path / "other.safetensors"))))
    assert len(window.bridge.commands) == n
