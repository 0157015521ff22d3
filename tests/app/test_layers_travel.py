"""The Layers pane follows the viewer's face from the frame's own pass; a Shift-drag travels through seed space."""
import json

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import QFileDialog, QPushButton
from PySide6.QtTest import QTest

from studio_window import start_window, tiny_model
from stylegan_studio.app.panes.registry import Pane
from stylegan_studio.app.qtutil import latent_from_mime
from stylegan_studio.app.window import START_SIZE
from stylegan_studio.engine.cli.main import main
from stylegan_studio.engine.contract import messages as m
from stylegan_studio.engine.contract.latents import Latent
from stylegan_studio.engine.contract.requests import RenderLayer
from test_app_panes import drop


@pytest.fixture
def window(qtbot, tmp_path):
    win = start_window(qtbot, tmp_path, str(tiny_model(tmp_path)))
    yield win
    win.bridge.close()


def test_the_layers_pane_follows_the_face_and_picks_a_channel_for_the_seeds(window, qtbot, tmp_path):
    pane = window.panes[Pane.LAYERS]
    assert [pane.layers.item(i).text().split()[0] for i in range(pane.layers.count())] == [
        "4x4/const", "4x4/conv1", "8x8/conv0", "8x8/conv1", "16x16/conv0", "16x16/conv1"]
    assert "16² " in pane.layers.item(5).text() and pane.layer() == "16x16/conv1"
    assert window.panes[Pane.LAYERS].live_request(1) is None            # hidden: the frame carries nothing
    assert [c.value() for c in pane.chans] == [0, 1, 2]                 # RGB of three channels, not one grey
    with qtbot.waitSignal(window.bridge.results("layers"), timeout=20000):
        window.docks[Pane.LAYERS].show()
        window.docks[Pane.LAYERS].raise_()
    first = pane.last
    assert first.layer == "16x16/conv1" and first.mode == "grid" and not pane.view.pixmap().isNull()
    assert pane.view.pixmap().height() <= pane.view.height()          # the first view fits, caption and all
    with qtbot.waitSignal(window.bridge.results("layers"), timeout=20000) as sig:
        window.panes[Pane.TRUNCATION].set_values(0.2, None)             # ψ moves: the view follows
    assert not np.array_equal(sig.args[0].images, first.images)
    # the same face's view, rendered on its own, is what the frame carried
    with qtbot.waitSignal(window.bridge.results("alone"), timeout=20000) as alone:
        window.bridge.submit(RenderLayer("alone", window.bridge.next_stamp(), latents=(window.state.latent,),
                                         settings=window.state.settings, layer="16x16/conv1"))
    assert np.array_equal(alone.args[0].images, sig.args[0].images)
    # a click on the grid's first tile picks the most energetic channel and shows it for the Seeds pane's faces
    seeds = window.panes[Pane.SEEDS]
    pix = pane.view.pixmap()
    x = (pane.view.width() - pix.width()) // 2 + 2
    y = (pane.view.height() - pix.height()) // 2 + 2
    with qtbot.waitSignal(window.bridge.results("seeds"), timeout=20000,
                          check_params_cb=lambda ev: isinstance(ev, m.LayerReady)) as chunk:
        QTest.mouseClick(pane.view, Qt.MouseButton.LeftButton, pos=QPoint(x, y))
    assert pane.chans[0].value() == pane.last.order[0]
    assert chunk.args[0].order == (pane.last.order[0],) and seeds.faces_btn.isVisible()
    assert "16x16/conv1" in seeds.faces_btn.toolTip()
    pane.mode.setCurrentIndex(2)                                     # three channels as RGB
    qtbot.waitUntil(lambda: pane.last.mode == "rgb", timeout=20000)
    assert pane.last.images.shape[1:] == (320, 320, 3)
    with qtbot.waitSignal(window.bridge.saved, timeout=20000):         # Save view…: the same pixels, with provenance
        pane.save_view(str(tmp_path / "view.png"))
    assert np.array_equal(np.asarray(Image.open(tmp_path / "view.png").convert("RGB")), pane.last.images[0])


def test_a_pane_floated_out_from_behind_its_tab_renders(window, qtbot):
    pane, dock = window.panes[Pane.LAYERS], window.docks[Pane.LAYERS]   # a tab behind Noise at the start
    assert not pane.shown
    with qtbot.waitSignal(window.bridge.results("layers"), timeout=20000):
        dock.setFloating(True)                                         # as its title bar's float button does
    assert pane.shown and not pane.view.pixmap().isNull()


def test_a_shift_drag_travels_through_seed_space_and_the_result_drags_into_the_mixing_grid(window, qtbot, tmp_path,
                                                                                           monkeypatch):
    asked = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a: asked.append(a) or ("", ""))
    window.save_travel_path()                            # nothing travelled: said at once, no file name asked for
    assert asked == [] and window.statusBar().currentMessage().startswith("No path travelled yet")
    window.state.set_latent(Latent(seed=3))
    label = window.viewer.label
    start = window.viewer.image.copy()
    c = label.rect().center()
    side = label.pixmap().width()
    QTest.mousePress(label, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, c)
    for k in range(1, 6):  # a quarter of the image to the right = half a seed
        with qtbot.waitSignal(window.bridge.results("viewer"), timeout=20000):
            QTest.mouseMove(label, c + QPoint(side * k // 20, 0))
    QTest.mouseRelease(label, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, c + QPoint(side // 4, 0))
    lat = window.state.latent
    assert lat.pos is not None and lat.pos[0] == pytest.approx(3.5, abs=0.05) and lat.pos[1] == 0.0
    qtbot.waitUntil(lambda: not np.array_equal(window.viewer.image, start), timeout=20000)
    assert window.viewer.info.full.startswith(f"seed ({lat.pos[0]:.2f}, 0.00) z")
    assert len(window.state.travel_path) >= 5
    # release keeps the position: keep it as a favourite and drag it into the mixing grid
    seeds = window.panes[Pane.SEEDS]
    seeds.keep_current()
    fav = seeds.favs.item(seeds.favs.count() - 1)
    assert fav.icon().cacheKey() != seeds.favs.blank.cacheKey() and fav.toolTip() == lat.label()  # the viewer's face
    mime = seeds.favs.mimeData([fav])
    assert latent_from_mime(mime) == lat
    mixing = window.panes[Pane.MIXING]
    window.docks[Pane.MIXING].raise_()
    mixing.clear()
    with qtbot.waitSignal(window.bridge.results("mixing"), timeout=20000):
        drop(mixing.grid, mime, 5, mixing.grid.tile + 5)
    assert mixing.grid.rows == [lat]
    # a plain drag (no Shift, travel mode off) does not travel; travel mode makes it travel
    QTest.mousePress(label, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, c)
    QTest.mouseMove(label, c + QPoint(side // 2, 0))
    QTest.mouseRelease(label, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, c + QPoint(side // 2, 0))
    assert window.state.latent == lat
    window.travel_action.trigger()
    window.travel_w_action.trigger()
    QTest.mousePress(label, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, c)
    QTest.mouseMove(label, c + QPoint(0, side // 2))
    QTest.mouseRelease(label, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, c + QPoint(0, side // 2))
    assert window.state.latent.space == "w" and window.state.latent.pos[1] == pytest.approx(1.0, abs=0.05)
    # the travelled path is a video's input
    path = tmp_path / "travel.json"
    with qtbot.waitSignal(window.bridge.saved, timeout=20000):
        window.save_travel_path(str(path))
    doc = json.loads(path.read_text())
    assert doc["space"] == "w" and doc["travelled_path"][0] == [3.0, 0.0]
    out = tmp_path / "walk.gif"
    assert main(["video", "--model", str(window.state.model.path), "--kind", "walk", "--path", str(path),
                 "--frames-per-step", "4", "--out", str(out)]) == 0
    assert out.stat().st_size > 0


def test_the_export_video_dialog_offers_the_travelled_path(qtbot):
    from fake_bridge import FakeBridge
    from stylegan_studio.app.dialogs.export_video import ExportVideoDialog
    from stylegan_studio.app.state import ExploreState
    from stylegan_studio.engine.contract.latents import SpecError
    state = ExploreState()
    dialog = ExportVideoDialog(FakeBridge(), state)
    qtbot.addWidget(dialog)
    dialog.travelled.setChecked(True)
    with pytest.raises(SpecError, match="no path travelled yet"):
        dialog.spec()
    state.travel_path += [(3.0, 0.0), (3.5, 0.25), (4.0, 1.0)]
    state.travel_space = "w"
    spec = dialog.spec()
    assert spec.kind == "walk" and spec.path == ((3.0, 0.0), (3.5, 0.25), (4.0, 1.0)) and spec.space == "w"


def test_video_path_errors_are_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert main(["video", "--kind", "walk", "--path", str(bad), "--out", str(tmp_path / "v.gif")]) == 1
    assert "not a travelled path file" in capsys.readouterr().err
    assert main(["video", "--kind", "noise", "--path", str(bad), "--out", str(tmp_path / "v.gif")]) == 1
    assert "use it with --kind walk" in capsys.readouterr().err


@pytest.mark.parametrize("mode", [0, 1, 2])
def test_every_layers_view_fits_its_first_launch_dock(window, qtbot, mode):
    # In "One channel" and "Three channels as RGB" the channel row pushed Save view… below the fold of the
    # first-launch right dock (seen in a screenshot): the view's minimum side left no room for it.
    window.resize(*START_SIZE)
    pane = window.panes[Pane.LAYERS]
    dock = window.docks[Pane.LAYERS]
    dock.show()
    dock.raise_()
    pane.mode.setCurrentIndex(mode)
    scroll = dock.widget()
    qtbot.waitUntil(lambda: pane.isVisible() and scroll.viewport().height() > 0, timeout=5000)
    qtbot.wait(100)
    assert scroll.viewport().height() < START_SIZE[1] // 2 + 60   # the right dock, tabbed, as at first launch
    assert scroll.verticalScrollBar().maximum() == 0
    save = next(b for b in pane.findChildren(QPushButton) if b.text() == "Save view…")
    for w in (save, pane.view, pane.caption):   # wholly inside the dock's visible part
        assert scroll.viewport().rect().contains(QRect(w.mapTo(scroll.viewport(), QPoint(0, 0)), w.size())), w
