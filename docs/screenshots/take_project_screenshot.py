"""Open the studio on a model, project one image in the Project Image dialog, save a screenshot.

python docs/screenshots/take_project_screenshot.py MODEL IMAGE OUTDIR [STEPS]   (offscreen or under Xvfb)
Writes OUTDIR/project-image.png: the dialog after the projection, centred over the window that shows the result
(kept as a favourite in the Seeds pane). IMAGE: any image file, e.g. a held-out avatar.
"""
import sys
from pathlib import Path

from PySide6.QtCore import QPoint, QTimer
from PySide6.QtGui import QPainter

from studio_shot import open_studio  # beside this script

model, image, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
steps = int(sys.argv[4]) if len(sys.argv) > 4 else 150
out.mkdir(parents=True, exist_ok=True)
app, bridge, win = open_studio(model, size=(1360, 860))
bridge.start()
win.show()
started = []


def start() -> None:
    if started:
        return
    started.append(True)
    win.project_dialog.steps.setValue(steps)
    win.project_image(image)


def save() -> None:
    dialog = win.project_dialog.grab()
    shot = win.grab()
    p = QPainter(shot)
    p.drawPixmap(QPoint((shot.width() - dialog.width()) // 2, (shot.height() - dialog.height()) // 2), dialog)
    p.end()
    shot.save(str(out / "project-image.png"))
    print(win.statusBar().currentMessage())
    bridge.close()
    app.quit()


bridge.projection_done.connect(lambda ev: QTimer.singleShot(2500, save))  # the viewer renders the result
bridge.model_info.connect(lambda info: QTimer.singleShot(1500, start))
QTimer.singleShot(300_000, app.quit)  # never hang
app.exec()
