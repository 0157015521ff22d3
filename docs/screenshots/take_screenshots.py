"""Drive the studio like a user and save screenshots of each pane (run under Xvfb or offscreen).

python docs/screenshots/take_screenshots.py MODEL DATASET OUTDIR
"""
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QPoint, QPointF, Qt, QTimer
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from stylegan_studio.app.panes.registry import Pane
from stylegan_studio.app.qtutil import latent_to_mime
from stylegan_studio.engine.contract.latents import Latent

from studio_shot import open_studio  # beside this script

model, data, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
out.mkdir(parents=True, exist_ok=True)
app, bridge, win = open_studio(model)
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
    yield lambda: (p[Pane.SEEDS].entry.setText("0-63"), p[Pane.SEEDS].apply_range())
    yield lambda: p[Pane.MIXING].clear()  # the grid a first launch pre-fills, replaced by chosen faces
    for k, seed in enumerate((3, 7, 12)):  # three faces as rows (left column)
        yield lambda k=k, seed=seed: drop(p[Pane.MIXING].grid, Latent(seed=seed), 5, (k + 1) * p[Pane.MIXING].grid.tile + 5)
    for k, seed in enumerate((21, 40)):    # two faces as columns (top row)
        yield lambda k=k, seed=seed: drop(p[Pane.MIXING].grid, Latent(seed=seed), (k + 1) * p[Pane.MIXING].grid.tile + 5, 5)
    yield lambda: p[Pane.MIXING].picker.preset("middle")
    yield lambda: p[Pane.NOISE].resample(max(p[Pane.NOISE].rows))
    yield lambda: p[Pane.NOISE].request_variation()
    for psi in (100, 40, -50, 70):
        yield lambda psi=psi: p[Pane.TRUNCATION].psi.setValue(psi)
    yield lambda: win.save_image(str(out / "saved-image.png"))
    yield lambda: shot("explore")
    yield lambda: win.docks[Pane.TRUNCATION].raise_()  # tabbed with Noise
    yield lambda: shot("explore-truncation")
    # the Interpolation pane is tabbed with Noise
    yield lambda: (win.docks[Pane.INTERPOLATION].raise_(), p[Pane.INTERPOLATION].to_seed.setValue(40))
    yield lambda: shot("explore-interpolation")
    yield lambda: (win.docks[Pane.TRAINING].raise_(), p[Pane.TRAINING].data.setText(data), p[Pane.TRAINING].check())
    yield lambda: (p[Pane.TRAINING].resolution.setCurrentText("32"), p[Pane.TRAINING].kimg.setValue(0.5),
                   p[Pane.TRAINING].run_dir.setText(tempfile.mkdtemp() + "/run"), p[Pane.TRAINING].start())
    yield "wait"
    yield lambda: shot("training")
    yield lambda: p[Pane.TRAINING].buttons["Stop"].click()
    yield lambda: shutil.which("import") and subprocess.run(["import", "-window", "root", str(out / "screen.png")], check=False)
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
