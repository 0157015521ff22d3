"""Every writer into a full disk or a read-only folder keeps the previous file and says so in one line.

The folder is a real tiny tmpfs (filled to the last byte, or remounted read-only) where this process may
mount one (root on Linux). Elsewhere a full disk is simulated at the lowest level every writer shares
(os.fsync and os.replace raise ENOSPC) and a read-only folder is a chmod 555 folder (not for root)."""
import errno
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from helpers import tiny_generator
from stylegan_studio.app.panes.registry import Pane
from stylegan_studio.engine.contract.errors import EXPECTED
from stylegan_studio.engine.files.fileio import atomic_write_bytes, describe_os_error
from stylegan_studio.engine.contract.latentfile import encode_latents
from stylegan_studio.engine.files.modelfile import save_model
from stylegan_studio.engine.files.provenance import model_record
from stylegan_studio.engine.render import exports
from stylegan_studio.engine.contract.latents import Latent, RenderSettings
from stylegan_studio.engine.contract.requests import RenderImage
from stylegan_studio.engine.render.video import encode
from stylegan_studio.engine.train.state import write_state


def _mount(path, *options) -> bool:
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        return False
    return subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join(options), "tmpfs", str(path)],
                          capture_output=True).returncode == 0


def _fill(folder) -> None:
    """Write until the filesystem has no byte left."""
    try:
        with open(folder / "filler", "wb") as f:
            while True:
                f.write(b"\0" * 4096)
                f.flush()
    except OSError as exc:
        assert exc.errno == errno.ENOSPC


class BadFolder:
    """A folder holding previous files that then becomes full or read-only."""

    def __init__(self, root, how: str, monkeypatch) -> None:
        self.path, self.how, self.mp = root / "out", how, monkeypatch
        self.path.mkdir()
        self.mounted = how != "simulated-full" and _mount(self.path, "size=2m")
        if how == "simulated-full":
            self.how = "full"

    def spoil(self) -> None:
        """Make the folder full or read-only now that the previous files are in it."""
        if self.mounted and self.how == "full":
            _fill(self.path)
        elif self.mounted:
            subprocess.run(["mount", "-o", "remount,ro", str(self.path)], check=True)
        elif self.how == "readonly" and os.geteuid() != 0:
            os.chmod(self.path, 0o555)
        else:  # simulated: the last two steps every atomic write takes (fsync, rename) fail as on a full disk
            def full(*a, **k):
                raise OSError(errno.ENOSPC, "No space left on device")
            self.mp.setattr(os, "fsync", full)
            self.mp.setattr(os, "replace", full)

    def close(self) -> None:
        self.mp.undo()
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.path)], capture_output=True)
        elif self.path.exists():
            os.chmod(self.path, 0o755)


@pytest.fixture(params=["full", "readonly", "simulated-full"])
def bad(request, tmp_path, monkeypatch):
    folder = BadFolder(tmp_path, request.param, monkeypatch)
    yield folder
    folder.close()


def _tensors():
    return {"G.x": torch.arange(6.0)}


def _video(path):
    frames = np.zeros((2, 16, 16, 3), np.uint8)
    for _ in encode([frames], path, 4, 5, "{}"):
        pass


G = tiny_generator(16)
MODEL = model_record("m", "m", "m.safetensors")
WRITERS = {  # name → (write the file, the words its line must hold)
    "snapshot": lambda p: save_model(G, p / "snapshot-000001.safetensors"),
    "state": lambda p: write_state(p / "state-000001.safetensors", _tensors(), {"counters": "{}"}),
    "png": lambda p: exports.save(p / "seed0001.png", G, RenderImage(latent=Latent(seed=1), settings=RenderSettings()), MODEL),
    "video-gif": lambda p: _video(p / "walk.gif"),
    "video-mp4": lambda p: _video(p / "walk.mp4"),
    "latents": lambda p: atomic_write_bytes(p / "latents.npz", encode_latents(np.zeros((1, 16)), ["seed 1"])),
}


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_a_writer_keeps_the_previous_file_and_says_so_in_one_line(bad, writer):
    WRITERS[writer](bad.path)
    before = {p.name: p.read_bytes() for p in bad.path.iterdir()}
    bad.spoil()
    with pytest.raises(EXPECTED) as info:
        WRITERS[writer](bad.path)
    text = str(info.value)
    assert "\n" not in text and len(text) < 300
    assert ("disk is full" if bad.how == "full" else "read-only" if bad.mounted else "permission denied") in text
    after = {p.name: p.read_bytes() for p in bad.path.iterdir() if p.name != "filler"}
    assert after == before  # the previous file is whole, and nothing half-written lies beside it


def test_read_only_filesystem_is_named_as_such():
    assert describe_os_error(OSError(errno.EROFS, "Read-only file system")) == "the disk is read-only"


def test_the_window_shows_write_errors_and_keeps_rendering(bad, qtbot, tmp_path):
    """Save Image, Save latents and the window's own settings into the spoiled folder: one line each, still up."""
    from PySide6.QtCore import QSettings
    from stylegan_studio.app.bridge import EngineBridge
    from stylegan_studio.app.window import MainWindow
    model = tmp_path / "tiny.safetensors"
    save_model(G, model)
    settings = QSettings(str(bad.path / "settings.ini"), QSettings.Format.IniFormat)
    bridge = EngineBridge(model_path=str(model), threads=1)
    win = MainWindow(bridge, settings)
    qtbot.addWidget(win)
    try:
        with qtbot.waitSignal(bridge.results("viewer"), timeout=30000):
            bridge.start()
            win.show()
        win.remember(crisp=True)
        previous = (bad.path / "settings.ini").read_bytes()
        bad.spoil()
        win.set_crisp(False)
        if bad.mounted or bad.how == "readonly":  # Qt writes in C++: a patched os.fsync does not reach it
            assert "cannot save the window's settings" in win.statusBar().currentMessage()
            assert (bad.path / "settings.ini").read_bytes() == previous
        for save in (lambda: win.save_image(str(bad.path / "x.png")),
                     lambda: win.panes[Pane.SEEDS].keep_current() or win.panes[Pane.SEEDS].save_favourites(
                         str(bad.path / "l.npz"))):
            with qtbot.waitSignal(bridge.error, timeout=20000) as sig:
                save()
            assert "\n" not in sig.args[0].message and "cannot write" in sig.args[0].message
            assert win.statusBar().currentMessage().startswith("Error: cannot write")
        with qtbot.waitSignal(bridge.results("viewer"), timeout=20000):  # and the window still renders
            win.step_seed(1)
        assert win.isVisible()
    finally:
        bridge.close()


def test_a_failed_state_write_says_whether_an_earlier_snapshot_is_there(tmp_path, monkeypatch):
    from stylegan_studio.engine.files.fileio import WriteError
    from stylegan_studio.engine.train import state

    def full(path, data):
        raise WriteError(f"cannot write {path}: the disk is full")
    monkeypatch.setattr(state, "atomic_write_bytes", full)
    with pytest.raises(EXPECTED, match=r"the disk is full \(no snapshot was saved yet\)$"):
        write_state(tmp_path / "state-000005.safetensors", _tensors(), {"counters": "{}"})
    (tmp_path / "state-000005.safetensors").write_bytes(b"")
    with pytest.raises(EXPECTED, match=r"\(the previous snapshot is intact\)$"):
        write_state(tmp_path / "state-000010.safetensors", _tensors(), {"counters": "{}"})
