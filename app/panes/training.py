"""The Training pane: dataset, settings, run control, live curves, fakes and snapshots."""
from __future__ import annotations

import math
import os
import time

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QFileDialog, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QListWidget,
                               QListWidgetItem, QMessageBox, QPushButton, QScrollArea, QSizePolicy, QToolButton,
                               QVBoxLayout, QWidget)

from ...engine.contract.errors import UserError
from ...engine.contract.messages import (ExploreTraining, ExportTimelapse, LoadModel, PauseTraining, ResumeTraining,
                                         StartTraining, StopTraining, TrainConfig, ValidateDataset)
from ...engine.contract.training import fitted_phase_kimg, has_state, holds_run, moved_data, schedule_text
from ..dialogs.make_avatars import MakeAvatarsDialog
from ..qtutil import compact, icon, sentence, to_pixmap
from .train_form import TrainForm, changed_signal

FIRST_RUN = TrainConfig(resolution=32, total_kimg=20)  # a first run that ends in minutes
CURVES = (("loss_g", "G loss", "#4e79a7"), ("loss_d", "D loss", "#e15759"), ("r1", "R1 penalty", "#76b7b2"),
          ("score_real", "real score", "#59a14f"), ("score_fake", "fake score", "#f28e2b"))
# Augmentation on its own axis (both lie in [-1, 1]; beside the losses a small p was a thin line near 0):
# p, and r_t = E[sign D(reals)], ADA's overfitting heuristic that an adaptive p steers to its target (dashed).
AUGMENT_CURVES = (("augment_p", "augment probability", "#d37295"), ("r_t", "D's certainty on reals (r_t)", "#b6992d"))
# Each tick's diversity figure (TrainingMetric 'diversity': samples' spread ÷ reals'), dashed beside the losses:
# a run converging onto one outline shows it falling towards 0.
DIVERSITY = ("diversity", "diversity", "#9c755f")


class TrainingPane(QWidget):
    """Start/pause/resume/stop a run and watch it; explore its snapshots or its live G_ema."""

    status = Signal(str)

    def __init__(self, bridge, state) -> None:
        super().__init__()
        self.bridge, self.state = bridge, state
        self.history: dict[str, list[float]] = {k: [] for k, *_ in CURVES + AUGMENT_CURVES}
        self.kimgs: list[float] = []
        self.running = False
        self.job_id = 0          # the training job the curves show
        self.shown_run = ""      # the run folder whose settings the form shows ("" for new-run settings)
        self._showing_run = False
        self.faces_dialog = None
        self.checked = ""        # the dataset path last checked
        self.data = QLineEdit(placeholderText="folder or zip of images")
        self.summary = QLabel("No dataset checked yet")
        self.summary.setWordWrap(True)
        self.run_dir = QLineEdit(new_run_dir())
        self.form = TrainForm()
        self.form.set_config(FIRST_RUN)
        w = self.form.widgets
        self.resolution, self.kimg, self.batch, self.gamma = (w["resolution"], w["total_kimg"], w["batch"],
                                                               w["gamma"])
        self.schedule = QLabel()
        self.schedule.setWordWrap(True)
        for name in ("resolution", "total_kimg", "start_res", "growing"):
            changed_signal(w[name]).connect(self._fit_phases)
        changed_signal(self.resolution).connect(self._recheck)
        self.form.changed.connect(self._show_schedule)
        self._fit_phases()
        self.buttons = {n: QPushButton(icon(i), n) for n, i in
                        (("Start", "fa5s.play"), ("Pause", "fa5s.pause"), ("Resume", "fa5s.play-circle"),
                         ("Stop", "fa5s.stop"))}
        self.buttons["Start"].clicked.connect(self.start)
        self.buttons["Pause"].clicked.connect(lambda: bridge.post(PauseTraining()))
        self.buttons["Resume"].clicked.connect(lambda: bridge.post(ResumeTraining()))
        self.buttons["Stop"].clicked.connect(lambda: bridge.post(StopTraining()))
        self.resume_button = compact(QToolButton(icon=icon("fa5s.history"), text="Resume…"))
        self.resume_button.setToolTip("Go on with a run from its folder: its settings, its latest snapshot")
        self.resume_button.clicked.connect(lambda: self.resume_run())
        self.new_button = compact(QToolButton(icon=icon("fa5s.file"), text="New"))
        self.new_button.setToolTip("New-run settings in a new run folder (the form may show another run's)")
        self.new_button.clicked.connect(self.new_run)
        self.timelapse_button = QPushButton(icon("fa5s.film"), "Timelapse…")
        self.timelapse_button.setToolTip("The run's fakes grids, tick after tick, as a video")
        self.timelapse_button.clicked.connect(lambda: self.export_timelapse())
        self.readout = QLabel(IDLE)
        self.readout.setWordWrap(True)
        # the legend is a line above the plot: inside it, it covered the curves
        # non-breaking spaces inside an entry: a narrow pane wraps between entries, not inside one
        self.legend = QLabel(" ".join(f'<span style="color:{c}">■</span>&nbsp;{n.replace(" ", "&nbsp;")}'
                                      for _, n, c in CURVES + (DIVERSITY,) + AUGMENT_CURVES))
        self.legend.setToolTip("diversity: the spread of 64 G_ema samples ÷ that of 64 real images "
                               "(near 1: as varied as the data; falling towards 0: the samples collapse); "
                               "augment probability: how often each of D's augmentations applies to an image "
                               "(Augment probability auto: it rises while D grows too sure of the real images); "
                               "D's certainty on reals r_t: the share of real images D scores as real minus the share "
                               "it scores as fake (near 1: D is sure of every real image, because it memorised "
                               "them or because G is still far from them; auto keeps r_t near the dashed target)")
        self.legend.setWordWrap(True)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setLabel("bottom", "kimg")
        self.plot.getAxis("bottom").enableAutoSIPrefix(False)  # "kimg (x0.001)" reads badly
        self.curves = {k: self.plot.plot([], [], pen=pg.mkPen(c, width=2), name=n) for k, n, c in CURVES}
        self.augment_plot = pg.PlotWidget(background="w")
        self.augment_plot.setLabel("bottom", "kimg")
        self.augment_plot.getAxis("bottom").enableAutoSIPrefix(False)
        self.augment_plot.setYRange(-1.0, 1.0, padding=0.05)
        self.augment_plot.setMouseEnabled(y=False)
        self.augment_plot.setLabel("left", "p · r_t")
        self.augment_plot.setXLink(self.plot)  # the same kimg above each other in every plot
        self.curves.update({k: self.augment_plot.plot([], [], pen=pg.mkPen(c, width=2), name=n)
                            for k, n, c in AUGMENT_CURVES})
        self.target_line = pg.InfiniteLine(angle=0, pen=pg.mkPen(AUGMENT_CURVES[1][2], style=Qt.PenStyle.DashLine))
        self.target_line.hide()  # until a run with an adaptive p is shown
        self.augment_plot.addItem(self.target_line)
        self.augment_plot.setMinimumHeight(70)
        self.augment_plot.hide()  # shown with the first tick that has r_t (older runs' ticks have none)
        self.diversity: list[tuple[float, float]] = []
        self.diversity_curve = self.plot.plot([], [], pen=pg.mkPen(DIVERSITY[2], width=2, style=Qt.PenStyle.DashLine))
        self.plot.setMinimumHeight(120)
        self.metric_plot = pg.PlotWidget(background="w")
        self.metric_plot.setLabel("bottom", "kimg")
        self.metric_plot.setLabel("left", "FID")
        self.metric_plot.getAxis("bottom").enableAutoSIPrefix(False)
        self.metric_plot.setXLink(self.plot)
        self.metric_curve = self.metric_plot.plot([], [], pen=pg.mkPen("#b07aa1", width=2), symbol="o", symbolSize=5)
        self.metric_points: list[tuple[float, float]] = []
        self.metric_plot.setMinimumHeight(70)
        self.metric_plot.hide()  # shown with the first measurement
        # top-aligned: a bottom dock shorter than the pane scrolls, and the grid stays in its visible part
        self.fakes = QLabel(NO_FAKES,
                            alignment=Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
        self.fakes.setMinimumSize(160, 90)
        self.snapshots = QListWidget()
        self.snapshots.setMaximumHeight(70)
        self.live = QCheckBox("Explore live while training")
        self.live.toggled.connect(self.explore_live)
        explore = QPushButton(icon("fa5s.search"), "Explore this snapshot")
        explore.clicked.connect(self.explore_snapshot)
        self._layout(explore)
        self._enable()
        bridge.training_tick.connect(self.on_tick)
        bridge.training_metric.connect(self.on_metric)
        bridge.training_fakes.connect(self.on_fakes)
        bridge.training_snapshot.connect(self.on_snapshot)
        bridge.training_state.connect(self.on_state)
        bridge.dataset_summary.connect(self.on_summary)
        bridge.error.connect(self.on_error)
        bridge.job_finished.connect(self.on_finished)

    def _layout(self, explore: QPushButton) -> None:
        # tool buttons: a push button's minimum width left the path field 70 px at the default size
        browse_dir, browse_zip = compact(QToolButton(text="Folder…")), compact(QToolButton(text="Zip…"))
        self.faces_button = compact(QToolButton(text="Faces…"))
        self.faces_button.setToolTip("No images at hand? Make a set of cartoon faces (the bundled model's data)")
        self.faces_button.clicked.connect(self.make_faces)
        browse_dir.clicked.connect(lambda: self._pick(QFileDialog.getExistingDirectory(self, "Image folder")))
        browse_zip.clicked.connect(lambda: self._pick(QFileDialog.getOpenFileName(self, "Image zip", "",
                                                                                   "Zip (*.zip)")[0]))
        # a typed path is checked once typed (Enter or leaving the field): no Check button to find
        self.data.editingFinished.connect(lambda: self.data.text().strip() != self.checked and self.check())
        self.data.textChanged.connect(self.data.setToolTip)  # the field is narrow: the whole path on hover
        data_row = QHBoxLayout()
        for w in (self.data, browse_dir, browse_zip, self.faces_button):
            data_row.addWidget(w)
        run_row = QHBoxLayout()
        run_row.addWidget(self.run_dir)
        run_row.addWidget(self.new_button)
        run_row.addWidget(self.resume_button)
        scroll = QScrollArea(widgetResizable=True)
        scroll.setWidget(self.form)
        scroll.setMinimumHeight(100)  # three settings: with two-line notes, the pane still fits the default dock
        # a grid, not a QFormLayout: a form layout's minimum height for a width is its preferred one, so the
        # dock could not squeeze the settings list to show the run buttons (app/qtutil.py, Squeezable)
        form = QGridLayout()
        form.addWidget(QLabel("Dataset"), 0, 0)
        form.addLayout(data_row, 0, 1)
        form.addWidget(self.summary, 1, 1)
        form.addWidget(QLabel("Run folder"), 2, 0)
        form.addLayout(run_row, 2, 1)
        form.addWidget(scroll, 3, 0, 1, 2)
        form.addWidget(self.schedule, 4, 1)
        form.setColumnStretch(1, 1)
        controls = QHBoxLayout()
        for b in self.buttons.values():
            controls.addWidget(b)
        snaps = QHBoxLayout()
        snaps.addWidget(explore)
        snaps.addWidget(self.live)
        # three columns so the pane fits a bottom dock: settings | curves | fakes and snapshots
        left = QVBoxLayout()
        left.addLayout(form)
        left.addLayout(controls)
        left.addWidget(self.readout)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(self.fakes, 1)
        head = QHBoxLayout()
        head.addWidget(QLabel("Snapshots"))
        head.addStretch(1)
        head.addWidget(self.timelapse_button)
        right.addLayout(head)
        right.addWidget(self.snapshots)
        right.addLayout(snaps)
        lay = QHBoxLayout(self)
        lay.addLayout(left, 3)
        middle = QVBoxLayout()
        for plot in (self.plot, self.augment_plot, self.metric_plot):
            # share the column by their stretch: a plot's own size hint (480 px) grew the pane past its dock
            plot.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
            plot.getAxis("left").setWidth(52)  # one width: the linked kimg axes line up
        middle.addWidget(self.legend)
        middle.addWidget(self.plot, 3)
        middle.addWidget(self.augment_plot, 2)
        middle.addWidget(self.metric_plot, 2)
        lay.addLayout(middle, 4)
        lay.addLayout(right, 3)

    def make_faces(self) -> None:
        """Open the Make Faces dialog at the form's resolution; the zip it writes becomes the dataset."""
        if self.faces_dialog is None:
            self.faces_dialog = MakeAvatarsDialog(self.bridge, int(self.resolution.currentText()), self)
            self.faces_dialog.made.connect(self._pick)
        elif not self.faces_dialog.job_id:  # reopened while idle: at the resolution the form has now
            self.faces_dialog.resolution.setCurrentText(self.resolution.currentText())
        self.faces_dialog.show()
        self.faces_dialog.raise_()

    def _pick(self, path: str) -> None:
        if path:
            self.data.setText(path)
            self.check()

    def check(self) -> None:
        """Validate the dataset (answer: DatasetSummary)."""
        self.checked = self.data.text().strip()
        if self.checked:
            self.summary.setText("Checking…")
            self.bridge.post(ValidateDataset(self.data.text().strip(), int(self.resolution.currentText())))

    def _recheck(self, *_: object) -> None:
        """The summary counts images at a resolution: another resolution checks the dataset again."""
        if self.checked and not self._showing_run:
            self.check()

    def on_error(self, ev) -> None:
        """A dataset that cannot be used says why in its summary line, not only in the passing status bar."""
        if isinstance(ev.source, ValidateDataset) and ev.source.path == self.checked:
            self.summary.setText(sentence(ev.message))

    def on_summary(self, ev) -> None:
        skipped = "; ".join(f"{n}: {r}" for n, r in ev.skipped[:5])
        more = f" (+{len(ev.skipped) - 5} more)" if len(ev.skipped) > 5 else ""
        self.summary.setText(f"{ev.count} images at {ev.resolution}², {len(ev.skipped)} skipped"
                             + (f" — {skipped}{more}" if skipped else ""))

    def start(self) -> None:
        """Start a new run with the form's settings."""
        if not self.data.text().strip():
            self.status.emit("Choose a dataset folder or zip first")
            return
        try:
            cfg = self.form.config(self.data.text().strip())
        except UserError as exc:
            self.status.emit(str(exc))
            return
        run_dir = self.run_dir.text().strip()
        if holds_run(run_dir):
            choice = self.ask_used_folder(run_dir)
            if choice == "resume":
                self.resume_run(run_dir)
                return
            run_dir = self.choose_run_dir() if choice == "other" else ""
            if not run_dir:
                return
        self.bridge.post(StartTraining(config=cfg, run_dir=run_dir))

    def ask_used_folder(self, run_dir: str) -> str | None:
        """The run folder already holds a run: 'resume' it, choose an 'other' folder, or None (cancel)."""
        box, choices = self.used_folder_box(run_dir)
        box.exec()
        return choices.get(box.clickedButton())

    def used_folder_box(self, run_dir: str) -> tuple[QMessageBox, dict]:
        """The question ask_used_folder asks, and its buttons' answers (no Resume for a run with nothing saved)."""
        box = QMessageBox(QMessageBox.Icon.Question, "Run folder in use",
                          f"{run_dir} already holds a training run.", parent=self)
        choices = {}
        if has_state(run_dir):
            box.setInformativeText("Continue that run, or start this one in another folder?")
            choices[box.addButton("Resume that run", QMessageBox.ButtonRole.AcceptRole)] = "resume"
        else:
            box.setInformativeText("It ended before its first snapshot, so there is nothing to resume. Start this "
                                   "one in another folder?")
        choices[box.addButton("Choose another folder…", QMessageBox.ButtonRole.ActionRole)] = "other"
        box.addButton(QMessageBox.StandardButton.Cancel)
        return box, choices

    def choose_run_dir(self) -> str:
        """Ask for an empty (or new) run folder; it becomes the pane's run folder."""
        while True:
            path = QFileDialog.getExistingDirectory(self, "Folder for the new run")
            if not path or not holds_run(path):
                break
            self.status.emit(f"{path} already holds a run; choose another folder")
        if path:
            self.run_dir.setText(path)
        return path

    def _fit_phases(self, *_: object) -> None:
        """Shorten the growing phases so that a short run still reaches the chosen resolution."""
        if self._showing_run:  # a run's own phase and tick lengths are shown as they are
            return
        v = self.form.values()
        phase = fitted_phase_kimg(v["total_kimg"], v["resolution"], v["start_res"])
        self.form.widgets["fade_kimg"].setValue(phase)
        self.form.widgets["stable_kimg"].setValue(phase)
        self.form.widgets["tick_kimg"].setValue(tick_length(v["total_kimg"]))
        self._show_schedule()

    def _show_schedule(self) -> None:
        try:
            self.schedule.setText(schedule_text(self.form.config("")))
        except UserError as exc:
            self.schedule.setText(str(exc))

    def resume_run(self, path: str | None = None) -> None:
        """Continue a run directory where it stopped."""
        path = path or QFileDialog.getExistingDirectory(self, "Run folder to resume")
        if not path:
            return
        self.run_dir.setText(path)
        data, moved = self.data.text().strip(), moved_data(path)
        if moved and not (data and os.path.exists(data)):
            self.status.emit(f"The run's images are no longer at {moved}: choose where they are under Dataset, "
                             "then resume again")
            return
        # Length extends the run only when the form shows this run's settings: a length left from another run
        # (or the new-run default) must not silently lengthen it.
        longer = self.kimg.value() if _same_dir(path, self.shown_run) else 0.0
        self.bridge.post(StartTraining(resume_dir=path, kimg=longer, data=data if moved else ""))

    def new_run(self) -> None:
        """The first-run settings in a fresh run folder (the dataset stays)."""
        self.resolution.blockSignals(True)   # its change would check the dataset too: once, below, is enough
        try:
            self.form.set_config(FIRST_RUN)
        finally:
            self.resolution.blockSignals(False)
        self.run_dir.setText(new_run_dir())
        self.shown_run = ""
        self._fit_phases()
        self.summary.setText("No dataset checked yet")  # the last run's notes are not this one's
        self._forget_run()                               # nor its curves, fakes, snapshots and last figures
        self.check()                                     # the dataset, at the first run's resolution

    def _forget_run(self) -> None:
        self._reset_curves()
        self.snapshots.clear()
        self.fakes.clear()
        self.fakes.setText(NO_FAKES)
        self.readout.setText(IDLE)

    def show_run(self, cfg: TrainConfig) -> None:
        """Show the settings a run trains with: a resumed run's own, not what the form held before."""
        self._showing_run = True
        try:
            self.form.set_config(cfg)
        finally:
            self._showing_run = False
        self.data.setText(cfg.data)
        self.shown_run = self.run_dir.text().strip()
        self._show_schedule()

    def show_target(self, cfg: TrainConfig) -> None:
        """The dashed r_t target, drawn only where an adaptive p steers towards it."""
        self.target_line.setPos(cfg.augment_target)
        self.target_line.setVisible(cfg.augment_p is None and bool(cfg.augment))

    def export_timelapse(self, path: str | None = None) -> None:
        """The run folder's fakes grids as a video (asks where to write it); the engine says when it is saved."""
        run_dir = self.run_dir.text().strip()
        if not holds_run(run_dir):
            self.status.emit("The run folder holds no run yet: start or resume one first")
            return
        path = path or QFileDialog.getSaveFileName(self, "Timelapse video", os.path.join(run_dir, "timelapse.mp4"),
                                                   "Video (*.mp4 *.webm *.gif *.webp)")[0]
        if path:
            self.bridge.post(ExportTimelapse(run_dir=run_dir, path=path))
            self.status.emit(f"Writing {os.path.basename(path)}…")

    def explore_live(self, on: bool) -> None:
        """Render with the run's live G_ema; ticked with no run going, it applies when the next run starts."""
        if self.running or not on:
            self.bridge.post(ExploreTraining(live=on))
        else:
            self.status.emit("Explore live starts with the next run")

    def explore_snapshot(self) -> None:
        """Open the selected (or newest) snapshot in the explorer panes."""
        item = self.snapshots.currentItem() or self.snapshots.item(self.snapshots.count() - 1)
        if item is not None:
            self.bridge.post(LoadModel(item.data(Qt.ItemDataRole.UserRole)))

    def _reset_curves(self) -> None:
        self.kimgs.clear()
        self.augment_plot.hide()
        self.metric_points.clear()
        self.metric_curve.setData([], [])
        self.diversity.clear()
        self.diversity_curve.setData([], [])
        for v in self.history.values():
            v.clear()
        for c in self.curves.values():
            c.setData([], [])

    def on_tick(self, ev) -> None:
        """New statistics: extend the curves and the readouts."""
        self.kimgs.append(ev.kimg)
        for key, curve in self.curves.items():
            self.history[key].append(getattr(ev, key))
            curve.setData(self.kimgs, self.history[key])
        eta = f"{ev.eta_s / 60:.0f} min" if ev.eta_s == ev.eta_s and ev.eta_s > 0 else "–"
        # p in words too: on the scores' axis a small p is a thin line near 0 (older runs' ticks have none)
        aug = f" · augment p {ev.augment_p:.2f}" if math.isfinite(ev.augment_p) else ""
        aug += f", r_t {ev.r_t:+.2f}" if math.isfinite(ev.r_t) else ""
        if math.isfinite(ev.r_t):
            self.augment_plot.show()
        self.readout.setText(f"kimg {ev.kimg:.2f} / {ev.total_kimg:g} · {ev.resolution}² fade {ev.fade:.2f} · "
                             f"batch {ev.batch} · {ev.images_per_s:.1f} img/s{aug} · ETA {eta}")

    def on_metric(self, ev) -> None:
        """A measurement: the tick's diversity beside the losses, or a quality one (FID of 1,000 samples) below."""
        if ev.name == "diversity":
            self.diversity.append((ev.kimg, ev.value))
            self.diversity_curve.setData([k for k, _ in self.diversity], [v for _, v in self.diversity])
            return
        self.metric_points.append((ev.kimg, ev.value))
        self.metric_curve.setData([k for k, _ in self.metric_points], [v for _, v in self.metric_points])
        self.metric_plot.setLabel("left", ev.name.upper().replace("FID1K", "FID (1k)"))
        self.metric_plot.show()

    def on_snapshot(self, ev) -> None:
        """List a written snapshot by file name (full path in the tooltip and item data)."""
        item = QListWidgetItem(f"{os.path.basename(ev.path)} · {ev.kimg:.2f} kimg")
        item.setToolTip(ev.path)
        item.setData(Qt.ItemDataRole.UserRole, ev.path)
        self.snapshots.addItem(item)
        if ev.kept is not None:   # the run keeps its newest few: the pruned ones leave the list
            for row in reversed(range(self.snapshots.count())):
                if self.snapshots.item(row).data(Qt.ItemDataRole.UserRole) not in ev.kept:
                    self.snapshots.takeItem(row)

    def on_fakes(self, ev) -> None:
        """Show the latest fakes grid, scaled to the space the pane gives it."""
        h, w = ev.image.shape[:2]
        scale = max(0.25, min(2.0, (self.fakes.width() - 4) / w, (self.fakes.height() - 4) / h))
        self.fakes.setPixmap(to_pixmap(ev.image, round(w * scale)))

    def on_state(self, ev) -> None:
        """A run started (curves restart; a resumed run replays its earlier ticks next), paused or ended."""
        if ev.state == "running" and ev.job_id != self.job_id:
            self.job_id = ev.job_id
            self._reset_curves()
            self.snapshots.clear()  # the run's own follow (a resumed run lists its earlier ones first)
            if ev.config is not None:
                self.show_run(ev.config)
                self.show_target(ev.config)
                self.summary.setText(" — ".join((ev.dataset, *ev.notes)))
                if ev.notes:
                    self.status.emit("; ".join(ev.notes))
            if self.live.isChecked():  # the box stays ticked across runs: the new run is explored live too
                self.bridge.post(ExploreTraining(live=True))
        self.running = ev.state in ("running", "paused")
        if ev.state == "failed":   # its reason follows with the job's end (on_finished)
            self.readout.setText("Training failed")
        elif ev.state != "running":  # keep the last statistics visible after pause/stop
            last = self.readout.text().split(" — ")[-1] if self.kimgs else ""
            if ev.state != "paused":
                last = last.split(" · ETA")[0]   # an ended run has nothing left to wait for
            self.readout.setText(f"Training {ev.state}" + (f" — {last}" if last else ""))
        self._enable(ev.state)

    def on_finished(self, ev) -> None:
        if ev.kind == "train":
            self.running = False
            self._enable()
            if ev.status == "failed":   # it stays in the pane: the status bar's copy is gone in 15 s
                self.readout.setText(f"Training failed: {ev.message}")

    def _enable(self, state: str = "") -> None:
        self.buttons["Start"].setEnabled(not self.running)
        self.resume_button.setEnabled(not self.running)  # one run at a time: the engine would refuse it
        self.new_button.setEnabled(not self.running)
        self.buttons["Pause"].setEnabled(state == "running")
        self.buttons["Resume"].setEnabled(state == "paused")
        self.buttons["Stop"].setEnabled(self.running)
        self.form.setEnabled(not self.running)  # it shows the run's settings; edits apply to the next run


IDLE, NO_FAKES = "Not training", "Fakes appear after the first tick"


def new_run_dir() -> str:
    """A fresh run folder under ~/stylegan-runs, named by the minute."""
    return os.path.join(os.path.expanduser("~"), "stylegan-runs", time.strftime("run-%Y%m%d-%H%M"))


def _same_dir(a: str, b: str) -> bool:
    return bool(a and b) and os.path.abspath(a) == os.path.abspath(b)


def tick_length(total_kimg: float) -> float:
    """About 20 curve points for short runs, one per kimg for long ones."""
    return max(0.008, min(1.0, total_kimg / 20))
