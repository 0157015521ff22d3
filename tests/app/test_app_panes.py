"""Each pane against a fake bridge: widgets produce the right requests; events update widgets."""
import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from fake_bridge import FakeBridge
from stylegan_studio.app.panes.mixing import MIN_TILE, MixingPane
from stylegan_studio.app.panes.noise import NoisePane
from stylegan_studio.app.panes.seeds import SeedsPane
from stylegan_studio.app.panes.training import TrainingPane
from stylegan_studio.app.panes.truncation import PSIS, TruncationPane
from stylegan_studio.app.qtutil import latent_from_mime, latent_to_mime
from stylegan_studio.app.state import ExploreState
from stylegan_studio.engine.contract import messages as m
from stylegan_studio.engine.contract.latents import Latent, NoiseSpec, ResNoise

INFO = m.ModelInfo(name="t", path="", model_id="x", resolution=16, num_ws=6, z_dim=16, w_dim=16,
                   layer_resolutions=(4, 4, 8, 8, 16, 16), device="cpu")


TICK = m.TrainingTick(1, 0.5, 16, 1.0, 8, 10.0, 100.0, 0.7, 1.2, 0.01, 0.3, -0.2, 0.0,
                      job_id=1, run_dir="r", total_kimg=20, seconds=1.0, eta_s=60.0)   # a run's first tick


@pytest.fixture
def env(qtbot):
    bridge, state = FakeBridge(), ExploreState()
    return bridge, state


@pytest.fixture
def training(env, qtbot):
    """(bridge, a Training pane on it)."""
    pane = TrainingPane(*env)
    qtbot.addWidget(pane)
    return env[0], pane


def drop(widget, mime, x, y):
    pos = QPoint(x, y)
    enter = QDragEnterEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    ev = QDropEvent(QPointF(pos), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                    Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, ev)
    return enter.isAccepted(), ev.isAccepted()


def test_seeds_pane_requests_pages_and_fills_thumbnails(env, qtbot):
    bridge, state = env
    pane = SeedsPane(bridge, state)
    qtbot.addWidget(pane)
    pane.entry.setText("7, 42, 100-102")
    pane.apply_range()
    req = bridge.last(m.RenderSeedGrid)
    assert req.seeds == (7, 42, 100, 101, 102) and pane.grid.count() == 5
    img = np.full((2, 8, 8, 3), 200, np.uint8)
    bridge.results("seeds").emit(m.GridChunk("seeds", req.stamp, 0.01, start=1, images=img, total=5))
    assert not pane.grid.item(1).icon().isNull()
    pane.entry.setText("nonsense")
    with qtbot.waitSignal(pane.status):
        pane.apply_range()
    with qtbot.waitSignal(pane.latent_chosen) as sig:
        pane.grid.itemClicked.emit(pane.grid.item(1))
    assert sig.args[0] == Latent(seed=42)
    mime = pane.grid.mimeData([pane.grid.item(2)])
    assert latent_from_mime(mime) == Latent(seed=100)


def test_paging_a_long_range(env, qtbot):
    bridge, state = env
    pane = SeedsPane(bridge, state)
    qtbot.addWidget(pane)
    pane.entry.setText("0-199")
    pane.apply_range()
    pane.turn(1)
    assert bridge.last(m.RenderSeedGrid).seeds[0] == 64 and pane.page_label.text() == "2/4"


def test_latent_mime_roundtrip_with_w():
    w = np.arange(4, dtype=np.float32)
    back = latent_from_mime(latent_to_mime(Latent(w=w)))
    np.testing.assert_array_equal(back.w, w)


def empty_mixing_pane(env, qtbot, size=None, info=INFO):
    """A Mixing pane on a model, its pre-filled grid cleared; shown at `size` if given."""
    bridge, state = env
    pane = MixingPane(bridge, state)
    qtbot.addWidget(pane)
    if size:
        pane.resize(*size)
        pane.show()
    state.set_model(info)
    pane.clear()
    return pane


def test_mixing_drop_adds_and_replaces_sources_and_layers_change_request(env, qtbot):
    bridge, state = env
    pane = empty_mixing_pane(env, qtbot, (600, 500))
    grid = pane.grid
    assert drop(grid, latent_to_mime(Latent(seed=5)), grid.tile + 5, 5) == (True, True)      # top row → column
    assert drop(grid, latent_to_mime(Latent(seed=6)), 5, grid.tile + 5)[1]                 # left column → row
    drop(grid, latent_to_mime(Latent(seed=9)), grid.tile + 5, 5)                           # replaces column 0
    req = bridge.last(m.RenderMixGrid)
    assert req.cols == (Latent(seed=9),) and req.rows == (Latent(seed=6),)
    assert req.layers == (0, 1, 2, 3)
    pane.picker.preset("middle")
    assert bridge.last(m.RenderMixGrid).layers == (4, 5)
    pane.picker.toggles[0].setChecked(True)
    assert bridge.last(m.RenderMixGrid).layers == (0, 4, 5)
    cells = np.zeros((1, 1, 8, 8, 3), np.uint8)
    bridge.results("mixing").emit(m.MixGridReady("mixing", req.stamp, 0.1, row_images=cells[0], col_images=cells[0],
                                                  cells=cells))
    assert grid.cells is not None
    with qtbot.waitSignal(pane.cell_chosen) as sig:
        grid.cell_clicked.emit(0, 0)
    assert sig.args[0] == Latent(seed=6) and sig.args[1] == Latent(seed=9)
    pane.remove_source("col", 0)
    assert grid.cols == []


def test_an_empty_tiles_text_fits_the_tile_at_every_size(env, qtbot):
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QFontMetrics
    from stylegan_studio.app.panes.mixing import HINT_FLAGS
    bridge, state = env
    grid = MixingPane(bridge, state).grid
    qtbot.addWidget(grid)
    for tile in (MIN_TILE, 50, 64, 79, 80, 120, 200):
        grid.tile = tile
        box = QRect(0, 0, tile - 2, tile - 2)
        metrics = QFontMetrics(grid.hint_font(grid.font()))
        for text in (grid._pending(), grid._hint("row"), grid._hint("column")):
            used = metrics.boundingRect(box, int(HINT_FLAGS.value), text)   # "rendering…" was clipped in 42 px
            assert box.contains(used), (tile, text, used)


def test_mixing_tiles_fill_the_pane_then_scroll(env, qtbot):
    pane = empty_mixing_pane(env, qtbot)
    grid = pane.grid
    for k in range(3):
        pane.set_source("row", k, Latent(seed=k))
    pane.set_source("col", 0, Latent(seed=9))
    pane.resize(700, 700)
    pane.show()
    qtbot.waitUntil(lambda: grid.height() > 400)
    big = grid.tile
    assert 5 * big <= grid.height() and big > 80          # five tiles down: header, 3 rows, the drop slot
    for k in range(3, 16):
        pane.set_source("row", k, Latent(seed=k))
    qtbot.waitUntil(lambda: grid.height() >= 18 * MIN_TILE)  # too many rows: the grid grows and scrolls ...
    assert grid.tile == MIN_TILE                               # ... with tiles at their minimum size
    assert grid.hit(2 * MIN_TILE + 3, 3 * MIN_TILE + 3) == ("cell", 2, 1)


def test_noise_pane_resample_changes_one_resolution(env, qtbot):
    bridge, state = env
    pane = NoisePane(bridge, state)
    qtbot.addWidget(pane)
    state.set_model(INFO)
    assert sorted(pane.rows) == [4, 8, 16]
    pane.resample(16)
    n = state.settings.noise
    assert n.at(16).mode == "random" and n.at(8).mode == "const"
    pane.rows[8][0].setCurrentIndex(2)
    assert state.settings.noise.at(8).mode == "zero"
    pane.rows[4][1].setValue(50)
    assert state.settings.noise.at(4).strength == 0.5
    pane.resample_group("coarse")
    assert state.settings.noise.at(4).mode == "random" and state.settings.noise.at(8).mode == "random"
    pane.request_variation()
    assert isinstance(bridge.last(m.RenderVariation), m.RenderVariation)
    bridge.results("variation").emit(m.VariationReady("variation", 1, 0.1, image=np.zeros((16, 16, 3), np.uint8),
                                                      std_map=np.random.rand(16, 16).astype(np.float32)))
    assert pane.variation.pixmap() is not None and not pane.variation.pixmap().isNull()


def test_truncation_pane_sets_psi_and_cutoff(env, qtbot):
    bridge, state = env
    pane = TruncationPane(bridge, state)
    qtbot.addWidget(pane)
    pane.show()
    state.set_model(INFO)
    pane.psi.setValue(-50)
    assert state.settings.psi == -0.5 and pane.psi_label.text() == "-0.50"
    pane.set_values(0.7, 8)
    assert state.settings.psi == 0.7 and state.settings.cutoff is None  # 8 ≥ 6 layers → all
    pane.cutoff.setValue(3)
    assert state.settings.cutoff == 3
    assert bridge.last(m.RenderTruncationStrip).psis == (1.0, 0.7, 0.5, 0.0, -0.5, -1.0)


def test_training_pane_posts_commands_and_plots_ticks(env, qtbot, tmp_path):
    bridge, state = env
    pane = TrainingPane(bridge, state)
    qtbot.addWidget(pane)
    pane.data.setText(str(tmp_path))
    pane.check()
    assert bridge.last(m.ValidateDataset).path == str(tmp_path)
    bridge.dataset_summary.emit(m.DatasetSummary(str(tmp_path), 10, 32, (("bad.png", "corrupt"),)))
    assert "10 images" in pane.summary.text() and "bad.png" in pane.summary.text()
    pane.start()
    cfg = bridge.last(m.StartTraining).config
    assert cfg.data == str(tmp_path) and cfg.resolution == 32
    # A 20 kimg run to 32² grows in 4 kimg phases, so it ends with 4 kimg of stable training at 32².
    assert cfg.fade_kimg == cfg.stable_kimg == 4.0 and "then 4 kimg at 32²" in pane.schedule.text()
    assert cfg.phase(16.5) == (32, 1.0) and cfg.phase(15.0)[0] == 32 and cfg.phase(15.0)[1] < 1
    pane.kimg.setValue(500)
    assert "10 kimg per fade-in" in pane.schedule.text() and "then 460 kimg at 32²" in pane.schedule.text()
    # Every setting the CLI offers is in the form, and reaches the command.
    from stylegan_studio.engine.contract.training import options
    assert {f.name for f in options() if f.metadata["ui"]} <= set(pane.form.widgets)
    pane.form.widgets["augment"].setText("color,cutout")
    pane.form.widgets["gamma"].setText("0.5")
    pane.form.widgets["mapping_layers"].setValue(2)
    pane.form.widgets["metric"].setCurrentText("fid1k")
    pane.start()
    assert "held-out" in pane_status(pane, qtbot)  # a metric without held-out images is refused in one line
    pane.form.widgets["metric_data"].setText(str(tmp_path))
    pane.start()
    cfg = bridge.last(m.StartTraining).config
    assert (cfg.augment, cfg.gamma, cfg.mapping_layers, cfg.metric) == ("color,cutout", 0.5, 2, "fid1k")
    bridge.training_metric.emit(m.TrainingMetric(1, 2.0, "diversity", 0.8))   # every tick: beside the losses
    assert list(pane.diversity_curve.getData()[1]) == [0.8] and pane.metric_plot.isHidden()
    bridge.training_metric.emit(m.TrainingMetric(1, 4.0, "fid1k", 120.5))
    assert list(pane.metric_curve.getData()[1]) == [120.5] and not pane.metric_plot.isHidden()
    assert list(pane.diversity_curve.getData()[1]) == [0.8] and "diversity" in pane.legend.text()
    tick = TICK
    bridge.training_state.emit(m.TrainingState(1, "running", config=m.TrainConfig(augment_p=None,
                                                                                 augment_target=0.5)))
    assert pane.target_line.isVisible() and pane.target_line.value() == 0.5   # adaptive p: r_t's target shown
    bridge.training_tick.emit(tick)
    assert "augment" not in pane.readout.text()  # a tick without p (an older run's) says nothing of it
    assert pane.augment_plot.isHidden()
    bridge.training_tick.emit(m.TrainingTick(2, 1.0, 16, 1.0, 8, 10.0, 100.0, 0.6, 1.1, 0.02, 0.4, -0.3, 0.0,
                                             augment_p=0.25, r_t=0.7,
                                             job_id=1, run_dir="r", total_kimg=20, seconds=2.0, eta_s=50.0))
    xs, ys = pane.curves["loss_g"].getData()
    assert list(xs) == [0.5, 1.0] and list(ys) == pytest.approx([0.7, 0.6])
    assert "img/s" in pane.readout.text() and "augment p 0.25, r_t +0.70" in pane.readout.text()
    assert not pane.augment_plot.isHidden() and list(pane.curves["r_t"].getData()[1][1:]) == [0.7]
    assert pane.curves["augment_p"] in pane.augment_plot.getPlotItem().listDataItems()  # its own [-1, 1] axis
    bridge.training_state.emit(m.TrainingState(1, "running"))
    assert pane.buttons["Pause"].isEnabled() and not pane.buttons["Start"].isEnabled()
    pane.buttons["Stop"].click()
    assert isinstance(bridge.commands[-1], m.StopTraining)
    bridge.training_state.emit(m.TrainingState(1, "stopped"))
    assert "stopped" in pane.readout.text() and "img/s" in pane.readout.text()  # last stats stay visible
    snap = str(tmp_path / "run" / "snapshot-000002.safetensors")
    bridge.training_snapshot.emit(m.TrainingSnapshot(1, snap, 1.0))
    pane.explore_snapshot()
    assert bridge.last(m.LoadModel).path == snap


def test_settings_whose_zero_means_something_say_so(env, qtbot):
    bridge, state = env
    pane = TrainingPane(bridge, state)
    qtbot.addWidget(pane)
    batch, noise = pane.form.widgets["batch"], pane.form.widgets["noise_res"]
    assert batch.value() == 0 and batch.text() == "per resolution"  # not a bare "0"
    assert "(0: per resolution" in batch.toolTip()      # the CLI's help, the same declaration
    noise.setValue(0)
    assert noise.text() == "none" and pane.form.values()["noise_res"] == 0
    batch.setValue(24)
    assert batch.text() == "24" and pane.form.values()["batch"] == 24
    assert pane.form.widgets["mapping_layers"].specialValueText() == ""  # 0 means nothing special: a plain 0


def test_number_settings_show_no_trailing_zeros(training):
    _, pane = training
    kimg, lr = pane.form.widgets["total_kimg"], pane.form.widgets["lr"]
    kimg.setValue(20)
    assert kimg.text() == "20"                          # not 20.0000
    assert lr.text() == "0.001" and pane.form.values()["lr"] == 0.001
    lr.lineEdit().setText("0.0015")
    lr.interpretText()                                  # typed: read back as typed, to the fourth decimal
    assert pane.form.values()["lr"] == 0.0015 and lr.text() == "0.0015"


def test_training_on_a_used_folder_offers_resume_or_another_folder(env, qtbot, tmp_path, monkeypatch):
    bridge, state = env
    pane = TrainingPane(bridge, state)
    qtbot.addWidget(pane)
    used, fresh = tmp_path / "used", tmp_path / "fresh"
    used.mkdir()
    (used / "config.json").write_text("{}")
    pane.data.setText(str(tmp_path))
    pane.run_dir.setText(str(used))
    pane.kimgs.append(1.0)            # curves of the run on screen
    answers = iter(["resume", "other", None])
    monkeypatch.setattr(pane, "ask_used_folder", lambda path: next(answers))
    monkeypatch.setattr(pane, "choose_run_dir", lambda: str(fresh))
    pane.start()
    cmd = bridge.last(m.StartTraining)
    assert cmd.resume_dir == str(used) and cmd.config is None
    pane.start()
    cmd = bridge.last(m.StartTraining)
    assert cmd.run_dir == str(fresh) and not cmd.resume_dir and cmd.config is not None
    n = len(bridge.commands)
    pane.start()                     # cancelled: nothing is sent
    assert len(bridge.commands) == n
    assert pane.kimgs == [1.0]       # nothing wiped until a run really starts


def test_resuming_a_run_whose_images_moved_asks_where_they_are(env, qtbot, tmp_path):
    bridge, state = env
    pane = TrainingPane(bridge, state)
    qtbot.addWidget(pane)
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text('{"data": "%s"}' % (tmp_path / "gone.zip").as_posix())
    said = []
    pane.status.connect(said.append)
    pane.resume_run(str(run))                        # nothing under Dataset: say so, send nothing
    assert bridge.last(m.StartTraining) is None and "no longer at" in said[-1]
    pane.data.setText(str(tmp_path))                 # the images are here now
    pane.resume_run(str(run))
    cmd = bridge.last(m.StartTraining)
    assert (cmd.resume_dir, cmd.data) == (str(run), str(tmp_path))
    (run / "config.json").write_text('{"data": "%s"}' % tmp_path.as_posix())
    pane.resume_run(str(run))                        # images where the run says: its own path is kept
    assert bridge.last(m.StartTraining).data == ""


def test_a_resumed_run_shows_its_own_settings_and_only_its_own_length_extends_it(env, qtbot, tmp_path):
    bridge, state = env
    pane = TrainingPane(bridge, state)
    qtbot.addWidget(pane)
    pane.kimg.setValue(500)                          # a length left in the form (e.g. from another run)
    pane.resume_run(str(tmp_path / "a"))
    assert bridge.last(m.StartTraining).kimg == 0    # not applied to a run whose settings are not shown
    run = m.TrainConfig(data=str(tmp_path / "faces.zip"), resolution=64, channels=96, total_kimg=300.0,
                        fade_kimg=40.0, stable_kimg=60.0, tick_kimg=2.0, lr=0.0005, mbstd_group=16)
    said = []
    pane.status.connect(said.append)
    note = "the dataset changed since the snapshot; continuing on the current files"
    bridge.training_state.emit(m.TrainingState(1, "running", run, "900 images at 64², 0 skipped", (note,)))
    assert pane.summary.text() == f"900 images at 64², 0 skipped — {note}" and said == [note]
    v = pane.form.values()
    assert (v["resolution"], v["channels"], v["total_kimg"], v["lr"], v["mbstd_group"]) == (64, 96, 300.0, 0.0005, 16)
    assert (v["fade_kimg"], v["stable_kimg"], v["tick_kimg"]) == (40.0, 60.0, 2.0)   # as the run has them, not refitted
    assert pane.data.text() == run.data and "40 kimg per fade-in" in pane.schedule.text()
    assert not pane.form.isEnabled() and not pane.resume_button.isEnabled()   # edits would not reach a running run
    bridge.training_snapshot.emit(m.TrainingSnapshot(1, str(tmp_path / "a" / "snapshot-000010.safetensors"), 20.0))
    bridge.training_state.emit(m.TrainingState(1, "finished"))
    assert pane.form.isEnabled() and pane.snapshots.count() == 1
    pane.kimg.setValue(400)                          # the run's own settings on screen: Length makes it longer
    pane.resume_run(str(tmp_path / "a"))
    assert bridge.last(m.StartTraining).kimg == 400
    pane.resume_run(str(tmp_path / "b"))             # another run keeps its own length
    assert bridge.last(m.StartTraining).kimg == 0
    bridge.training_state.emit(m.TrainingState(2, "running", run))
    assert pane.snapshots.count() == 0               # the list is the running run's (a resume replays its own)
    bridge.training_state.emit(m.TrainingState(2, "finished"))
    pane.new_run()                                   # back to a first run's settings, in a new folder
    v = pane.form.values()
    assert (v["resolution"], v["total_kimg"], v["channels"]) == (32, 20.0, 64) and pane.shown_run == ""
    assert pane.run_dir.text() != str(tmp_path / "a") and v["fade_kimg"] < 10   # phases fitted to the short run
    assert bridge.last(m.ValidateDataset).resolution == 32 and "already" not in pane.summary.text()


def test_a_timelapse_of_the_run_folder_is_asked_of_the_engine(env, qtbot, tmp_path):
    bridge, state = env
    pane = TrainingPane(bridge, state)
    qtbot.addWidget(pane)
    said = []
    pane.status.connect(said.append)
    pane.run_dir.setText(str(tmp_path / "nothing"))
    pane.export_timelapse(str(tmp_path / "t.mp4"))
    assert bridge.last(m.ExportTimelapse) is None and "holds no run" in said[-1]
    (tmp_path / "config.json").write_text("{}")
    pane.run_dir.setText(str(tmp_path))
    pane.export_timelapse(str(tmp_path / "t.mp4"))
    assert bridge.last(m.ExportTimelapse) == m.ExportTimelapse(run_dir=str(tmp_path), path=str(tmp_path / "t.mp4"))
    assert pane.timelapse_button.isEnabled()


def test_a_new_run_restarts_the_curves_and_keeps_exploring_live(env, qtbot, tmp_path):
    bridge, state = env
    pane = TrainingPane(bridge, state)
    qtbot.addWidget(pane)
    tick = TICK
    bridge.training_state.emit(m.TrainingState(1, "running"))
    bridge.training_tick.emit(tick)
    pane.live.setChecked(True)
    assert bridge.last(m.ExploreTraining).live
    bridge.training_state.emit(m.TrainingState(1, "finished"))
    assert pane.readout.text().startswith("Training finished") and "ETA" not in pane.readout.text()
    assert "img/s" in pane.readout.text()
    n = len(bridge.commands)
    bridge.training_state.emit(m.TrainingState(2, "running"))      # e.g. Resume run…
    assert pane.kimgs == [] and bridge.commands[n:] == [m.ExploreTraining(live=True)]
    bridge.training_state.emit(m.TrainingState(2, "paused"))
    bridge.training_state.emit(m.TrainingState(2, "running"))      # the same run again: nothing re-sent
    assert len(bridge.commands) == n + 1
    bridge.training_state.emit(m.TrainingState(2, "stopped"))
    pane.live.setChecked(False)
    pane.live.setChecked(True)                                     # no run going: kept for the next run
    assert bridge.commands[n + 1:] == [m.ExploreTraining(live=False)]


def test_the_curve_legend_sits_outside_the_plot(env, qtbot):
    bridge, state = env
    pane = TrainingPane(bridge, state)
    qtbot.addWidget(pane)
    assert pane.plot.getPlotItem().legend is None
    training = __import__("stylegan_studio.app.panes.training", fromlist=["CURVES"])
    from PySide6.QtGui import QTextDocumentFragment
    shown = QTextDocumentFragment.fromHtml(pane.legend.text()).toPlainText()
    assert all(name in shown for _, name, _ in training.CURVES + training.AUGMENT_CURVES)
    assert "augment&nbsp;probability" in pane.legend.text()  # an entry wraps as one unit


def pane_status(pane, qtbot) -> str:
    """The last status line the pane emitted (recorded by pressing Start again)."""
    seen = []
    pane.status.connect(seen.append)
    pane.start()
    return seen[-1] if seen else ""


INFO_32 = m.ModelInfo(name="t32", path="", model_id="y", resolution=32, num_ws=8, z_dim=16, w_dim=16,
                      layer_resolutions=(4, 4, 8, 8, 16, 16, 32, 32), device="cpu")


def test_a_first_model_prefills_the_mixing_grid_with_the_coarse_preset(env, qtbot):
    from stylegan_studio.app.panes.mixing import START_COLS, START_ROWS
    bridge, state = env
    pane = MixingPane(bridge, state)
    qtbot.addWidget(pane)
    state.set_model(INFO)
    req = bridge.last(m.RenderMixGrid)
    assert req.rows == tuple(Latent(seed=s) for s in START_ROWS) and len(req.rows) == 3
    assert req.cols == tuple(Latent(seed=s) for s in START_COLS) and len(req.cols) == 4
    assert req.layers == (0, 1, 2, 3)
    pane.clear()
    state.set_model(INFO_32)  # a later model keeps what the user has (here: nothing)
    assert pane.grid.rows == [] and pane.grid.cols == []


def test_layer_toggles_stay_in_sync_after_a_model_switch_and_name_index_and_resolution(env, qtbot):
    bridge, state = env
    pane = MixingPane(bridge, state)
    qtbot.addWidget(pane)
    state.set_model(INFO_32)
    for t in pane.picker.toggles[1:]:
        t.setChecked(False)
    assert pane.picker.layers == {0}
    state.set_model(INFO)            # another model: the toggles are rebuilt
    assert [i for i, t in enumerate(pane.picker.toggles) if t.isChecked()] == [0] and pane.picker.layers == {0}
    assert bridge.last(m.RenderMixGrid).layers == (0,)
    box = pane.picker.box
    for i, res in enumerate(INFO.layer_resolutions):
        assert box.itemAtPosition(2, i).widget().text() == str(i)             # the layer's index under its box
        assert box.itemAtPosition(0, i - i % 2).widget().text() == f"{res}²"  # its resolution over the pair


def test_a_half_filled_grid_shows_its_sources_and_waits(env, qtbot):
    bridge, state = env
    pane = empty_mixing_pane(env, qtbot, (600, 400))
    pane.set_source("col", 0, Latent(seed=4))
    req = bridge.last(m.RenderMixGrid)
    assert req.rows == () and req.cols == (Latent(seed=4),)
    col = np.full((1, 8, 8, 3), 200, np.uint8)
    bridge.results("mixing").emit(m.MixGridReady("mixing", req.stamp, 0.1, row_images=col[:0], col_images=col,
                                                  cells=col[:0].reshape(0, 1, 8, 8, 3)))
    assert pane.grid.col_images is col
    image = pane.grid.grab().toImage()
    t = pane.grid.tile
    assert image.pixelColor(t + t // 2, t // 2).red() == 200   # the column's face shows while the rows wait


def test_noise_strengths_show_their_values_and_animation_gives_the_modes_back(env, qtbot):
    bridge, state = env
    pane = NoisePane(bridge, state)
    qtbot.addWidget(pane)
    state.set_model(INFO)
    pane.rows[8][1].setValue(150)
    assert pane.values[8].text() == "150%" and pane.values[4].text() == "100%"
    pane.rows[4][0].setCurrentIndex(2)            # 4×4 off; 8 and 16 stored
    pane.animate.setChecked(True)
    pane.resample_all()
    assert state.settings.noise.at(8).mode == "random"       # animating draws fresh noise
    pane.rows[16][1].setValue(40)                               # a strength moved while animating stays
    pane.animate.setChecked(False)
    n = state.settings.noise
    assert [n.at(r).mode for r in (4, 8, 16)] == ["zero", "const", "const"]
    assert n.at(16).strength == 0.4 and n.at(8).strength == 1.5
    assert [pane.rows[r][0].currentText() for r in (4, 8, 16)] == ["Off", "Stored", "Stored"]


def test_the_variation_map_says_when_the_face_has_changed(env, qtbot):
    bridge, state = env
    pane = NoisePane(bridge, state)
    qtbot.addWidget(pane)
    state.set_model(INFO)
    state.set_latent(Latent(seed=7))
    pane.request_variation()
    assert "seed 7" in pane.variation_note.text() and "not the face" not in pane.variation_note.text()
    pane.resample(16)                         # a new noise draw: the map still holds
    assert "not the face" not in pane.variation_note.text()
    state.set_latent(Latent(seed=8))
    assert "not the face on screen" in pane.variation_note.text() and "seed 7" in pane.variation_note.text()
    pane.request_variation()
    assert "seed 8" in pane.variation_note.text() and "not the face" not in pane.variation_note.text()


def test_noise_map_and_psi_strip_save_as_stills(env, qtbot):
    from stylegan_studio.engine.contract.requests import RenderTruncationStrip, RenderVariation
    bridge, state = env
    noise, trunc = NoisePane(bridge, state), TruncationPane(bridge, state)
    qtbot.addWidget(noise)
    qtbot.addWidget(trunc)
    state.set_model(INFO)
    state.set_latent(Latent(seed=3), Latent(seed=4), (0, 1))
    noise.save_variation("map.png")
    cmd = bridge.last(m.ExportStill)
    assert cmd.path == "map.png" and cmd.request == RenderVariation(
        "variation", 0, latent=Latent(seed=3), settings=state.settings, mix_with=Latent(seed=4), mix_layers=(0, 1),
        draws=noise.draws.value())
    trunc.save_strip("strip.png")
    assert bridge.last(m.ExportStill).request == RenderTruncationStrip(   # the face as shown: mixed
        "truncation-strip", 0, latent=Latent(seed=3), settings=state.settings, psis=PSIS, thumb=None,
        mix_with=Latent(seed=4), mix_layers=(0, 1))


def test_favourites_saved_under_a_name_without_extension_get_npz(env, qtbot, tmp_path):
    bridge, state = env
    pane = SeedsPane(bridge, state)
    qtbot.addWidget(pane)
    state.set_model(INFO)
    pane.keep_current()
    pane.save_favourites(str(tmp_path / "faces"))
    assert bridge.last(m.SaveLatents).path == str(tmp_path / "faces.npz")


def test_make_faces_from_the_training_pane_becomes_its_dataset(env, qtbot, tmp_path):
    bridge, state = env
    pane = TrainingPane(bridge, state)
    qtbot.addWidget(pane)
    pane.resolution.setCurrentText("32")
    pane.faces_button.click()
    dialog = pane.faces_dialog
    assert dialog.isVisible() and dialog.resolution.currentText() == "32"          # the form's resolution
    assert dialog.path.text().endswith("avatars32-10k.zip")                          # named by what it holds
    dialog.count.setValue(2500)
    assert dialog.path.text().endswith("avatars32-2500.zip")
    dialog.path.setText(str(tmp_path / "faces"))
    dialog.start()
    assert ".zip" in dialog.message.text() and bridge.last(m.MakeAvatars) is None   # refused in one line
    out = str(tmp_path / "faces.zip")
    dialog.path.setText(out)
    dialog.start()
    assert bridge.last(m.MakeAvatars) == m.MakeAvatars(out, 2500, 32, 0) and not dialog.start_btn.isEnabled()
    bridge.job_started.emit(m.JobStarted(7, "avatars", "faces faces.zip"))
    bridge.job_progress.emit(m.JobProgress(7, "avatars", 1000, 2500, "1,000 of 2,500 faces"))
    assert dialog.progress.value() == 40 and dialog.cancel_btn.text() == "Cancel"
    bridge.job_finished.emit(m.JobFinished(8, "video", "ok", "another job's", "v.mp4"))   # not this one's
    assert pane.data.text() == ""
    bridge.job_finished.emit(m.JobFinished(7, "avatars", "ok", "wrote faces.zip: 2,500 faces at 32²", out))
    assert pane.data.text() == out and bridge.last(m.ValidateDataset).path == out    # checked at once
    assert dialog.start_btn.isEnabled() and "2,500 faces" in dialog.message.text()
    pane.resolution.setCurrentText("64")
    pane.faces_button.click()                          # reopened: the form's resolution now, the file as named
    assert dialog.resolution.currentText() == "64" and dialog.path.text() == out
    n = len(bridge.commands)
    pane.data.setText(str(tmp_path))                   # typed: checked when the typing ends, once
    pane.data.editingFinished.emit()
    pane.data.editingFinished.emit()
    assert [c.path for c in bridge.commands[n:] if isinstance(c, m.ValidateDataset)] == [str(tmp_path)]
    assert pane.data.toolTip() == str(tmp_path)        # the whole path, however narrow the field


def test_model_info_asks_again_for_another_model_but_not_for_each_live_refresh(qtbot):
    import dataclasses
    from stylegan_studio.app.dialogs.model_info import ModelInfoDialog
    from test_app_nvidia_models import V2_UNCOND
    bridge = FakeBridge()
    dialog = ModelInfoDialog(bridge)
    qtbot.addWidget(dialog)
    bridge.model_info.emit(V2_UNCOND)                     # hidden: nothing asked
    dialog.show()
    dialog.request()
    asked = lambda: [c.request for c in bridge.commands if isinstance(c, m.DescribeModel)]  # noqa: E731
    live = dataclasses.replace(V2_UNCOND, live=True, kimg=1.0)
    for info in (V2_UNCOND, live, dataclasses.replace(live, kimg=2.0), V2_UNCOND):
        bridge.model_info.emit(info)
    assert asked() == [1, 2, 3, 4]                         # the refresh at 2 kimg is the same live model
    bridge.model_description.emit(m.ModelDescription(3, ("model     (not saved)", "name      live G_ema")))
    assert dialog.summary.toPlainText() == ""              # an answer to an older request is not shown
    bridge.model_description.emit(m.ModelDescription(4, ("model     x.safetensors", "name      x")))
    assert dialog.summary.toPlainText().startswith("model     x.safetensors")
    assert "x: no model card" in dialog.note.text()


def test_the_seed_page_re_renders_for_psi_not_for_noise_or_another_face(env, qtbot):
    bridge, state = env
    pane = SeedsPane(bridge, state)
    qtbot.addWidget(pane)
    state.set_model(INFO)

    def grids():
        return sum(isinstance(r, m.RenderSeedGrid) for r in bridge.requests)
    first = grids()
    state.set_latent(Latent(seed=3))
    state.set_noise(NoiseSpec.parse("random#4"))          # Animate does this 8 times a second
    assert grids() == first
    state.set_settings(psi=0.3)
    assert grids() == first + 1 and bridge.last(m.RenderSeedGrid).settings.psi == 0.3
    assert pane.grid.count() == 64 and pane.grid.currentRow() == 3   # the page stays; the viewer's face is lit


def test_a_failed_run_says_so_and_why_and_shows_no_old_figures(training):
    bridge, pane = training
    tick = TICK
    bridge.training_state.emit(m.TrainingState(1, "running"))
    bridge.training_tick.emit(tick)
    bridge.training_state.emit(m.TrainingState(1, "stopped"))       # Stop: the last figures stay
    assert pane.readout.text().startswith("Training stopped — kimg 0.50")
    bridge.training_state.emit(m.TrainingState(2, "failed"))        # e.g. a run folder under /proc
    bridge.job_finished.emit(m.JobFinished(2, "train", "failed", "cannot create /proc/run1: permission denied"))
    assert pane.readout.text() == "Training failed: cannot create /proc/run1: permission denied"
    assert pane.buttons["Start"].isEnabled() and not pane.buttons["Stop"].isEnabled()


def test_pruned_snapshots_leave_the_list(training, tmp_path):
    bridge, pane = training
    snap = [str(tmp_path / f"snapshot-{t:06d}.safetensors") for t in range(4)]
    for t in range(3):
        bridge.training_snapshot.emit(m.TrainingSnapshot(1, snap[t], t, kept=tuple(snap[:t + 1])))
    bridge.training_snapshot.emit(m.TrainingSnapshot(1, snap[3], 3, kept=tuple(snap[1:])))   # keep 3
    assert [pane.snapshots.item(i).data(Qt.ItemDataRole.UserRole) for i in range(3)] == snap[1:]
    assert pane.snapshots.count() == 3


def test_the_dataset_line_says_why_a_check_failed_and_follows_the_resolution(training):
    bridge, pane = training
    pane.data.setText("/data/notes")
    pane.check()
    assert pane.summary.text() == "Checking…"
    source = bridge.last(m.ValidateDataset)
    bridge.error.emit(m.ErrorEvent("/data/notes: no images in the folder", source))
    assert pane.summary.text() == "/data/notes: no images in the folder"       # not "Checking…" for ever
    bridge.error.emit(m.ErrorEvent("another failure", m.ValidateDataset("/elsewhere", 32)))
    assert pane.summary.text() == "/data/notes: no images in the folder"       # another path's: not this one
    pane.resolution.setCurrentText("16")
    assert bridge.last(m.ValidateDataset) == m.ValidateDataset("/data/notes", 16)


def test_new_forgets_the_last_runs_curves_snapshots_and_figures(training, tmp_path):
    bridge, pane = training
    pane.data.setText(str(tmp_path))
    pane.check()
    pane.resolution.setCurrentText("64")                # another resolution than a first run's: checked again
    checks = sum(isinstance(c, m.ValidateDataset) for c in bridge.commands)
    tick = TICK
    bridge.training_state.emit(m.TrainingState(1, "running"))
    bridge.training_tick.emit(tick)
    bridge.training_fakes.emit(m.TrainingFakes(1, 0.5, np.zeros((32, 32, 3), np.uint8)))
    bridge.training_snapshot.emit(m.TrainingSnapshot(1, str(tmp_path / "snapshot-000001.safetensors"), 0.5))
    bridge.training_state.emit(m.TrainingState(1, "finished"))
    pane.new_run()
    assert sum(isinstance(c, m.ValidateDataset) for c in bridge.commands) == checks + 1   # one dataset scan, not two
    assert pane.readout.text() == "Not training" and pane.snapshots.count() == 0 and pane.kimgs == []
    assert pane.fakes.pixmap().isNull() and pane.fakes.text() == "Fakes appear after the first tick"
    assert list(pane.curves["loss_g"].getData()[0] or []) == []


def test_a_run_folder_with_nothing_saved_offers_no_resume(training, tmp_path):
    _, pane = training
    (tmp_path / "config.json").write_text("{}")                   # a run that failed before its first snapshot
    box, choices = pane.used_folder_box(str(tmp_path))
    assert sorted(choices.values()) == ["other"] and "nothing to resume" in box.informativeText()
    (tmp_path / "state-000004.safetensors").write_bytes(b"")
    box, choices = pane.used_folder_box(str(tmp_path))
    assert sorted(choices.values()) == ["other", "resume"]


def test_the_caption_names_the_noise_in_the_noise_panes_words():
    from stylegan_studio.app.state import noise_words
    spec = NoiseSpec(per_res=((8, ResNoise("zero")), (16, ResNoise("const", 0, 0.5)), (32, ResNoise("random", 1))))
    assert noise_words(NoiseSpec()) == "stored"
    assert noise_words(spec) == "stored; 8² off; 16² stored ×0.5; 32² resampled"
