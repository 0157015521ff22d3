"""Screenshots of the Layers pane and of a travel drag through seed space (run offscreen or under Xvfb).

python docs/screenshots/take_layers_screenshots.py [MODEL] [OUTDIR]   (default: the bundled model, docs/screenshots)
"""
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from stylegan_studio.app.panes.registry import Pane
from stylegan_studio.engine.contract.latents import Latent

from studio_shot import open_studio  # beside this script

model = (sys.argv[1] if len(sys.argv) > 1 else "") or None
out = Path(sys.argv[2] if len(sys.argv) > 2 else Path(__file__).parent)
out.mkdir(parents=True, exist_ok=True)
app, bridge, win = open_studio(model, size=(1360, 860))
bridge.start()
win.show()


def settle(pred=lambda: True, seconds: float = 3.0, timeout: float = 60.0) -> None:
    """Run the event loop until `pred` holds, then `seconds` more (results stream in)."""
    end = time.time() + timeout
    while not pred() and time.time() < end:
        app.processEvents()
        time.sleep(0.02)
    end = time.time() + seconds
    while time.time() < end:
        app.processEvents()
        time.sleep(0.02)


def shot(name: str, dock: Pane | None = None) -> None:
    win.grab().save(str(out / f"{name}.png"))
    if dock:
        win.docks[dock].grab().save(str(out / f"{name}-{dock.value}.png"))


settle(lambda: win.viewer.image is not None)
pane = win.panes[Pane.LAYERS]
win.docks[Pane.LAYERS].show()
win.docks[Pane.LAYERS].raise_()
win.state.set_latent(Latent(seed=12))
settle(lambda: pane.last is not None)
shot("layers-grid", Pane.LAYERS)
pix = pane.view.pixmap()   # click the grid's third tile: that channel for the Seeds pane's faces
tile = pix.width() / pane.last.cols
QTest.mouseClick(pane.view, Qt.MouseButton.LeftButton,
                 pos=QPoint(int((pane.view.width() - pix.width()) / 2 + 2.5 * tile),
                            int((pane.view.height() - pix.height()) / 2 + tile / 2)))
pane.mode.setCurrentIndex(1)
settle(seconds=5)
shot("layers-channel-seeds")
pane.mode.setCurrentIndex(2)
for spin, c in zip(pane.chans, pane.last.order if pane.last.mode == "grid" else (0, 1, 2)):
    spin.setValue(c)
settle(seconds=3)
shot("layers-rgb", Pane.LAYERS)
win.panes[Pane.SEEDS].show_channel("", -1)
win.docks[Pane.NOISE].raise_()
win.state.set_latent(Latent(seed=12))
settle(seconds=2)
label = win.viewer.label
c = label.rect().center()
side = label.pixmap().width()
QTest.mousePress(label, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, c)
frames = [win.viewer.image]
for k in range(1, 31):   # a diagonal drag, about 1.2 seeds right and 0.6 down, in small steps
    QTest.mouseMove(label, c + QPoint(side * k // 50, side * k // 100))
    settle(seconds=0.05, timeout=1)
    if k % 5 == 0:
        settle(seconds=0.3)
        frames.append(win.viewer.image)
settle(seconds=1)
shot("travel-drag")
strip = np.concatenate([np.pad(f, ((0, 0), (0, 2), (0, 0)), constant_values=255) for f in frames], axis=1)
Image.fromarray(strip[:, :-2]).resize((strip.shape[1] * 2 - 4, strip.shape[0] * 2), Image.NEAREST).save(
    str(out / "travel-drag-frames.png"))
QTest.mouseRelease(label, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier,
                   c + QPoint(side * 30 // 50, side * 30 // 100))
win.panes[Pane.SEEDS].keep_current()
settle(seconds=1)
win.docks[Pane.SEEDS].grab().save(str(out / "travel-favourite-seeds.png"))
print("travelled to", win.state.latent.label(), "path points", len(win.state.travel_path))
bridge.close()
