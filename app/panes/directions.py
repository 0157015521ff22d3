"""The Directions pane: find or open directions in W, one slider per direction in σ, edits live on the viewer."""
from __future__ import annotations

import dataclasses

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QFileDialog, QGridLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton,
                               QSlider, QSpinBox, QVBoxLayout, QWidget)

from ...engine.contract.messages import CancelJob, ComputeDirections, LoadDirections, SaveDirections
from ...engine.contract.requests import RenderImage
from ...engine.contract.latents import SLIDER_SIGMAS as RANGE
from ..qtutil import icon, save_name, to_pixmap
from .layerpicker import LayerPicker
from .latentlist import LatentList

METHODS = (("PCA of w (GANSpace)", "pca"), ("Closed form (SeFa)", "sefa"),
           ("Attributes (classified faces)", "attributes"))
KIND_WORDS = {"pca": "PCA", "sefa": "SeFa", "attributes": "attribute"}   # as the method names write them
SAMPLES = {"pca": 20000, "sefa": 20000, "attributes": 3000}  # mapped w, or faces rendered and classified
STEPS = 10        # slider ticks per σ
KEEP_THUMB = 48
KEEP_TARGET = "directions-keep"  # render targets of kept faces' thumbnails: KEEP_TARGET-n
ROLE = Qt.ItemDataRole.UserRole


class DirectionsPane(QWidget):
    """Sliders move the viewer's face along directions on the chosen layers; Keep makes it a draggable face."""

    status = Signal(str)

    def __init__(self, bridge, state) -> None:
        super().__init__()
        self.bridge, self.state = bridge, state
        self.ds, self.base, self.own, self.job_id = None, state.latent, state.latent, 0
        self.ds_path = ""   # the file the shown set came from (none: computed here)
        self.sliders: list[QSlider] = []
        self.values: list[QLabel] = []
        self.kept = 0
        self.method = QComboBox()
        for text, key in METHODS:
            self.method.addItem(text, key)
        self.count = QSpinBox(minimum=1, maximum=64, value=10)
        self.count.setToolTip("how many directions to find (attributes: one per attribute the faces show)")
        self.method.currentIndexChanged.connect(lambda _: self.count.setEnabled(self.method.currentData() != "attributes"))
        self.compute_btn = QPushButton(icon("fa5s.calculator"), "Compute")
        self.compute_btn.setToolTip("find directions for the open model on the chosen layers (a background job)")
        self.compute_btn.clicked.connect(self.compute)
        open_btn, save_btn = QPushButton(icon("fa5s.folder-open"), "Open…"), QPushButton(icon("fa5s.save"), "Save…")
        open_btn.clicked.connect(lambda: self.open_file())
        save_btn.clicked.connect(lambda: self.save_file())
        self.progress = QProgressBar(maximum=1000, textVisible=False)
        self.progress.hide()
        self.info = QLabel("Compute directions for this model, or open a directions file.")
        self.info.setWordWrap(True)
        self.picker = LayerPicker()
        self.picker.changed.connect(lambda _: self.apply())
        self.rows = QGridLayout()
        self.rows.setColumnStretch(1, 1)
        reset, keep = QPushButton(icon("fa5s.undo"), "Reset"), QPushButton(icon("fa5s.star"), "Keep")
        reset.clicked.connect(self.reset)
        keep.setToolTip("keep the edited face: drag it into the mixing grid like a seed")
        keep.clicked.connect(self.keep)
        self.kept_list = LatentList(KEEP_THUMB)
        self.kept_list.setMaximumHeight(KEEP_THUMB + 30)
        self.kept_list.chosen.connect(self.state.set_latent)
        self._layout(open_btn, save_btn, reset, keep)
        bridge.directions_ready.connect(self.on_directions)
        bridge.job_started.connect(self.on_job_started)
        bridge.job_progress.connect(self.on_job_progress)
        bridge.job_finished.connect(self.on_job_finished)
        state.model_changed.connect(self.on_model)
        state.changed.connect(self.on_state)

    def _layout(self, open_btn, save_btn, reset, keep) -> None:
        top, files = QHBoxLayout(), QHBoxLayout()
        for w in (self.method, self.count):
            top.addWidget(w)
        top.setStretch(0, 1)
        for w in (self.compute_btn, open_btn, save_btn):
            files.addWidget(w)
        files.addStretch(1)
        layers = QVBoxLayout()
        what = QLabel("Layers the sliders move (coarse: pose and shape; fine: colours)")
        what.setWordWrap(True)
        layers.addWidget(what)
        layers.addWidget(self.picker)
        bottom = QHBoxLayout()
        for w in (reset, keep):
            bottom.addWidget(w)
        bottom.addStretch(1)
        kept = QLabel("Kept faces: click to view, drag into Style Mixing like a seed.")
        kept.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addLayout(files)
        lay.addWidget(self.progress)
        lay.addWidget(self.info)
        lay.addLayout(layers)
        lay.addLayout(bottom)        # Reset and Keep above the sliders: reachable however many there are
        lay.addLayout(self.rows)
        lay.addWidget(kept)
        lay.addWidget(self.kept_list)
        lay.addStretch(1)

    # ---------------------------------------------------------------- direction sets
    def compute(self) -> None:
        """Ask the engine for PCA or SeFa directions of the open model on the chosen layers."""
        if self.state.model is None:
            self.status.emit("Open a model first")
            return
        kind = self.method.currentData()
        self.bridge.post(ComputeDirections(kind, self.picker.chosen(), self.count.value(), SAMPLES[kind]))

    def open_file(self, path: str | None = None) -> None:
        """Read a directions file (in the engine)."""
        path = path or QFileDialog.getOpenFileName(self, "Open directions", "", "Directions (*.npz)")[0]
        if path:
            self.bridge.post(LoadDirections(path))

    def save_file(self, path: str | None = None) -> None:
        """Write the shown directions to an .npz."""
        if self.ds is None:
            self.status.emit("No directions to save yet: compute or open some first")
            return
        path = save_name(self, "Save directions", f"directions-{self.ds.kind}.npz", "Directions (*.npz)", path)
        if path:
            self.bridge.post(SaveDirections(path, self.ds))

    def on_directions(self, ev) -> None:
        """Show a set: one slider per direction, the set's own layers chosen."""
        self.ds = ds = ev.directions
        self.picker.set_layers(ds.layers, emit=False)
        self._build_rows()
        self.ds_path = ev.path
        self._describe()
        self.apply()

    def _describe(self) -> None:
        """The set in words: its kind, its file, and whether the open model is the one it was made for."""
        ds, model = self.ds, self.state.model
        other = model is not None and bool(model.model_id) and ds.model_id != model.model_id
        where = f" from {self.ds_path}" if self.ds_path else ""
        kind = KIND_WORDS.get(ds.kind, ds.kind)
        self.info.setText(f"{len(ds)} {kind} directions{where}"
                          f"{' (made for another model)' if other else ''}. Sliders move the face ±{RANGE}σ "
                          f"along each; σ is the spread of this model's faces along it.")

    def _build_rows(self) -> None:
        """One row per direction of the set (none without a set)."""
        while self.rows.count():
            self.rows.takeAt(0).widget().deleteLater()
        self.sliders, self.values = [], []
        for k, name in enumerate(self.ds.names if self.ds is not None else ()):
            label = QLabel(name)
            label.setToolTip(f"{self.ds.score_name}: {self.ds.scores[k]:.3g}; σ = {self.ds.sigmas[k]:.3g}")
            slider = QSlider(Qt.Orientation.Horizontal, minimum=-RANGE * STEPS, maximum=RANGE * STEPS, value=0)
            slider.setToolTip(label.toolTip())
            value = QLabel("0σ")
            value.setMinimumWidth(44)
            slider.valueChanged.connect(lambda v, k=k: self.moved(k, v))
            for c, w in enumerate((label, slider, value)):
                self.rows.addWidget(w, k, c)
            self.sliders.append(slider)
            self.values.append(value)

    # ---------------------------------------------------------------- editing
    def amounts(self) -> dict[int, float]:
        """{direction index: amount in σ} of the sliders away from 0."""
        return {k: s.value() / STEPS for k, s in enumerate(self.sliders) if s.value()}

    def moved(self, k: int, value: int) -> None:
        """A slider moved: show its value, make it the direction a video sweeps, edit the face."""
        self.values[k].setText(f"{value / STEPS:+g}σ" if value else "0σ")
        self.state.direction = self.ds.pick(k, self.picker.chosen())
        self.apply()

    def apply(self) -> None:
        """Show the base face with every slider's step on the chosen layers (latest wins in the engine)."""
        if self.ds is None:
            return
        edit = self.ds.edit(self.amounts(), self.picker.chosen())
        self.own = dataclasses.replace(self.base, edit=edit)  # a seed, w or fractional seed keeps what it is
        if self.own != self.state.latent:
            self.state.set_latent(self.own, self.state.mix_with, self.state.mix_layers)

    def on_state(self) -> None:
        """Another pane chose a face: edit that one from now on, sliders back at 0."""
        if self.state.latent == self.own:
            return
        self.base = self.own = self.state.latent.unedited()
        if self.state.latent.edit is not None:
            self.own = self.state.latent
        self._zero()

    def _zero(self) -> None:
        for s, v in zip(self.sliders, self.values):
            s.blockSignals(True)
            s.setValue(0)
            s.blockSignals(False)
            v.setText("0σ")

    def reset(self) -> None:
        """Every slider back to 0: the face as it was."""
        self._zero()
        self.apply()

    def keep(self) -> None:
        """Add the edited face to the kept faces (draggable into the mixing grid, clickable into the viewer)."""
        latent = self.state.latent
        item = self.kept_list.add_latent(latent, latent.label())
        item.setToolTip(latent.label())
        self.kept += 1
        target = f"{KEEP_TARGET}-{self.kept}"
        self.bridge.results(target).connect(lambda ev, item=item: item.setIcon(to_pixmap(ev.image, KEEP_THUMB)))
        self.bridge.submit(RenderImage(target, self.bridge.next_stamp(), latent, self.state.settings,
                                       self.state.mix_with, self.state.mix_layers, size=KEEP_THUMB))

    # ---------------------------------------------------------------- model and jobs
    def on_model(self, info) -> None:
        """Layer toggles for this model; a set made for another w size is dropped."""
        self.picker.set_model(info.layer_resolutions, info.layer_labels,
                              self.ds.layers if self.ds is not None else ())
        if self.ds is not None and self.ds.w_dim != info.w_dim:
            self.ds = None
            self._build_rows()
            self.info.setText("The open model has another w size: compute or open directions for it.")
        elif self.ds is not None:   # the viewer dropped its edit; the set stays, said to be another model's
            self._zero()
            self._describe()

    def on_job_started(self, ev) -> None:
        if ev.kind == "directions":
            self.job_id = ev.job_id
            self.progress.setValue(0)
            self.progress.show()
            self.compute_btn.setText("Cancel")
            self.compute_btn.clicked.disconnect()
            self.compute_btn.clicked.connect(lambda: self.bridge.post(CancelJob(self.job_id)))

    def on_job_progress(self, ev) -> None:
        if ev.job_id == self.job_id and ev.total:
            self.progress.setValue(int(1000 * ev.done / ev.total))
            if ev.done < ev.total:  # the last unit's line would hide the set's description
                self.info.setText(ev.message)

    def on_job_finished(self, ev) -> None:
        if ev.job_id != self.job_id:
            return
        self.job_id = 0
        self.progress.hide()
        self.compute_btn.setText("Compute")
        self.compute_btn.clicked.disconnect()
        self.compute_btn.clicked.connect(self.compute)
        if ev.status != "ok":
            self.info.setText("Cancelled." if ev.status == "cancelled" else f"Failed: {ev.message}")
