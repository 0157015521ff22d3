"""Favourites: each model keeps its own, remembered between launches, with icons; Delete and the menu remove."""
import numpy as np
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtTest import QTest

from helpers import tiny_generator
from stylegan_studio.app.qtutil import latent_to_mime
from test_app_panes import drop
from studio_window import start_window, tiny_model
from stylegan_studio.app.panes.latentlist import decode_favourites, encode_favourites
from stylegan_studio.app.panes.registry import Pane
from stylegan_studio.engine.contract.latents import Edit, Latent
from stylegan_studio.engine.contract.messages import LoadModel, NewModel, SaveModel
from stylegan_studio.engine.files.modelfile import save_model
from stylegan_studio.engine.contract.latentfile import encode_latents


def rendered(favs):
    """True once every favourite shows its face, not the placeholder."""
    return all(favs.item(i).icon().cacheKey() != favs.blank.cacheKey() for i in range(favs.count()))


def open_model(win, qtbot, path):
    with qtbot.waitSignal(win.bridge.model_info, timeout=20000):
        win.bridge.post(LoadModel(str(path)))


def test_favourites_come_back_at_the_next_launch_with_their_faces(qtbot, tmp_path):
    model = str(tiny_model(tmp_path))
    win = start_window(qtbot, tmp_path, model)
    seeds = win.panes[Pane.SEEDS]
    w_plus = np.linspace(-1, 1, 6 * 16, dtype=np.float32).reshape(6, 16)
    win.state.set_latent(Latent(seed=12, edit=Edit(tuple([0.5] * 16), (0, 1), "pc 0 +1σ")))
    seeds.keep_current()
    seeds.add_favourite(Latent(w=w_plus), "projected me")
    kept = seeds.favs.entries()
    win.bridge.close()
    win.close()
    again = start_window(qtbot, tmp_path, model)    # the same settings file: a second launch
    favs = again.panes[Pane.SEEDS].favs
    assert favs.entries() == kept and [t for _, t in kept] == ["seed 12 (pc 0 +1σ)", "projected me"]
    qtbot.waitUntil(lambda: rendered(favs), timeout=20000)
    again.bridge.close()


def test_each_model_keeps_its_own_favourites(qtbot, tmp_path):
    first = str(tiny_model(tmp_path))
    other = tmp_path / "other.safetensors"
    save_model(tiny_generator(16, seed=1), other)
    win = start_window(qtbot, tmp_path, first)
    seeds = win.panes[Pane.SEEDS]
    win.state.set_latent(Latent(seed=3))
    seeds.keep_current()
    open_model(win, qtbot, other)
    assert seeds.favs.count() == 0                  # the other model has none yet
    win.state.set_latent(Latent(seed=40))
    seeds.keep_current()
    open_model(win, qtbot, first)
    assert seeds.favourites() == (Latent(seed=3),)
    qtbot.waitUntil(lambda: rendered(seeds.favs), timeout=20000)   # its face in this model
    open_model(win, qtbot, other)
    assert seeds.favourites() == (Latent(seed=40),)
    win.bridge.close()


def test_favourites_of_a_new_model_stay_when_it_is_saved(qtbot, tmp_path):
    win = start_window(qtbot, tmp_path, str(tiny_model(tmp_path)))
    seeds = win.panes[Pane.SEEDS]
    with qtbot.waitSignal(win.bridge.model_info, timeout=20000):
        win.bridge.post(NewModel(resolution=16, channels=16, z_dim=16))
    assert seeds.favs.count() == 0
    seeds.add_favourite(Latent(seed=5), "seed 5")
    with qtbot.waitSignal(win.bridge.model_info, timeout=20000):
        win.bridge.post(SaveModel(str(tmp_path / "new.safetensors")))
    assert seeds.favourites() == (Latent(seed=5),)
    stored = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    assert decode_favourites(stored.value(f"favourites/{win.state.model.model_id}")) == [(Latent(seed=5), "seed 5")]
    win.bridge.close()


def test_delete_and_the_menu_remove_favourites_and_that_is_remembered(qtbot, tmp_path):
    model = str(tiny_model(tmp_path))
    win = start_window(qtbot, tmp_path, model)
    favs = win.panes[Pane.SEEDS].favs
    for seed in (1, 2, 3):
        win.panes[Pane.SEEDS].add_favourite(Latent(seed=seed), f"seed {seed}")
    favs.setCurrentRow(1)
    QTest.keyClick(favs, Qt.Key.Key_Delete)
    assert win.panes[Pane.SEEDS].favourites() == (Latent(seed=1), Latent(seed=3))
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    key = f"favourites/{win.state.model.model_id}"
    assert [t for _, t in decode_favourites(settings.value(key))] == ["seed 1", "seed 3"]
    favs.remove([favs.item(i) for i in range(favs.count())])   # the context menu's "Remove all favourites"
    assert favs.count() == 0 and decode_favourites(QSettings(str(tmp_path / "settings.ini"),
                                                             QSettings.Format.IniFormat).value(key)) == []
    win.bridge.close()


def test_loaded_favourites_get_their_faces_rendered(qtbot, tmp_path):
    win = start_window(qtbot, tmp_path, str(tiny_model(tmp_path)))
    (tmp_path / "faces.npz").write_bytes(encode_latents(np.ones((3, 16), np.float32) * [[0.1], [0.5], [-1]],
                                                        ["a", "b", "c"]))
    win.panes[Pane.SEEDS].load_favourites(str(tmp_path / "faces.npz"))
    favs = win.panes[Pane.SEEDS].favs
    assert [t for _, t in favs.entries()] == ["a", "b", "c"]
    qtbot.waitUntil(lambda: rendered(favs), timeout=20000)   # they were grey squares until opened again
    win.bridge.close()


def test_damaged_remembered_favourites_are_left_out():
    good = encode_favourites([(Latent(seed=4), "four")])
    assert decode_favourites(good) == [(Latent(seed=4), "four")]
    for bad in ("", "not json", "[[[", '{"a": 1}', '[{"latent": {"w": "x"}}, 3, {"label": "no latent"}]', None, 7,
                "[" * 100000):
        assert decode_favourites(bad) == []
    mixed = '[{"latent": {"seed": 1}, "label": "one"}, {"latent": {"seed": 2, "c": -1}}]'
    assert decode_favourites(mixed) == [(Latent(seed=1), "one")]


def test_a_video_through_the_favourites_from_the_export_dialog(qtbot, tmp_path):
    win = start_window(qtbot, tmp_path, str(tiny_model(tmp_path)))
    seeds = win.panes[Pane.SEEDS]
    win.export_video_dialog()
    dialog = win.video_dialog
    dialog.through_favs.setChecked(True)
    assert not dialog.seeds.isEnabled() and not dialog.space.isEnabled()
    dialog.path.setText(str(tmp_path / "favs.gif"))
    dialog.start()
    assert "Keep two or more favourites first" in dialog.message.text()
    seeds.add_favourite(Latent(seed=2), "seed 2")
    seeds.add_favourite(Latent(w=np.linspace(-1, 1, 6 * 16, dtype=np.float32).reshape(6, 16)), "projected")
    dialog.frames.setValue(3)
    dialog.loop.setChecked(False)
    with qtbot.waitSignal(win.bridge.job_finished, timeout=60000) as done:
        dialog.start()
    assert done.args[0].status == "ok", done.args[0].message
    from PIL import Image
    assert Image.open(tmp_path / "favs.gif").n_frames == 4            # 3 per step, and the last face
    dialog.travelled.setChecked(True)                                 # one source at a time
    assert not dialog.through_favs.isChecked()
    dialog.kind.setCurrentIndex(dialog.kind.findData("noise"))
    assert not dialog.through_favs.isEnabled()
    win.bridge.close()


def texts(menu):
    return [a.text() for a in menu.actions() if not a.isSeparator()]


def test_right_click_offers_what_a_drag_does(qtbot, tmp_path):
    """Thumbnails, favourites and the image itself: show, keep, and add to the mixing grid, in words."""
    win = start_window(qtbot, tmp_path, str(tiny_model(tmp_path)))
    seeds, mixing = win.panes[Pane.SEEDS], win.panes[Pane.MIXING]
    thumb = seeds.grid.visualItemRect(seeds.grid.item(7)).center()
    menu = seeds.grid.menu_at(thumb)
    assert texts(menu) == ["Show", "Keep as Favourite", "Add to Mixing Grid as Row", "Add to Mixing Grid as Column",
                           "Interpolate to This Face"]
    rows = len(mixing.grid.rows)
    menu.actions()[2].trigger()
    assert mixing.grid.rows[-1] == Latent(seed=7) and len(mixing.grid.rows) == rows + 1
    menu.actions()[1].trigger()
    assert seeds.favourites() == (Latent(seed=7),)
    menu.actions()[0].trigger()
    assert win.state.latent == Latent(seed=7)
    fav_menu = seeds.favs.menu_at(seeds.favs.visualItemRect(seeds.favs.item(0)).center())
    assert texts(fav_menu) == ["Show", "Add to Mixing Grid as Row", "Add to Mixing Grid as Column",
                               "Interpolate to This Face", "Remove", "Export All as Images…", "Remove all favourites"]
    fav_menu.actions()[2].trigger()
    assert mixing.grid.cols[-1] == Latent(seed=7)
    win.state.set_latent(Latent(w=np.zeros(16, np.float32)))
    fav_menu.actions()[3].trigger()
    interpolation = win.panes[Pane.INTERPOLATION]
    assert interpolation.strip_request().end == Latent(seed=7) and interpolation.to_seed.value() == 7   # in the box
    interpolation.to_seed.setValue(30)                   # the seed box takes over again
    assert interpolation.strip_request().end == Latent(seed=30)
    drop(interpolation, latent_to_mime(Latent(w=np.ones(16, np.float32))), 10, 10)   # a face dropped on the pane
    assert interpolation.strip_request().end == Latent(w=np.ones(16, np.float32))
    empty_space = seeds.favs.menu_at(QPoint(seeds.favs.viewport().width() - 3, 3))
    assert texts(empty_space) == ["Export All as Images…", "Remove all favourites"]
    empty_space.actions()[0].trigger()                   # Export Faces, the favourites chosen
    assert win.faces_dialog.isVisible() and win.faces_dialog.from_favs.isChecked()
    assert win.faces_dialog.from_favs.text() == "The favourites (1)"
    win.faces_dialog.close()
    image_menu = win.viewer_menu()
    assert texts(image_menu) == ["Keep as Favourite", "Add to Mixing Grid as Row", "Add to Mixing Grid as Column",
                                 "Copy Image", "Save Image…", "Undo", "Redo"]
    image_menu.actions()[0].trigger()
    assert seeds.favourites() == (Latent(seed=7), Latent(w=np.zeros(16, np.float32)))   # the face in the viewer
    win.bridge.close()


def test_the_arrow_keys_walk_the_seed_thumbnails_and_the_viewer_follows(qtbot, tmp_path):
    win = start_window(qtbot, tmp_path, str(tiny_model(tmp_path)))
    grid = win.panes[Pane.SEEDS].grid
    win.activateWindow()
    grid.setFocus()
    qtbot.waitUntil(grid.hasFocus, timeout=5000)
    grid.setCurrentRow(4)                  # (a click on seed 4)
    assert win.state.latent == Latent(seed=4)
    QTest.keyClick(grid, Qt.Key.Key_Right)
    assert win.state.latent == Latent(seed=5)
    QTest.keyClick(grid, Qt.Key.Key_Down)  # four to a row at this width: the one below
    assert win.state.latent.seed > 5
    win.panes[Pane.SEEDS].entry.setText("10-20")
    win.panes[Pane.SEEDS].apply_range()    # a new page refills the grid: the viewer stays where it is
    assert win.state.latent.seed < 10
    win.bridge.close()


def test_icons_on_their_way_go_to_their_own_faces(qtbot):
    """A favourite removed while the icons render: the others still get their own faces (the images keep the
    order they were asked for in), and icons of a list asked for again are not used."""
    from fake_bridge import FakeBridge
    from stylegan_studio.app.panes.latentlist import FavouritesList
    from stylegan_studio.app.state import ExploreState
    from stylegan_studio.engine.contract import messages as m
    from test_app_panes import INFO
    bridge, state = FakeBridge(), ExploreState()
    state.set_model(INFO)
    favs = FavouritesList(bridge, state, 8)
    qtbot.addWidget(favs)
    favs.set_entries([(Latent(seed=k), f"seed {k}") for k in (1, 2, 3)])
    asked = bridge.last(m.RenderMixGrid)
    assert asked.rows == (Latent(seed=1), Latent(seed=2), Latent(seed=3)) and asked.cols == ()
    favs.remove([favs.item(1)])

    def icons(stamp):
        img = np.stack([np.full((8, 8, 3), v, np.uint8) for v in (10, 20, 30)])
        return m.MixGridReady("favourite-icons", stamp, 0.1, row_images=img, col_images=img[:0],
                              cells=np.zeros((3, 0, 8, 8, 3), np.uint8))

    def grey(i):
        return favs.item(i).icon().pixmap(8, 8).toImage().pixelColor(4, 4).red()
    bridge.results("favourite-icons").emit(icons(asked.stamp))
    assert [grey(0), grey(1)] == [10, 30]
    favs.forget_icons()                                      # asked again: the earlier answer is not used
    bridge.results("favourite-icons").emit(icons(asked.stamp))
    assert favs.item(0).icon().cacheKey() == favs.blank.cacheKey()


def test_what_a_user_found_in_the_favourites(qtbot, tmp_path):
    """Another model's latents file is refused whole; Delete leaves the viewer alone; a face is kept once; the
    highlighted thumbnail is the viewer's face; a favourite's own name is in its tooltip."""
    win = start_window(qtbot, tmp_path, str(tiny_model(tmp_path)))
    seeds, favs = win.panes[Pane.SEEDS], win.panes[Pane.SEEDS].favs
    (tmp_path / "other.npz").write_bytes(encode_latents(np.ones((3, 7), np.float32), ["a", "b", "c"]))
    seeds.load_favourites(str(tmp_path / "other.npz"))
    assert favs.count() == 0 and win.statusBar().currentMessage() == \
        "other.npz holds faces of 7 values; this open model needs 16: nothing loaded"
    for seed in (30, 31, 32):
        seeds.add_favourite(Latent(seed=seed), f"seed {seed}")
    seeds.add_favourite(Latent(seed=31), "again")                      # kept once
    assert favs.count() == 3 and "Seed 31 is a favourite already" in win.statusBar().currentMessage()
    win.activateWindow()
    favs.setFocus()
    qtbot.waitUntil(favs.hasFocus, timeout=5000)
    favs.setCurrentRow(0)                                              # (a click on seed 30: the viewer shows it)
    assert win.state.latent == Latent(seed=30)
    QTest.keyClick(favs, Qt.Key.Key_Delete)
    assert seeds.favourites() == (Latent(seed=31), Latent(seed=32)) and win.state.latent == Latent(seed=30)
    win.state.set_latent(Latent(seed=5))
    assert seeds.grid.currentRow() == 5                                # the arrow keys go on from the viewer's face
    win.state.set_latent(Latent(w=np.zeros(16, np.float32)))
    assert not seeds.grid.selectedItems()
    seeds.add_favourite(Latent(w=np.ones(16, np.float32)), "projected holiday-photo")
    assert favs.item(favs.count() - 1).toolTip() == "projected holiday-photo (custom w)"
    win.bridge.close()


def test_the_thumbnails_follow_psi_without_going_grey(qtbot, tmp_path):
    win = start_window(qtbot, tmp_path, str(tiny_model(tmp_path)))
    seeds = win.panes[Pane.SEEDS]
    qtbot.waitUntil(lambda: rendered(seeds.grid), timeout=20000)
    before = seeds.grid.item(3).icon().cacheKey()
    with qtbot.waitSignal(win.bridge.results("seeds"), timeout=20000,
                          check_params_cb=lambda ev: ev.start + len(ev.images) > 3):
        win.panes[Pane.TRUNCATION].psi.setValue(-50)
        assert seeds.grid.item(3).icon().cacheKey() == before           # no grey placeholders meanwhile
    assert seeds.grid.item(3).icon().cacheKey() != before and seeds.page_settings.psi == -0.5
    win.bridge.close()


def test_a_mixed_face_is_kept_and_added_as_shown(qtbot, tmp_path):
    """Keep current on a face mixed in the grid kept only its row face (seen by a user): now one per-layer w."""
    win = start_window(qtbot, tmp_path, str(tiny_model(tmp_path)))
    seeds, mixing = win.panes[Pane.SEEDS], win.panes[Pane.MIXING]
    with qtbot.waitSignal(win.bridge.results("viewer"), timeout=20000):
        win.state.set_latent(Latent(seed=12), Latent(seed=40), (0, 1, 2, 3))
    mixed = win.viewer.image.copy()
    with qtbot.waitSignal(win.bridge.face_latent, timeout=20000):
        seeds.keep_current()
    face = seeds.favourites()[-1]
    assert face.per_layer and face.w.shape == (6, 16) and seeds.favs.item(0).text() == "seed 12 mixed with seed 40"
    with qtbot.waitSignal(win.bridge.face_latent, timeout=20000):
        next(a for a in win.viewer_menu().actions() if a.text() == "Add to Mixing Grid as Row").trigger()
    assert mixing.grid.rows[-1] == face
    with qtbot.waitSignal(win.bridge.results("viewer"), timeout=20000) as shown:
        win.state.set_latent(face)                     # the kept face renders as the mix did
    np.testing.assert_array_equal(shown.args[0].image, mixed)
    win.state.set_latent(Latent(seed=12, edit=Edit(tuple([0.5] * 16), (0,), "e")), Latent(seed=40), (0, 1))
    seeds.keep_current()                               # an edited face has no per-layer form: kept unmixed, said so
    assert seeds.favourites()[-1].edit is not None and "kept without its mixing" in win.statusBar().currentMessage()
    win.bridge.close()


def test_a_loaded_file_is_one_change_of_the_favourites(qtbot):
    """Loading 50 faces wrote the settings 50 times (one `changed` per face): now once."""
    from fake_bridge import FakeBridge
    from stylegan_studio.app.panes.seeds import SeedsPane
    from stylegan_studio.app.state import ExploreState
    from test_app_panes import INFO
    import tempfile
    from pathlib import Path
    bridge, state = FakeBridge(), ExploreState()
    state.set_model(INFO)
    pane = SeedsPane(bridge, state)
    qtbot.addWidget(pane)
    path = Path(tempfile.mkdtemp()) / "many.npz"
    path.write_bytes(encode_latents(np.ones((50, 16), np.float32), [f"f{k}" for k in range(50)]))
    changes = []
    pane.favs.changed.connect(lambda: changes.append(1))
    pane.load_favourites(str(path))
    assert pane.favs.count() == 50 and len(changes) == 1
