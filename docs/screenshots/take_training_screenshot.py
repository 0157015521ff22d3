"""Open the studio, show a finished training run in the Training pane (its curves replayed), save a screenshot.

python docs/screenshots/take_training_screenshot.py RUN_DIR OUTDIR [NAME]   (offscreen or under Xvfb)
Writes OUTDIR/NAME.png (the window) and OUTDIR/NAME-training.png (the pane), the form scrolled to the augment
probability; NAME defaults to training-run.
"""
import sys
from pathlib import Path

from PySide6.QtCore import Qt, QTimer

from stylegan_studio.app.panes.registry import Pane

from studio_shot import open_studio  # beside this script

run, out = sys.argv[1], Path(sys.argv[2])
name = sys.argv[3] if len(sys.argv) > 3 else "training-run"
out.mkdir(parents=True, exist_ok=True)
app, bridge, win = open_studio(size=(1600, 1000))
bridge.start()
win.show()
pane = win.panes[Pane.TRAINING]


def start() -> None:
    win.docks[Pane.TRAINING].raise_()
    win.resizeDocks([win.docks[Pane.TRAINING]], [660], Qt.Orientation.Vertical)  # room for the curves
    pane.resume_run(run)  # a finished run: the engine replays its ticks and metrics, then stops


def save() -> None:
    row = pane.form.widgets["augment_p"]
    scroll = pane.form.parentWidget().parentWidget()  # viewport → QScrollArea
    scroll.verticalScrollBar().setValue(max(0, row.y() - 40))
    app.processEvents()
    win.grab().save(str(out / f"{name}.png"))
    win.docks[Pane.TRAINING].grab().save(str(out / f"{name}-training.png"))
    bridge.close()
    app.quit()


def finished(_ev) -> None:
    QTimer.singleShot(1500, save)  # let the curves and the fakes paint


bridge.job_finished.connect(finished)
QTimer.singleShot(3000, start)
app.exec()
