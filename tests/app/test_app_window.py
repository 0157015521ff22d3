"""The window on a real engine and a tiny model: images, seed grid, mixing drops, noise, ψ, save, training."""
import numpy as np
import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QAction, QImage

from studio_window import start_window, tiny_model
from stylegan_studio.app.panes.registry import Pane
from stylegan_studio.app.qtutil import latent_to_mime
from stylegan_studio.app.window import START_SIZE
from PIL import Image

from stylegan_studio.engine.cli.main import main
from stylegan_studio.engine.files.pngio import read_provenance
from stylegan_studio.engine.contract.latents import Latent
from test_app_panes import drop
from helpers import make_folder


@pytest.fixture
def window(qtbot, tmp_path):
    win = start_window(qtbot, tmp_path, str(tiny_model(tmp_path)))
    yield win
    win.bridge.close()


def frame(qtbot, win, action):
    """Run `action` and return the next viewer image."""
    with qtbot.waitSignal(win.bridge.results("viewer"), timeout=20000,
                          check_params_cb=lambda ev: ev.target == "viewer") as sig:
        action()
    return sig.args[0].image


def test_opens_on_a_model_and_shows_an_image(window):
    assert window.viewer.image is not None and window.viewer.image.shape == (16, 16, 3)
    assert "tiny" in window.model_label.text() and "16²" in window.model_label.text()
    assert "seed 0" in window.viewer.info.text()
    assert window.windowTitle() == "tiny — StyleGAN Studio"


def test_copy_image_puts_the_face_on_screen_on_the_clipboard(window, qtbot):
    from PySide6.QtGui import QKeySequence
    from PySide6.QtWidgets import QApplication
    qtbot.waitUntil(lambda: window.state.frame is not None, timeout=20000)
    QApplication.clipboard().clear()
    copy = next(a for a in window.findChildren(QAction) if a.text() == "Copy Image")
    assert copy.shortcut() == QKeySequence(QKeySequence.StandardKey.Copy)
    copy.trigger()
    got = QApplication.clipboard().image().convertToFormat(QImage.Format.Format_RGB888)
    assert (got.width(), got.height()) == (16, 16)      # the model's own pixels, not the enlarged view
    pixels = np.frombuffer(got.constBits(), np.uint8).reshape(16, got.bytesPerLine())[:, :48].reshape(16, 16, 3)
    assert np.array_equal(pixels, window.state.frame[1])
    assert "Copied the 16×16 image (seed 0 · ψ" in window.statusBar().currentMessage()


def test_seed_grid_fills(window, qtbot):
    pane = window.panes[Pane.SEEDS]
    pane.entry.setText("0-9")
    pane.apply_range()
    qtbot.waitUntil(lambda: all(not pane.grid.item(i).icon().isNull() and pane.grid.item(i).icon().cacheKey()
                                != pane.grid.blank.cacheKey() for i in range(10)), timeout=20000)


def test_mixing_drop_and_layer_toggle(window, qtbot):
    pane = window.panes[Pane.MIXING]
    window.docks[Pane.MIXING].raise_()
    pane.clear()
    with qtbot.waitSignal(window.bridge.results("mixing"), timeout=20000):
        drop(pane.grid, latent_to_mime(Latent(seed=1)), 5, pane.grid.tile + 5)
        drop(pane.grid, latent_to_mime(Latent(seed=2)), pane.grid.tile + 5, 5)
    qtbot.waitUntil(lambda: pane.grid.cells is not None and pane.grid.cells.shape[:2] == (1, 1), timeout=20000)
    assert pane.grid.rows == [Latent(seed=1)] and pane.grid.cols == [Latent(seed=2)]
    before = pane.grid.cells.copy()
    with qtbot.waitSignal(window.bridge.results("mixing"), timeout=20000):
        pane.picker.preset("fine")
    assert not np.array_equal(before, pane.grid.cells)


def test_window_fits_1280x720_and_never_grows_by_itself(window, qtbot):
    hint = window.minimumSizeHint()
    assert hint.width() <= 1280 and hint.height() <= 720 - 40  # 40 px: a title bar
    window.resize(1280, 720)
    qtbot.waitUntil(lambda: window.size().width() == 1280 and window.size().height() == 720, timeout=5000)
    noise = window.panes[Pane.NOISE]
    top = max(noise.rows)
    noise.rows[top][0].setCurrentIndex(1)   # Resampled
    noise.rows[top][1].setValue(150)
    noise.animate.setChecked(True)          # the caption lists every resolution's fresh noise seed
    qtbot.waitUntil(lambda: len(window.viewer.info.full) > 80, timeout=20000)
    qtbot.wait(500)
    noise.animate.setChecked(False)
    assert window.size().width() == 1280 and window.size().height() == 720
    assert window.minimumSizeHint().width() <= 1280
    for name, dock in window.docks.items():   # squeezed panes scroll instead of overlapping their widgets
        pane = window.panes[name]
        if dock.isVisible() and not pane.visibleRegion().isEmpty():
            assert pane.width() >= pane.minimumSizeHint().width(), name
            assert pane.height() >= pane.minimumSizeHint().height(), name


def test_the_training_pane_fits_the_default_bottom_dock_without_scrolling(window, qtbot):
    # Word-wrapped labels made the dock's scroll area size the pane to its preferred height (530 px for ~300):
    # the Start button was below the fold of the first-launch window.
    window.resize(*START_SIZE)
    dock = window.docks[Pane.TRAINING]
    dock.raise_()
    scroll, pane = dock.widget(), window.panes[Pane.TRAINING]
    holder = scroll.widget()
    need = holder.heightForWidth(START_SIZE[0])        # what the scroll area gives the pane at that width
    assert need <= START_SIZE[1] * 2 // 5 - 40          # the first-launch bottom dock, less its title and tabs
    window.resizeDocks([dock], [need + 60], Qt.Orientation.Vertical)
    qtbot.waitUntil(lambda: scroll.viewport().height() >= holder.heightForWidth(scroll.viewport().width())
                    and holder.height() == scroll.viewport().height(), timeout=5000)
    assert scroll.verticalScrollBar().maximum() == 0
    for w in (pane.buttons["Start"], pane.readout, pane.plot):   # wholly inside the dock's visible part
        assert scroll.viewport().rect().contains(QRect(w.mapTo(scroll.viewport(), QPoint(0, 0)), w.size())), w
    # A summary wrapped over three lines: the pane grows by its lines (scrolling if need be), nothing overlaps.
    pane.summary.setText("100000 images at 32², 0 skipped — the run is already at its length (20 kimg): give a "
                         "longer length (--kimg, or Length in the Training pane) to go on")
    settings = pane.form.parentWidget().parentWidget()   # the settings list's scroll area
    column = (pane.summary, settings, pane.schedule, pane.buttons["Start"], pane.readout)

    def stacked() -> bool:
        spans = [(w.mapTo(pane, QPoint(0, 0)).y(), w.height()) for w in column]
        return all(top + height <= next_top for (top, height), (next_top, _) in zip(spans, spans[1:]))
    qtbot.waitUntil(lambda: holder.heightForWidth(holder.width()) >= need + 20 and stacked(), timeout=5000)
    window.resizeDocks([window.docks[Pane.TRAINING]], [150], Qt.Orientation.Vertical)   # below its minimum: it scrolls
    qtbot.waitUntil(lambda: scroll.verticalScrollBar().maximum() > 100 and stacked(), timeout=5000)


def test_a_half_filled_mixing_grid_shows_its_faces_without_an_error(window, qtbot):
    pane = window.panes[Pane.MIXING]
    pane.clear()
    with qtbot.waitSignal(window.bridge.results("mixing"), timeout=20000,
                          check_params_cb=lambda ev: ev.done is None and len(ev.col_images) == 1):
        pane.set_source("col", 0, Latent(seed=4))
    qtbot.waitUntil(lambda: pane.grid.col_images is not None and pane.grid.col_images[0].any(), timeout=5000)
    assert "needs at least" not in window.statusBar().currentMessage()
    with qtbot.waitSignal(window.bridge.results("mixing"), timeout=20000,
                          check_params_cb=lambda ev: ev.done is None and ev.cells.shape[:2] == (1, 1)):
        pane.set_source("row", 0, Latent(seed=5))
    with qtbot.waitSignal(window.bridge.results("mixing"), timeout=20000,
                          check_params_cb=lambda ev: ev.done is None and len(ev.row_images) == 0):
        pane.remove_source("row", 0)    # removing every row keeps the column's face on screen
    qtbot.waitUntil(lambda: pane.grid.col_images is not None and len(pane.grid.col_images) == 1, timeout=5000)


def test_a_grid_still_rendering_when_cleared_does_not_come_back(window, qtbot):
    """Seen in a screenshot: Clear while the grid rendered, and the cleared faces filled the empty drop slots."""
    pane = window.panes[Pane.MIXING]
    with qtbot.waitSignal(window.bridge.results("mixing"), timeout=20000, check_params_cb=lambda ev: ev.done is None):
        window.state.set_latent(Latent(seed=3))   # the grid re-renders with the new settings …
        pane.clear()                              # … and the user clears it before that arrives
    assert pane.grid.col_images is None and pane.grid.row_images is None and pane.grid.cells is None


def test_crisp_pixels_enlarge_small_images_with_nearest_neighbour(window, qtbot):
    window.resize(1280, 720)
    qtbot.waitUntil(lambda: window.viewer.pixmap() is not None and window.viewer.pixmap().width() > 64,
                    timeout=5000)

    def distinct_greys():
        img = window.viewer.pixmap().toImage()
        row = [img.pixelColor(x, img.height() // 2).rgb() for x in range(img.width())]
        return len(set(row))
    assert window.crisp_action.isChecked()             # on by default
    crisp = distinct_greys()
    window.crisp_action.trigger()
    assert not window.viewer.crisp and distinct_greys() > crisp   # smooth scaling blends neighbouring pixels
    assert crisp <= 16                                            # nearest: at most one colour per source pixel
    window.crisp_action.trigger()


def test_resample_one_resolution_and_psi_change_the_image(window, qtbot):
    start = window.viewer.image.copy()
    resampled = frame(qtbot, window, lambda: window.panes[Pane.NOISE].resample(16))
    assert not np.array_equal(start, resampled)
    moved = frame(qtbot, window, lambda: window.panes[Pane.TRUNCATION].psi.setValue(-40))
    assert not np.array_equal(resampled, moved)


def test_save_image_writes_png_with_provenance(window, qtbot, tmp_path):
    out = tmp_path / "out.png"
    with qtbot.waitSignal(window.bridge.saved, timeout=20000):
        window.save_image(str(out))
    prov = read_provenance(out)
    assert prov["latent"] == {"seed": 0} and prov["kind"] == "image"
    assert prov["psi"] == pytest.approx(0.7)
    # the same pixels as the CLI's generate for that seed at its default ψ (both render stills the same way)
    assert main(["generate", "--model", window.state.model.path, "--seeds", "0", "--out", str(tmp_path / "cli")]) == 0
    np.testing.assert_array_equal(np.asarray(Image.open(out)), np.asarray(Image.open(tmp_path / "cli" / "seed0000.png")))


def test_window_save_of_a_mixed_w_face_regenerates_exactly_from_the_cli(window, qtbot, tmp_path):
    w = np.linspace(-1, 1, 16).astype(np.float32)
    window.state.set_latent(Latent(w=w), Latent(seed=9), (0, 1, 2))
    window.panes[Pane.NOISE].resample(8)
    out = tmp_path / "mixed.png"
    with qtbot.waitSignal(window.bridge.saved, timeout=20000):
        window.save_image(str(out))
    prov = read_provenance(out)
    assert prov["mix_with"] == {"seed": 9} and prov["mix_layers"] == [0, 1, 2] and "w" in prov["latent"]
    assert main(["generate", "--from-png", str(out), "--out", str(tmp_path / "again")]) == 0
    np.testing.assert_array_equal(np.asarray(Image.open(out)), np.asarray(Image.open(tmp_path / "again" / "mixed.png")))


def test_start_then_stop_training_delivers_stats(window, qtbot, tmp_path):
    pane = window.panes[Pane.TRAINING]
    pane.data.setText(str(make_folder(tmp_path / "data", n=16)))
    pane.run_dir.setText(str(tmp_path / "run"))
    pane.resolution.setCurrentText("16")
    pane.kimg.setValue(0.2)
    pane.batch.setValue(8)
    with qtbot.waitSignal(window.bridge.training_tick, timeout=60000):
        pane.start()
    with qtbot.waitSignal(window.bridge.job_finished, timeout=60000):
        pane.buttons["Stop"].click()
    xs, _ = pane.curves["loss_d"].getData()
    assert xs is not None and len(xs) >= 1
    assert pane.snapshots.count() >= 1


def test_resuming_a_run_shows_its_own_settings_curves_fakes_and_snapshots(window, qtbot, tmp_path):
    data, run = make_folder(tmp_path / "data", n=16), tmp_path / "run"
    assert main(["train", "--data", str(data), "--out", str(run), "--resolution", "16", "--channels", "8",
                 "--z-dim", "8", "--batch", "8", "--kimg", "0.032", "--tick-kimg", "0.016", "--no-growing",
                 "--snapshot-ticks", "1", "--lr", "0.003"]) == 0
    pane = window.panes[Pane.TRAINING]
    with qtbot.waitSignal(window.bridge.job_finished, timeout=60000) as sig:
        pane.resume_run(str(run))                 # a finished run: it ends at once, saying so
    assert sig.args[0].status == "ok" and "already at its length" in pane.summary.text()
    v = pane.form.values()
    assert (v["resolution"], v["channels"], v["batch"], v["lr"], v["growing"]) == (16, 8, 8, 0.003, False)
    assert pane.data.text() == str(data) and pane.snapshots.count() == 2 and not pane.fakes.pixmap().isNull()
    assert len(pane.curves["loss_d"].getData()[0]) == 2 and pane.form.isEnabled()


def test_export_video_dialog_runs_the_job(window, qtbot, tmp_path):
    window.export_video_dialog()
    dlg = window.video_dialog
    dlg.seeds.setText("1, 2")
    dlg.frames.setValue(3)
    dlg.size.setValue(0)
    dlg.path.setText(str(tmp_path / "walk.gif"))
    with qtbot.waitSignal(window.bridge.job_finished, timeout=60000) as sig:
        dlg.start()
    assert sig.args[0].status == "ok" and (tmp_path / "walk.gif").is_file()
    assert dlg.progress.value() == 100
    assert dlg.cancel_btn.text() == "Close"            # nothing left to cancel once the video is written
    dlg.path.setText(str(tmp_path / "bad.avi"))
    dlg.start()
    assert "must end in" in dlg.message.text()


def test_measure_fid_dialog_measures_the_open_model_and_lists_each_result(window, qtbot, tmp_path, monkeypatch):
    import torch
    from stylegan_studio.engine.metrics import fid

    class TinyNet(torch.nn.Module):   # stands in for InceptionV3 (the metrics extra is not installed for tests)
        def forward(self, x):
            return torch.nn.functional.adaptive_avg_pool2d(x, 2).flatten(1)
    monkeypatch.setattr(fid, "load_inception", lambda: TinyNet())
    monkeypatch.setenv("STYLEGAN_STUDIO_CACHE", str(tmp_path / "cache"))
    window.measure_fid_dialog()
    dlg = window.fid_dialog
    dlg.start()
    assert "Choose the real images" in dlg.message.text() and dlg.start_btn.isEnabled()
    dlg.data.setText(str(make_folder(tmp_path / "held", n=12, size=16)))
    dlg.count.setValue(100)
    for _ in range(2):
        with qtbot.waitSignal(window.bridge.job_finished, timeout=60000) as sig:
            dlg.start()
        assert sig.args[0].status == "ok" and dlg.message.text().startswith("FID ")
    assert dlg.results.count() == 2 and "tiny: FID" in dlg.results.item(0).text()
    assert "100 samples at ψ 1 against 12 images of held" in dlg.results.item(1).text()
    assert "note: only 12 real images in" in dlg.results.item(1).text()        # of 5,000 asked: said, not hidden
    assert dlg.cancel_btn.text() == "Close" and dlg.progress.value() == 100


def test_model_info_shows_the_details_and_the_model_card_beside_the_file(window, qtbot, tmp_path, capsys):
    with qtbot.waitSignal(window.bridge.model_description, timeout=20000):
        window.model_info_dialog()              # File → Model Info… (Ctrl+I)
    dialog = window.info_dialog
    details = dialog.summary.toPlainText()
    assert "G total" in details and "layers (6 ws" in details and str(tmp_path / "tiny.safetensors") in details
    assert main(["info", "--model", str(tmp_path / "tiny.safetensors")]) == 0
    assert capsys.readouterr().out.rstrip("\n") == details          # the window and `info` say the same
    assert "No model card" in dialog.card.toPlainText() and dialog.tabs.currentWidget() is dialog.summary
    card = tmp_path / "tiny.md"
    card.write_bytes(b"# Tiny\n\nTrained on **nothing**: random weights.\n\xff\n")   # ends in a byte that is not UTF-8
    with qtbot.waitSignal(window.bridge.model_description, timeout=20000):   # the open model changes: it follows
        window.open_model(str(tmp_path / "tiny.safetensors"))
    shown = dialog.card.toPlainText()
    assert "Trained on nothing: random weights." in shown and "\ufffd" in shown   # Markdown rendered; bad byte: �
    assert dialog.tabs.currentWidget() is dialog.card and "tiny.md" in dialog.note.text()
    assert "Ctrl+I  Model Info" in window.shortcut_text()


def test_docks_view_menu_and_shortcut_help_come_from_the_pane_registry(window):
    from stylegan_studio.app.panes.registry import PANES
    assert list(window.panes) == [e.key for e in PANES] == list(Pane)
    for e in PANES:
        assert isinstance(window.panes[e.key], e.cls) and window.dockWidgetArea(window.docks[e.key]) == e.area
        assert window.docks[e.key].toggleViewAction().shortcut().toString() == e.shortcut
        assert window.docks[e.key].windowTitle() == e.title
        assert f"{e.shortcut}  show or hide {e.title}" in window.shortcut_text()
    menus = [top.menu() for top in window.menuBar().actions()]
    keyed = [a for menu in menus for a in menu.actions() if not a.shortcut().isEmpty()]
    assert len(keyed) >= 20 and all(a.shortcut().toString() in window.shortcut_text() for a in keyed)  # read from the menus
    rows = dict((w, k) for k, w in window.shortcut_rows())
    assert rows["Copy Image"].startswith("Ctrl+C") and rows["Export Video"] == "Ctrl+E" and rows["Undo"] == "Ctrl+Z"
    assert set(rows["Redo"].split(" or ")) == {"Ctrl+Shift+Z", "Ctrl+Y"}
    text = window.shortcut_text()
    assert "Right-click a face  show it" in text and "Delete in the favourites" in text
    from importlib.metadata import version
    assert window.about_text().startswith(f"StyleGAN Studio {version('stylegan-studio')} — ")


def test_the_window_finds_panes_by_key_so_titles_may_change(qtbot, tmp_path, monkeypatch):
    """It looked panes up by their title string (11 places): renaming a dock broke the window."""
    import dataclasses
    from stylegan_studio.app import window as window_module
    renamed = tuple(dataclasses.replace(e, title=f"{e.title} (renamed)") for e in window_module.PANES)
    monkeypatch.setattr(window_module, "PANES", renamed)
    win = start_window(qtbot, tmp_path, str(tiny_model(tmp_path)))
    try:
        assert [d.windowTitle() for d in win.docks.values()] == [e.title for e in renamed]
        win.on_projected(type("Projected", (), {"path": "x.png", "latent": Latent(seed=3), "psnr": 20.0,
                                                "image": np.zeros((16, 16, 3), np.uint8)})())
        assert win.panes[Pane.TRUNCATION].psi.value() == 100 and win.panes[Pane.SEEDS].favs.count() == 1
    finally:
        win.bridge.close()


def test_export_figure_from_the_window(window, qtbot, tmp_path):
    out = tmp_path / "fig.png"
    with qtbot.waitSignal(window.bridge.saved, timeout=60000):
        window.export_figure("truncation", str(out))
    prov = read_provenance(out)
    assert prov["kind"] == "figure" and prov["name"] == "truncation" and prov["psi"] == pytest.approx(0.7)
    assert Image.open(out).size == (6 * 16 + 5 * 2, 3 * 16 + 2 * 2)
    assert any(a.text().startswith("Truncation") for a in window.findChildren(QAction))


def test_names_typed_without_an_extension_get_one(window, qtbot, tmp_path):
    pane = window.panes[Pane.MIXING]
    with qtbot.waitSignal(window.bridge.saved, timeout=20000) as sig:
        pane.export(str(tmp_path / "grid"))
    assert sig.args[0].path == str(tmp_path / "grid.png") and (tmp_path / "grid.png").is_file()
    with qtbot.waitSignal(window.bridge.saved, timeout=20000):
        window.save_image(str(tmp_path / "face"))
    assert read_provenance(tmp_path / "face.png")["kind"] == "image"


def test_one_to_one_view_centres_the_image(window, qtbot):
    window.resize(1280, 720)
    window.viewer.set_fit(False)                       # View → Actual Pixels (1:1)
    view = window.viewer.scroll.viewport().rect()
    label = window.viewer.label.geometry()
    assert abs(label.center().x() - view.center().x()) <= 2 and abs(label.center().y() - view.center().y()) <= 2
    window.viewer.set_fit(True)


def test_the_status_bar_says_opened_once_the_model_is_open(window, qtbot):
    with qtbot.waitSignal(window.bridge.model_info, timeout=20000):
        window.open_model(window.state.model.path)
    assert window.statusBar().currentMessage().startswith("Opened tiny")


def test_the_psi_strip_renders_only_while_its_tab_is_in_sight(window, monkeypatch):
    from stylegan_studio.engine.contract.requests import RenderTruncationStrip
    sent = []
    submit = window.bridge.submit
    monkeypatch.setattr(window.bridge, "submit", lambda req: sent.append(req) or submit(req))
    window.docks[Pane.NOISE].raise_()                         # the strip's tab behind Noise's
    window.panes[Pane.TRUNCATION].set_values(0.4, None)
    assert not [r for r in sent if isinstance(r, RenderTruncationStrip)]   # six faces nobody sees: not rendered
    window.docks[Pane.TRUNCATION].raise_()
    assert [r.settings.psi for r in sent if isinstance(r, RenderTruncationStrip)] == [0.4]


def test_tab_skips_the_panes_whose_tabs_are_behind_others(window):
    from PySide6.QtWidgets import QApplication
    window.docks[Pane.NOISE].raise_()
    window.docks[Pane.MIXING].raise_()
    QApplication.processEvents()
    window.panes[Pane.NOISE].animate.setFocus()
    visited = set()
    for _ in range(60):
        window.focusNextPrevChild(True)
        focus = QApplication.focusWidget()
        visited |= {k for k, d in window.docks.items() if d.isAncestorOf(focus)}
    # Truncation, Directions, Interpolation, Layers and Training sit behind Noise's and Mixing's tabs: their
    # sliders were reached, and a key changed a setting no one could see
    assert visited == {Pane.SEEDS, Pane.MIXING, Pane.NOISE}
