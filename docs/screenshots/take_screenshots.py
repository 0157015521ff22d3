"""Drive the studio like a user and save screenshots of each pane (run under Xvfb or offscreen).

python docs/screenshots/take_screenshots.py MODEL DATASET OUTDIR
"""
import subprocess
import sys
import tempfile
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, QSettings, Qt, QTimer
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from stylegan_studio.app.bridge import EngineBridge
from stylegan_studio.app.qtutil import latent_to_mime
from stylegan_studio.app.window import MainWindow
from stylegan_studio.engine.contract.latents import Latent

model, data, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
out.mkdir(parents=True, exist_ok=True)
app = QApplication(sys.argv[:1])
bridge = EngineBridge(model_path=model)
pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)
# a fresh settings file: the screenshots show the default layout, not the last user's
settings = QSettings(str(Path(tempfile.mkdtemp()) / "studio.ini"), QSettings.Format.IniFormat)
win = MainWindow(bridge, settings)
bridge.start()
win.show()


def drop(widget, latent, x, y):
    mime = latent_to_mime(latent)
    QApplication.sendEvent(widget, QDragEnterEvent(QPoint(x, y), Qt.DropAction.CopyAction, mime,
                                                   Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier))
    QApplication.sendEvent(widget, QDropEvent(QPointF(x, y), Qt.DropAction.CopyAction, mime,
                                              Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier))


def shot(name):
    win.grab().save(str(out / f"{name}.png"))
    for title, dock in win.docks.items():
        if dock.isVisible() and not dock.visibleRegion().isEmpty():
            dock.grab().save(str(out / f"{name}-{title.lower().replace(' ', '-')}.png"))


def steps():
    p = win.panes
    yield lambda: (p["Seeds"].entry.setText("0-63"), p["Seeds"].apply_range())
    yield lambda: p["Style Mixing"].clear()  # the grid a first launch pre-fills, replaced by chosen faces
    for k, seed in enumerate((3, 7, 12)):  # three faces as rows (left column)
        yield lambda k=k, seed=seed: drop(p["Style Mixing"].grid, Latent(seed=seed), 5, (k + 1) * p["Style Mixing"].grid.tile + 5)
    for k, seed in enumerate((21, 40)):    # two faces as columns (top row)
        yield lambda k=k, seed=seed: drop(p["Style Mixing"].grid, Latent(seed=seed), (k + 1) * p["Style Mixing"].grid.tile + 5, 5)
    yield lambda: p["Style Mixing"].picker.preset("middle")
    yield lambda: p["Noise"].resample(max(p["Noise"].rows))
    yield lambda: p["Noise"].request_variation()
    for psi in (100, 40, -50, 70):
        yield lambda psi=psi: p["Truncation"].psi.setValue(psi)
    yield lambda: win.save_image(str(out / "saved-image.png"))
    yield lambda: shot("explore")
    yield lambda: win.docks["Truncation"].raise_()  # tabbed with Noise
    yield lambda: shot("explore-truncation")
    yield lambda: (win.docks["Interpolation"].raise_(), p["Interpolation"].to_seed.setValue(40))  # tabbed with Noise
    yield lambda: shot("explore-interpolation")
    yield lambda: (win.docks["Training"].raise_(), p["Training"].data.setText(data), p["Training"].check())
    yield lambda: (p["Training"].resolution.setCurrentText("32"), p["Training"].kimg.setValue(0.5),
                   p["Training"].run_dir.setText(tempfile.mkdtemp() + "/run"), p["Training"].start())
    yield "wait"
    yield lambda: shot("training")
    yield lambda: p["Training"].buttons["Stop"].click()
    yield lambda: subprocess.run(["import", "-window", "root", str(out / "screen.png")], check=False)
    yield lambda: (bridge.close(), app.quit())


it = steps()


def tick():
    step = next(it)
    if step == "wait":
        QTimer.singleShot(90000, tick)
        return
    step()
    QTimer.singleShot(4000, tick)


QTimer.singleShot(8000, tick)
app.exec()
