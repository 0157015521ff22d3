"""The window the screenshot scripts drive: the real studio on a model, with a fresh settings file.

Importing it re-execs the script under the launcher's process tuning (app/main.py), so a screenshot shows
the render times the installed app has (without passive OpenMP waits, with a training run on the other
core, the status bar said 589 ms for a render the app does in 16 ms)."""
import sys
import tempfile
from pathlib import Path

from stylegan_studio.app.main import reexec_tuned

reexec_tuned(sys.argv, window=True)  # before Qt and torch load: the process starts again

import pyqtgraph as pg  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from stylegan_studio.app.bridge import EngineBridge  # noqa: E402
from stylegan_studio.app.window import MainWindow  # noqa: E402


def open_studio(model: str | None = None, size: tuple[int, int] | None = None, **bridge_kw):
    """(app, bridge, win), not started: a fresh settings file, so a screenshot shows the default layout."""
    app = QApplication(sys.argv[:1])
    app.setApplicationName("StyleGAN Studio")
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)  # as app/studio.py sets them
    bridge = EngineBridge(model_path=model, **bridge_kw)
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "studio.ini"), QSettings.Format.IniFormat)
    win = MainWindow(bridge, settings)
    if size:
        win.resize(*size)
    return app, bridge, win
