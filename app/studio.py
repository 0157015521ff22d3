"""Launch the studio window on a model (the bundled one by default)."""
from __future__ import annotations

import argparse
import sys

import pyqtgraph as pg
from PySide6.QtWidgets import QApplication

from ..engine.contract.messages import NewModel
from .bridge import EngineBridge, bundled_model_path
from .window import MainWindow, last_model, studio_settings


def parse(argv: list[str]) -> argparse.Namespace:
    """`stylegan-studio [--model PATH | PATH]`."""
    ap = argparse.ArgumentParser(prog="stylegan-studio", description="Open the StyleGAN Studio window.")
    ap.add_argument("path", nargs="?", help="model file to open")
    ap.add_argument("--model", help="model file to open")
    return ap.parse_args(argv)


def launch(argv: list[str]) -> int:
    """Create the application, the engine bridge and the window; run until the window closes."""
    args = parse(argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("StyleGAN Studio")
    app.setOrganizationName("stylegan-studio")
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)
    settings = studio_settings()
    path = args.model or args.path or last_model(settings)   # where the last session left off; first: bundled
    bridge = EngineBridge(model_path=path, load_bundled=path is None)
    window = MainWindow(bridge, settings)
    bridge.start()
    if path is None and bundled_model_path() is None:
        bridge.post(NewModel())
        window.statusBar().showMessage("No bundled model in this install: showing a freshly initialised model", 0)
    window.show()
    code = app.exec()
    bridge.close()
    return code
