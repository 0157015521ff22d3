"""Open the studio on a model, blend it with a second one in the Blend Models dialog, save screenshots.

python docs/screenshots/take_blend_screenshot.py BASE OTHER OUTDIR   (offscreen or under Xvfb)
Writes OUTDIR/blend-dialog.png (the dialog) and OUTDIR/blend.png (the dialog over the window).
"""
import sys
from pathlib import Path

from PySide6.QtCore import QPoint, QTimer
from PySide6.QtGui import QPainter

from studio_shot import open_studio  # beside this script

base, other, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
out.mkdir(parents=True, exist_ok=True)
app, bridge, win = open_studio(base, size=(1280, 720))
bridge.start()
win.show()


def start() -> None:
    win.open_blend_dialog()
    win.blend_dialog.seeds.setText("0-7")
    win.blend_dialog.choose_other(other)


def finished(ev) -> None:
    if ev.done is not None:
        return
    QTimer.singleShot(300, save)   # let the pixmaps paint


def save() -> None:
    dialog = win.blend_dialog.grab()
    dialog.save(str(out / "blend-dialog.png"))
    shot = win.grab()
    p = QPainter(shot)
    p.drawPixmap(QPoint((shot.width() - dialog.width()) // 2, (shot.height() - dialog.height()) // 2), dialog)
    p.end()
    shot.save(str(out / "blend.png"))
    bridge.close()
    app.quit()


bridge.results("blend").connect(finished)
bridge.model_info.connect(lambda info: QTimer.singleShot(500, start) if win.blend_dialog is None else None)
QTimer.singleShot(120_000, app.quit)  # never hang
app.exec()
