"""Run under a real X server (Xvfb, QT_QPA_PLATFORM=xcb): drag a face from Seeds onto the mixing grid's
first column slot with the mouse, as a user would, and print what the grid received.

Press and the first move start Qt's drag loop (QDrag.exec blocks); a timer that fires inside that
loop moves the cursor over the grid and releases the button there. Used by test_real_drag.py.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from PySide6.QtCore import QPoint, Qt, QTimer  # noqa: E402
from PySide6.QtGui import QCursor, QDrag  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QHBoxLayout, QWidget  # noqa: E402

from fake_bridge import FakeBridge  # noqa: E402
from stylegan_studio.app.panes.mixing import MixingPane  # noqa: E402
from stylegan_studio.app.panes.seeds import SeedsPane  # noqa: E402
from stylegan_studio.app.state import ExploreState  # noqa: E402
from stylegan_studio.engine.contract import messages as m# noqa: E402

INFO = m.ModelInfo(name="t", path="", model_id="x", resolution=16, num_ws=6, z_dim=16, w_dim=16,
                   layer_resolutions=(4, 4, 8, 8, 16, 16), device="cpu")
SEED_INDEX = 3


def glide(widget: QWidget, a: QPoint, b: QPoint, steps: int = 8) -> None:
    """Move the real cursor from a to b (widget coordinates) in steps, as a hand would."""
    for k in range(1, steps + 1):
        p = a + (b - a) * (k / steps)
        QCursor.setPos(widget.mapToGlobal(p))
        QTest.mouseMove(widget, p)
        QTest.qWait(15)


def main() -> int:
    app = QApplication(sys.argv)
    bridge, state = FakeBridge(), ExploreState()
    seeds, mixing = SeedsPane(bridge, state), MixingPane(bridge, state)
    win = QWidget()
    lay = QHBoxLayout(win)
    lay.addWidget(seeds)
    lay.addWidget(mixing, 1)
    win.resize(1100, 560)
    win.show()
    state.set_model(INFO)
    mixing.clear()
    if not QTest.qWaitForWindowExposed(win, 5000):
        print("window never exposed")
        return 1
    QTest.qWait(200)
    view = seeds.grid.viewport()
    start = seeds.grid.visualItemRect(seeds.grid.item(SEED_INDEX)).center()
    grid = mixing.grid
    target = QPoint(grid.tile + grid.tile // 2, grid.tile // 2)  # the first column slot

    tries = iter(range(400))

    def inside_drag_loop() -> None:
        if not seeds.grid.findChildren(QDrag) and next(tries, None) is not None:
            QTimer.singleShot(50, inside_drag_loop)  # the drag has not started yet (a slow machine): look again
            return
        glide(grid, grid.mapFromGlobal(view.mapToGlobal(start)), target)
        QTimer.singleShot(150, lambda: QTest.mouseRelease(grid, Qt.MouseButton.LeftButton, pos=target))
    QTimer.singleShot(50, inside_drag_loop)
    QCursor.setPos(view.mapToGlobal(start))
    QTest.mousePress(view, Qt.MouseButton.LeftButton, pos=start)
    glide(view, start, start + QPoint(30, 0), steps=4)  # past the drag distance: the drag loop starts here
    QTest.qWait(300)
    print("columns:", [lat.label() for lat in grid.cols], "rows:", [lat.label() for lat in grid.rows])
    req = bridge.last(m.RenderMixGrid)
    print("requested columns:", [lat.label() for lat in req.cols] if req else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
