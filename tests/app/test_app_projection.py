"""Project Image in the window: drop an image, watch the preview, get a favourite that mixes; Cancel; bad files."""
import numpy as np
from PIL import Image
from PySide6.QtCore import QMimeData, QUrl

from stylegan_studio.app.panes.registry import Pane
from stylegan_studio.app.qtutil import latent_to_mime
from stylegan_studio.engine.contract.latents import Latent, RenderSettings
from stylegan_studio.engine.render.synth import render_latents
from helpers import tiny_generator
from test_app_panes import drop
from test_app_window import window  # noqa: F401  (the fixture: a window on a real engine and a tiny model)


def file_mime(path) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    return mime


def test_a_dropped_image_becomes_a_favourite_that_mixes(window, qtbot, tmp_path):  # noqa: F811
    face = render_latents(tiny_generator(16), [Latent(seed=5)], RenderSettings())[0]
    Image.fromarray(face).resize((48, 40)).save(tmp_path / "face.png")
    window.project_dialog.steps.setValue(60)
    with qtbot.waitSignal(window.bridge.projection_done, timeout=60000) as done:
        assert drop(window, file_mime(tmp_path / "face.png"), 50, 50) == (True, True)
    dialog = window.project_dialog
    qtbot.waitUntil(lambda: dialog.job_id == 0, timeout=20000)
    assert not dialog.result_view.pixmap().isNull() and not dialog.target_view.pixmap().isNull()
    assert "favourites" in dialog.message.text() and dialog.progress.value() == 100
    latent = done.args[0].latent
    assert latent.per_layer and latent.w.shape == (6, 16)  # the dialog starts with one style per layer
    favs = window.panes[Pane.SEEDS].favs
    item = favs.item(favs.count() - 1)
    assert item.text() == "projected face" and item.data(256) == latent and not item.icon().isNull()
    assert window.state.latent == latent and window.state.settings.psi == 1.0
    # the favourite drags into the mixing grid like any seed
    pane = window.panes[Pane.MIXING]
    window.docks[Pane.MIXING].raise_()
    pane.clear()
    with qtbot.waitSignal(window.bridge.results("mixing"), timeout=20000):
        drop(pane.grid, favs.mimeData([item]), 5, pane.grid.tile + 5)
        drop(pane.grid, latent_to_mime(Latent(seed=2)), pane.grid.tile + 5, 5)
    qtbot.waitUntil(lambda: pane.grid.cells is not None, timeout=20000)
    assert pane.grid.rows[0] == latent


def test_cancel_and_bad_files_keep_the_window_up(window, qtbot, tmp_path):  # noqa: F811
    Image.new("RGB", (20, 20), (10, 200, 30)).save(tmp_path / "green.png")
    dialog = window.project_dialog
    dialog.steps.setValue(20)
    with qtbot.waitSignal(window.bridge.job_finished, timeout=60000):
        window.project_image(str(tmp_path / "green.png"))
    dialog.steps.setValue(5000)
    with qtbot.waitSignal(window.bridge.projection_preview, timeout=20000):
        dialog.start()
    assert dialog.cancel_btn.text() == "Cancel"
    with qtbot.waitSignal(window.bridge.job_finished, timeout=20000,
                          check_params_cb=lambda ev: ev.kind == "project") as finished:
        dialog.cancel_btn.click()
    assert finished.args[0].status == "cancelled" and dialog.cancel_btn.text() == "Close"
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    with qtbot.waitSignal(window.bridge.job_finished, timeout=20000):
        window.project_image(str(tmp_path / "broken.png"))
    assert "broken.png" in dialog.message.text() and "\n" not in dialog.message.text()
    assert window.isVisible() and dialog.start_btn.isEnabled()
