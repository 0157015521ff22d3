"""File → Export Faces: the Seeds pane's seeds or the favourites, one PNG each, as the viewer shows them."""
import numpy as np
from PIL import Image
from PySide6.QtWidgets import QMessageBox

from studio_window import start_window, tiny_model
from stylegan_studio.app.panes.registry import Pane
from stylegan_studio.engine.contract.latents import Edit, Latent
from stylegan_studio.engine.contract.messages import ExportFaces
from stylegan_studio.engine.files.pngio import read_request


def export(win, qtbot, dialog):
    with qtbot.waitSignal(win.bridge.job_finished, timeout=30000, check_params_cb=lambda ev: ev.kind == "faces"):
        dialog.start()


def test_the_favourites_are_written_as_the_viewer_shows_each(qtbot, tmp_path):
    win = start_window(qtbot, tmp_path, str(tiny_model(tmp_path)))
    seeds = win.panes[Pane.SEEDS]
    edited = Latent(seed=12, edit=Edit(tuple([0.5] * 16), (0, 1), "pc 0 +1σ"))
    w_plus = np.linspace(-1, 1, 6 * 16, dtype=np.float32).reshape(6, 16)
    for latent in (edited, Latent(seed=3)):
        win.state.set_latent(latent)
        seeds.keep_current()
    seeds.add_favourite(Latent(w=w_plus), "projected me")
    win.state.set_settings(psi=0.5)
    win.export_faces_dialog()
    dialog = win.faces_dialog
    assert dialog.from_favs.isEnabled() and dialog.from_favs.text() == "The favourites (3)"
    assert dialog.settings_line.text().startswith("ψ 0.50 · cutoff all")
    dialog.from_favs.setChecked(True)
    assert not dialog.seeds.isEnabled()
    dialog.folder.setText(str(tmp_path / "favs"))
    export(win, qtbot, dialog)
    assert dialog.message.text() == f"Wrote 3 images to {tmp_path / 'favs'}"
    names = sorted(p.name for p in (tmp_path / "favs").iterdir())
    assert names == ["001-seed-12-pc-0-1.png", "002-seed-3.png", "003-projected-me.png"]
    for name, latent in zip(names, (edited, Latent(seed=3), Latent(w=w_plus))):
        win.state.set_latent(latent)                        # the same face through Save Image
        with qtbot.waitSignal(win.bridge.saved, timeout=20000):
            win.save_image(str(tmp_path / "one.png"))
        np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "favs" / name)),
                                      np.asarray(Image.open(tmp_path / "one.png")))
        assert read_request(tmp_path / "favs" / name)[0].latent == latent
    win.bridge.close()


def test_seeds_ask_before_replacing_files_and_bad_input_is_one_line(qtbot, tmp_path, monkeypatch):
    win = start_window(qtbot, tmp_path, str(tiny_model(tmp_path)))
    win.panes[Pane.SEEDS].entry.setText("5-7")
    win.export_faces_dialog()
    dialog = win.faces_dialog
    assert dialog.seeds.text() == "5-7" and dialog.from_seeds.isChecked()
    assert not dialog.from_favs.isEnabled() and dialog.from_favs.text() == "The favourites (0)"
    dialog.folder.setText(str(tmp_path / "out"))
    export(win, qtbot, dialog)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["seed0005.png", "seed0006.png", "seed0007.png"]
    posted = []
    monkeypatch.setattr(win.bridge, "post", posted.append)
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a: asked.append(a[2]) or QMessageBox.StandardButton.No)
    dialog.seeds.setText("6-9")
    dialog.start()
    assert asked == [f"2 of the 4 files are in {tmp_path / 'out'} already. Replace them?"] and posted == []
    assert dialog.message.text().startswith("Nothing exported")      # not the last export's "Wrote 3 images"
    win.state.set_settings(psi=0.3)                                   # with the dialog open: its line follows
    assert dialog.settings_line.text().startswith("ψ 0.30 · cutoff all")
    monkeypatch.setattr(QMessageBox, "question", lambda *a: QMessageBox.StandardButton.Yes)
    dialog.start()
    assert isinstance(posted[-1], ExportFaces) and len(posted[-1].requests) == 4
    dialog.on_finished(type("Done", (), {"job_id": dialog.job_id, "status": "ok", "message": "x", "path": ""})())
    dialog.seeds.setText("7-x")
    dialog.start()
    assert dialog.message.text() == "Cannot read seed '7-x'; use forms like 0-7,42" and len(posted) == 1
    dialog.seeds.setText("1")
    dialog.folder.setText("  ")
    dialog.start()
    assert dialog.message.text() == "Choose a folder for the faces" and len(posted) == 1
    win.bridge.close()
