"""The real window on a real engine, as the window tests open it (one place for every test file)."""
from pathlib import Path

from PySide6.QtCore import QSettings

from helpers import tiny_generator
from stylegan_studio.app.bridge import EngineBridge
from stylegan_studio.app.window import MainWindow
from stylegan_studio.engine.files.modelfile import save_model


def start_window(qtbot, tmp_path: Path, model: str, timeout_ms: int = 30000) -> MainWindow:
    """Open `model` in a window with its own settings file; returns once the first image is shown."""
    bridge = EngineBridge(model_path=model, threads=1)
    win = MainWindow(bridge, QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    with qtbot.waitSignal(bridge.results("viewer"), timeout=timeout_ms):
        bridge.start()
        win.show()
    return win


def tiny_model(tmp_path: Path, res: int = 16) -> Path:
    """A small random generator saved as a model file."""
    model = tmp_path / "tiny.safetensors"
    save_model(tiny_generator(res), model)
    return model
