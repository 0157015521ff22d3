"""The Directions pane: sliders edit the viewer's face on the chosen layers, jobs show progress, Keep drags.

Against a fake bridge (requests and commands recorded), then in the window on a real engine and a tiny model.
"""
import numpy as np
import pytest

from fake_bridge import FakeBridge
from studio_window import start_window, tiny_model
from stylegan_studio.app.dialogs.export_video import ExportVideoDialog
from stylegan_studio.app.panes.directions import DirectionsPane
from stylegan_studio.app.panes.mixing import MixingPane
from stylegan_studio.app.panes.registry import Pane
from stylegan_studio.app.qtutil import latent_from_mime
from stylegan_studio.app.state import ExploreState
from stylegan_studio.engine.contract import messages as m
from stylegan_studio.engine.contract.directions import DirectionSet
from stylegan_studio.engine.contract.latents import Latent, SpecError
from test_app_panes import INFO, drop

DS = DirectionSet(np.eye(16, dtype=np.float32)[:3], ("pc0", "pc1", "pc2"), "pca", (0, 1, 2, 3, 4, 5), "x",
                  np.array([2.0, 1.0, 0.5], np.float32), np.array([0.5, 0.3, 0.1], np.float32), "explained variance")


@pytest.fixture
def pane(qtbot):
    bridge, state = FakeBridge(), ExploreState()
    pane = DirectionsPane(bridge, state)
    qtbot.addWidget(pane)
    state.set_model(INFO)
    bridge.directions_ready.emit(m.DirectionsReady(DS))
    return pane


def test_compute_asks_for_the_chosen_layers(pane):
    pane.picker.preset("middle")
    pane.method.setCurrentIndex(1)
    pane.compute()
    assert pane.bridge.last(m.ComputeDirections) == m.ComputeDirections("sefa", (4, 5), 10)


def test_a_slider_edits_the_face_on_the_chosen_layers(pane):
    state = pane.state
    assert len(pane.sliders) == 3 and state.latent == Latent(seed=0)
    pane.sliders[1].setValue(20)                          # +2σ of pc1 (σ 1)
    edit = state.latent.edit
    assert state.latent.seed == 0 and edit.layers == (0, 1, 2, 3, 4, 5) and edit.label == "pc1 +2σ"
    np.testing.assert_allclose(edit.offset, 2.0 * np.eye(16)[1])
    assert state.direction.name == "pc1" and state.direction.sigma == 1.0
    pane.picker.preset("coarse")
    assert state.latent.edit.layers == (0, 1, 2, 3)
    pane.sliders[0].setValue(-5)                          # two sliders add up
    np.testing.assert_allclose(state.latent.edit.offset, 2.0 * np.eye(16)[1] - 0.5 * 2.0 * np.eye(16)[0])
    pane.reset()
    assert state.latent == Latent(seed=0)


def test_another_face_starts_unedited(pane):
    pane.sliders[0].setValue(10)
    pane.state.set_latent(Latent(seed=9))                 # the Seeds pane chose a face
    assert all(s.value() == 0 for s in pane.sliders) and pane.state.latent == Latent(seed=9)
    pane.sliders[2].setValue(30)
    assert pane.state.latent.seed == 9 and pane.state.latent.edit.label == "pc2 +3σ"


def test_keep_makes_a_face_that_drags_into_the_mixing_grid(pane, qtbot):
    pane.sliders[0].setValue(15)
    edited = pane.state.latent
    pane.keep()
    req = pane.bridge.last(m.RenderImage)
    assert req.latent == edited and req.target == "directions-keep-1"
    pane.bridge.results(req.target).emit(m.FrameReady(req.target, req.stamp, 0.0, image=np.zeros((48, 48, 3),
                                                                                                  np.uint8)))
    item = pane.kept_list.item(0)
    assert not item.icon().isNull()
    mime = pane.kept_list.mimeData([item])
    assert latent_from_mime(mime) == edited
    mixing = MixingPane(pane.bridge, pane.state)
    qtbot.addWidget(mixing)
    mixing.resize(600, 400)
    mixing.clear()
    drop(mixing.grid, mime, mixing.grid.tile // 2, mixing.grid.tile + 5)
    assert mixing.grid.rows == [edited]


def test_job_progress_and_cancel(pane):
    b = pane.bridge
    b.job_started.emit(m.JobStarted(4, "directions", "PCA directions"))
    b.job_progress.emit(m.JobProgress(4, "directions", 500, 2000, "mapped 500 of 2,000 samples"))
    assert not pane.progress.isHidden() and pane.progress.value() == 250 and "mapped" in pane.info.text()
    pane.compute_btn.click()
    assert b.last(m.CancelJob) == m.CancelJob(4)
    b.job_finished.emit(m.JobFinished(4, "directions", "cancelled", "cancelled"))
    assert pane.progress.isHidden() and pane.compute_btn.text() == "Compute"


def test_save_and_open_post_commands(pane, tmp_path):
    pane.save_file(str(tmp_path / "d"))
    assert pane.bridge.last(m.SaveDirections).path.endswith("d.npz")
    pane.open_file(str(tmp_path / "d.npz"))
    assert pane.bridge.last(m.LoadDirections) == m.LoadDirections(str(tmp_path / "d.npz"))


def test_video_dialog_sweeps_the_last_moved_direction(pane, qtbot):
    dialog = ExportVideoDialog(pane.bridge, pane.state)
    qtbot.addWidget(dialog)
    dialog.kind.setCurrentIndex(dialog.kind.findData("direction"))
    pane.state.direction = None
    dialog.start()
    assert "Directions pane" in dialog.message.text()
    pane.picker.preset("middle")
    pane.sliders[2].setValue(5)
    spec = dialog.spec()
    assert spec.kind == "direction" and spec.direction_name == "pc2" and spec.sigma == 0.5
    assert spec.layers == (4, 5) and spec.direction == tuple(np.eye(16)[2])


@pytest.fixture
def window(qtbot, tmp_path):
    win = start_window(qtbot, tmp_path, str(tiny_model(tmp_path)))
    yield win
    win.bridge.close()


def test_in_the_window_a_computed_direction_changes_the_viewer(window, qtbot):
    pane = window.panes[Pane.DIRECTIONS]
    window.docks[Pane.DIRECTIONS].raise_()
    plain = window.viewer.image.copy()
    with qtbot.waitSignal(window.bridge.directions_ready, timeout=60000):
        pane.compute()
    assert len(pane.sliders) == 10 and pane.ds.kind == "pca"
    with qtbot.waitSignal(window.bridge.results("viewer"), timeout=20000):
        pane.sliders[0].setValue(30)
    assert window.state.latent.label() == "seed 0 (pc0 +3σ)"
    qtbot.waitUntil(lambda: not np.array_equal(window.viewer.image, plain), timeout=20000)
    with qtbot.waitSignal(window.bridge.results("viewer"), timeout=20000):
        pane.reset()
    qtbot.waitUntil(lambda: np.array_equal(window.viewer.image, plain), timeout=20000)


def test_another_model_drops_the_viewers_edit_and_says_whose_directions_they_are(window, qtbot, tmp_path):
    from helpers import tiny_generator
    from stylegan_studio.engine.files.modelfile import save_model
    pane = window.panes[Pane.DIRECTIONS]
    with qtbot.waitSignal(window.bridge.directions_ready, timeout=60000):
        pane.compute()
    with qtbot.waitSignal(window.bridge.results("viewer"), timeout=20000):
        pane.sliders[0].setValue(30)
    assert window.state.latent.edit is not None and window.state.direction is not None
    other = tmp_path / "other.safetensors"
    save_model(tiny_generator(16, seed=3), other)         # the same w size: the edit would apply, silently
    with qtbot.waitSignal(window.bridge.model_info, timeout=20000):
        window.bridge.post(m.LoadModel(str(other)))
    assert window.state.latent == Latent(seed=0) and window.state.direction is None
    assert pane.sliders[0].value() == 0 and "(made for another model)" in pane.info.text()


def test_video_dialog_greys_out_what_the_kind_does_not_read(pane, qtbot):
    dialog = ExportVideoDialog(pane.bridge, pane.state)
    qtbot.addWidget(dialog)

    def enabled(kind: str) -> set[str]:
        dialog.kind.setCurrentIndex(dialog.kind.findData(kind))
        return {n for n in ("seeds", "space", "layers", "loop", "travelled") if getattr(dialog, n).isEnabled()}
    assert enabled("walk") == {"seeds", "space", "loop", "travelled"}
    assert enabled("morph") == {"seeds", "space", "layers"}
    assert enabled("direction") == {"seeds", "loop"}     # its layers: the Directions pane's
    assert enabled("truncation") == {"seeds"}
    dialog.layers.setText("no such layers")              # greyed out: not read, so not refused
    assert dialog.spec().kind == "truncation" and dialog.spec().layers == ()
    dialog.travelled.setChecked(True)                    # left checked from a walk: a truncation stays one
    assert dialog.spec().kind == "truncation"
    assert enabled("walk") == {"loop", "travelled"}      # along the path: its points and space, not seeds
    with pytest.raises(SpecError):
        dialog.spec()                                    # nothing travelled yet


def test_relative_output_names_go_to_a_full_path_on_screen(pane, qtbot, tmp_path, monkeypatch):
    from stylegan_studio.app.dialogs.make_avatars import MakeAvatarsDialog
    monkeypatch.chdir(tmp_path)
    dialog = ExportVideoDialog(pane.bridge, pane.state)
    qtbot.addWidget(dialog)
    assert dialog.path.text() == str(tmp_path / "video.mp4")          # not a bare name that lands who knows where
    dialog.path.setText("clips/walk.gif")
    dialog.start()
    assert pane.bridge.last(m.ExportVideo).path == str(tmp_path / "clips" / "walk.gif")
    faces = MakeAvatarsDialog(pane.bridge, 32)
    qtbot.addWidget(faces)
    faces.path.setText(" rel.zip ")
    faces.start()
    assert pane.bridge.last(m.MakeAvatars).path == str(tmp_path / "rel.zip")   # the Dataset field gets this


def test_a_video_is_rendered_with_the_viewers_noise(pane, qtbot):
    from stylegan_studio.engine.contract.latents import NoiseSpec, ResNoise
    dialog = ExportVideoDialog(pane.bridge, pane.state)
    qtbot.addWidget(dialog)
    assert dialog.spec().noise == NoiseSpec()
    pane.state.set_settings(noise=NoiseSpec(ResNoise("zero")))
    assert dialog.spec().noise == NoiseSpec(ResNoise("zero"))
    assert "noise off" in dialog.settings_line.text()           # said in the dialog (the Noise pane's word)
