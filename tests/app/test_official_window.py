"""The window opens official pickles (drop or Open Model), converted once with a notice; 1024² stays usable."""
import time

import pytest
from PySide6.QtCore import QMimeData, QUrl

import official_fixtures as fx
from helpers import tiny_generator
import studio_window
from stylegan_studio.app.panes.registry import Pane
from stylegan_studio.app.window import MainWindow
from stylegan_studio.engine.files.modelfile import save_model
from stylegan_studio.engine.contract.latents import Latent
from test_app_panes import drop


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("STYLEGAN_STUDIO_CACHE", str(tmp_path / "cache"))


def start_window(qtbot, tmp_path, model: str) -> MainWindow:
    """A 1024² model's first render takes minutes on a CPU."""
    return studio_window.start_window(qtbot, tmp_path, model, timeout_ms=120000)


def pkl_mime(path) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    return mime


def test_dropping_a_pkl_converts_it_once_and_shows_it(qtbot, tmp_path):
    """256² with few channels: the same code paths as a large model, fast enough for every run."""
    small = tmp_path / "small.safetensors"
    save_model(tiny_generator(16), small)
    pkl = fx.write(tmp_path / "tiny256.pkl", fx.snapshot(fx.tiny_kwargs(256), seed=2))
    win = start_window(qtbot, tmp_path, str(small))
    try:
        with qtbot.waitSignal(win.bridge.model_info, timeout=60000) as sig:
            assert drop(win, pkl_mime(pkl), 50, 50)[1]
        assert sig.args[0].notice.startswith("Converted the official StyleGAN pickle tiny256.pkl")
        qtbot.waitUntil(lambda: win.viewer.image is not None and win.viewer.image.shape == (256, 256, 3),
                        timeout=60000)
        assert "tiny256" in win.model_label.text() and "256²" in win.model_label.text()
        assert "Converted" in win.statusBar().currentMessage()
        assert len(win.panes[Pane.MIXING].picker.toggles) == 14 and sorted(win.panes[Pane.NOISE].rows)[-1] == 256
        with qtbot.waitSignal(win.bridge.model_info, timeout=60000) as sig:
            win.open_model(str(pkl))
        assert "cached conversion" in sig.args[0].notice
    finally:
        win.bridge.close()


def test_a_refused_pkl_keeps_the_model_and_says_why(qtbot, tmp_path):
    small = tmp_path / "small.safetensors"
    save_model(tiny_generator(16), small)
    marker = tmp_path / "marker"
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(f"cos\nsystem\n(S'touch {marker}'\ntR.".encode())
    win = start_window(qtbot, tmp_path, str(small))
    try:
        with qtbot.waitSignal(win.bridge.error, timeout=30000) as sig:
            win.open_model(str(evil))
        assert "refused" in sig.args[0].message and "os.system" in sig.args[0].message
        assert not marker.exists() and "16²" in win.model_label.text()
    finally:
        win.bridge.close()


def official_1024(tmp_path):
    kw = fx.tiny_kwargs(1024, fmap_base=8192, fmap_max=512, latent_size=512, dlatent_size=512,
                       mapping_layers=8, mapping_fmaps=512)
    return fx.write(tmp_path / "official1024.pkl", fx.snapshot(kw, seed=0))


@pytest.mark.slow
def test_1024_window_fits_and_keeps_the_viewer_responsive(qtbot, tmp_path):
    """The official 1024² architecture (random weights): 18 layer toggles and 9 noise rows fit a 1360×860
    window, and while seed, mixing and ψ thumbnails stream, a new seed shows within a few renders."""
    win = start_window(qtbot, tmp_path, str(official_1024(tmp_path)))
    try:
        win.resize(1360, 860)
        assert win.minimumSizeHint().height() <= 860 and win.minimumSizeHint().width() <= 1360
        mixing = win.panes[Pane.MIXING]
        assert len(mixing.picker.toggles) == 18 and mixing.picker.box.sizeHint().width() < 400
        assert len(win.panes[Pane.NOISE].rows) == 9
        for k in range(2):
            mixing.set_source("row", k, Latent(seed=k + 1))
        mixing.set_source("col", 0, Latent(seed=9))
        time.sleep(2)  # let the seed grid, the mixing grid and the ψ strip start streaming
        t0 = time.monotonic()
        with qtbot.waitSignal(win.bridge.results("viewer"), timeout=120000,
                              check_params_cb=lambda ev: ev.target == "viewer") as sig:
            win.step_seed(1)
        waited, one = time.monotonic() - t0, sig.args[0].seconds
        # At most one streamed thumbnail is in flight when the request arrives (unstreamed, the mixing
        # grid and the ψ strip alone would hold it back for 11 renders).
        assert waited < 3 * one + 5, f"waited {waited:.1f} s for a {one:.1f} s render"
    finally:
        win.bridge.close()
