"""Open Saved Image: a PNG the studio saved comes back in the window as it was saved; other images are projected."""
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from helpers import tiny_generator
from stylegan_studio.app.panes.registry import Pane
from stylegan_studio.app.restore import RESTORE
from stylegan_studio.engine.contract.latents import Latent, NoiseSpec, RenderSettings
from stylegan_studio.engine.contract.requests import (RenderFigure, RenderImage, RenderInterpolation, RenderLayer,
                                                     RenderMixGrid, RenderSeedGrid, RenderTruncationStrip,
                                                     RenderVariation)
from stylegan_studio.engine.files.modelfile import read_header, save_model
from stylegan_studio.engine.files.pngio import read_provenance, save_png
from stylegan_studio.engine.files.provenance import model_record, record
from test_app_panes import drop
from test_app_projection import file_mime
from test_app_window import window  # noqa: F401  (the fixture: a window on a real engine and a tiny model)

W = np.linspace(-1, 1, 16).astype(np.float32)
# exact values the sliders cannot hold (ψ 0.537): what comes back is the record, not the slider's rounding
SETTINGS = RenderSettings(psi=0.537, cutoff=4, noise=NoiseSpec.parse("const; 8:random#3x0.5; 16:zero"))
SAVED = [
    RenderImage(latent=Latent(w=W), settings=SETTINGS, mix_with=Latent(seed=9), mix_layers=(0, 1, 2)),
    RenderVariation(latent=Latent(seed=3), settings=SETTINGS, mix_with=Latent(seed=4), mix_layers=(0,), draws=12),
    RenderTruncationStrip(latent=Latent(seed=6), settings=SETTINGS, thumb=None),
    RenderTruncationStrip(latent=Latent(seed=6), settings=SETTINGS, thumb=None, mix_with=Latent(seed=1), mix_layers=(5,)),
    RenderLayer(latents=(Latent(seed=5),), settings=SETTINGS, layer="8x8/conv0", mode="rgb", channels=(3, 1, 2),
                size=320),
    RenderMixGrid(rows=(Latent(seed=1), Latent(w=W)), cols=(Latent(seed=2),), layers=(4, 5), settings=SETTINGS,
                  thumb=None),
    RenderInterpolation(start=Latent(seed=11), end=Latent(seed=7), steps=5, settings=SETTINGS, thumb=None),
    RenderInterpolation(start=Latent(seed=11), end=Latent(w=-W), steps=3, settings=SETTINGS, thumb=None),  # to a face
    RenderInterpolation(start=Latent(seed=11), end=Latent(seed=2), steps=4, settings=SETTINGS, thumb=None,
                        mix_with=Latent(seed=30), mix_layers=(3, 4)),                                       # mixed
    RenderSeedGrid(seeds=(3, 4, 5, 6, 20), settings=SETTINGS, thumb=None),
]


def other_model(folder):
    """Another model (other weights: another model id) saved as `folder`/other.safetensors."""
    folder.mkdir()
    save_model(tiny_generator(16, seed=1), folder / "other.safetensors")
    return folder / "other.safetensors"


def save_record(path, spec, model, **extra):
    """A PNG carrying the record of `spec` made with `model` (the pixels do not matter to a restore)."""
    rec = record(spec, model_record(read_header(model)[1].model_id, "tiny", model, **extra))
    save_png(path, np.zeros((16, 16, 3), np.uint8), rec)
    return path


def opened(win, qtbot, path, text="Opened"):
    """Open `path` as a user does (File → Open Saved Image) and wait for the status line starting with `text`."""
    win.open_saved_image(str(path))
    qtbot.waitUntil(lambda: win.statusBar().currentMessage().startswith(text), timeout=20000)
    return win.statusBar().currentMessage()


def shown(win, spec):
    """What the window shows, as a request of `spec`'s kind (compared with the saved one)."""
    st, p = win.state, win.panes
    face = dict(settings=st.settings, mix_with=st.mix_with, mix_layers=st.mix_layers)
    if isinstance(spec, RenderImage):
        req = RenderImage(latent=st.latent, **face)
    elif isinstance(spec, RenderVariation):
        req = RenderVariation(latent=st.latent, **face, draws=p[Pane.NOISE].draws.value())
    elif isinstance(spec, RenderTruncationStrip):
        req = replace(p[Pane.TRUNCATION].strip_request(), thumb=None)
    elif isinstance(spec, RenderLayer):
        req = replace(p[Pane.LAYERS].view_request(latents=(st.latent,)), mix_with=st.mix_with,
                      mix_layers=st.mix_layers)
    elif isinstance(spec, RenderMixGrid):
        req = p[Pane.MIXING].grid_request()
    elif isinstance(spec, RenderInterpolation):
        req = p[Pane.INTERPOLATION].strip_request()
    else:
        req = RenderSeedGrid(seeds=p[Pane.SEEDS].seeds, settings=st.settings, thumb=None)
    return replace(req, target="")


@pytest.mark.parametrize("spec", SAVED, ids=lambda s: s.kind)
def test_every_kind_the_window_shows_comes_back_as_saved(spec, window, qtbot, tmp_path):  # noqa: F811
    assert set(RESTORE) == {type(s) for s in SAVED}  # a new restorable kind gets a case here
    path = save_record(tmp_path / "saved.png", spec, window.state.model.path)
    message = opened(window, qtbot, path)
    assert "\n" not in message and "saved.png" in message
    assert window.state.settings == SETTINGS
    assert shown(window, spec) == spec
    trunc = window.panes[Pane.TRUNCATION]
    assert trunc.psi.value() == 54 and trunc.psi_label.text() == "+0.54" and trunc.cutoff.value() == 4
    assert window.panes[Pane.NOISE].rows[16][0].currentText() == "Off"


def test_a_face_saved_from_the_window_comes_back_pixel_for_pixel(window, qtbot, tmp_path):  # noqa: F811
    window.state.set_latent(Latent(seed=7), Latent(seed=2), (3, 4, 5))
    window.panes[Pane.TRUNCATION].psi.setValue(-35)
    window.panes[Pane.NOISE].resample(16)
    with qtbot.waitSignal(window.bridge.saved, timeout=20000):
        window.save_image(str(tmp_path / "before.png"))
    window.state.set_latent(Latent(seed=1))                 # the user moves on
    window.panes[Pane.TRUNCATION].set_values(1.0, None)
    window.panes[Pane.NOISE].resample(16)
    opened(window, qtbot, tmp_path / "before.png")
    with qtbot.waitSignal(window.bridge.saved, timeout=20000):
        window.save_image(str(tmp_path / "after.png"))
    assert read_provenance(tmp_path / "after.png") == read_provenance(tmp_path / "before.png")
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "after.png")),
                                  np.asarray(Image.open(tmp_path / "before.png")))
    qtbot.waitUntil(lambda: np.array_equal(window.viewer.image, np.asarray(Image.open(tmp_path / "before.png"))),
                    timeout=20000)


def test_an_image_made_with_another_model_opens_that_model_first(window, qtbot, tmp_path):  # noqa: F811
    other = other_model(tmp_path / "other")
    spec = SAVED[0]
    path = save_record(tmp_path / "other.png", spec, other)
    message = opened(window, qtbot, path)
    assert window.state.model.path == str(other) and "other.png" in message
    assert shown(window, spec) == spec


def test_a_dropped_png_from_the_studio_is_restored_and_any_other_image_projected(window, qtbot, tmp_path):  # noqa: F811
    path = save_record(tmp_path / "face.png", SAVED[0], window.state.model.path)
    assert drop(window, file_mime(path), 50, 50) == (True, True)
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith("Opened face.png"), timeout=20000)
    assert shown(window, SAVED[0]) == SAVED[0] and not window.project_dialog.isVisible()
    Image.new("RGB", (20, 20), (10, 200, 30)).save(tmp_path / "photo.png")
    window.project_dialog.steps.setValue(5000)
    with qtbot.waitSignal(window.bridge.job_started, timeout=20000, check_params_cb=lambda ev: ev.kind == "project"):
        drop(window, file_mime(tmp_path / "photo.png"), 50, 50)
    assert window.project_dialog.isVisible() and "not saved by the studio" in window.statusBar().currentMessage()
    with qtbot.waitSignal(window.bridge.job_finished, timeout=20000):
        window.project_dialog.cancel_btn.click()


def unchanged(win):
    """What the window shows now, to check that a refused image changed nothing."""
    st = win.state
    return st.model.path, st.latent, st.settings, st.mix_with, tuple(win.panes[Pane.MIXING].grid.rows)


@pytest.mark.parametrize("case", ["missing model", "figure", "live G_ema", "damaged", "unreadable"])
def test_an_image_that_cannot_come_back_is_one_line_and_changes_nothing(case, window, qtbot, tmp_path):  # noqa: F811
    before = unchanged(window)
    model, path = window.state.model.path, tmp_path / "x.png"
    if case == "missing model":
        other = other_model(tmp_path / "gone")
        save_record(path, SAVED[0], other)
        other.unlink()
        expect = "x.png was made with tiny"
    elif case == "figure":
        save_record(path, RenderFigure(name="truncation", seeds=(0, 1)), model)
        expect = "x.png is a figure the window cannot show"
    elif case == "live G_ema":
        save_record(path, SAVED[0], model, training_kimg=12.5)
        expect = "x.png was made with a training run's G_ema at 12.5 kimg"
    elif case == "damaged":
        rec = record(SAVED[0], model_record("id", "tiny", model))
        save_png(path, np.zeros((4, 4, 3), np.uint8), {**rec, "latent": "seven"})
        expect = "Error: "
    else:
        path.write_bytes(b"\x89PNG not really")
        expect = "Error: cannot read"
    message = opened(window, qtbot, path, expect.split(":")[0] if case in ("damaged", "unreadable") else expect)
    assert "\n" not in message and str(path.name) in message, message
    assert expect in message, message
    if case == "figure":
        assert "generate --from-png x.png" in message
    qtbot.wait(200)   # nothing follows (no model opens, no projection starts)
    assert unchanged(window) == before and not window.project_dialog.isVisible()


def test_a_seed_page_exported_from_the_window_comes_back_and_regenerates(window, qtbot, tmp_path):  # noqa: F811
    from stylegan_studio.engine.cli.main import main
    seeds = window.panes[Pane.SEEDS]
    seeds.entry.setText("5-9, 30")
    seeds.apply_range()
    with qtbot.waitSignal(window.bridge.saved, timeout=20000):
        seeds.export_page(str(tmp_path / "page.png"))      # File → Export Seed Page…
    rec = read_provenance(tmp_path / "page.png")
    assert rec["kind"] == "grid" and rec["seeds"] == [5, 6, 7, 8, 9, 30] and rec["thumb"] is None
    assert Image.open(tmp_path / "page.png").size[0] >= 3 * 16
    seeds.entry.setText("0-63")
    seeds.apply_range()
    opened(window, qtbot, tmp_path / "page.png")
    assert seeds.entry.text() == "5-9, 30" and seeds.seeds == (5, 6, 7, 8, 9, 30)
    assert main(["generate", "--from-png", str(tmp_path / "page.png"), "--grid", str(tmp_path / "again.png")]) == 0
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "page.png")),
                                  np.asarray(Image.open(tmp_path / "again.png")))
