"""The Noise pane: per-resolution mode, resample and strength; variation map; animation."""
from __future__ import annotations

import itertools

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFrame, QGridLayout, QHBoxLayout, QLabel, QPushButton,
                               QScrollArea, QSlider, QSpinBox, QVBoxLayout, QWidget)

from ...engine.contract.messages import ExportStill
from ...engine.contract.requests import RenderVariation
from ...engine.contract.latents import COARSE_MAX, MIDDLE_MAX, NoiseSpec, ResNoise
from ..qtutil import grey_pixmap, icon, save_name
from ..state import NOISE_MODES

MODES = NOISE_MODES   # (the words the viewer's caption uses too)
TARGET = "variation"  # render target of the std map


class NoisePane(QWidget):
    """One row per resolution; changes go straight into the exploration state. A model without noise inputs
    (StyleGAN3) gets one line saying so and the controls disabled."""

    status = Signal(str)

    def __init__(self, bridge, state) -> None:
        super().__init__()
        self.bridge, self.state = bridge, state
        self.seeds = itertools.count(1)
        self.rows: dict[int, tuple[QComboBox, QSlider]] = {}
        self.values: dict[int, QLabel] = {}          # the strength beside each slider, in %
        self.before_animation: NoiseSpec | None = None
        self.table = QGridLayout()
        self.table.setColumnStretch(3, 1)  # the strength slider takes the spare width
        # Short labels so the pane fits a narrow side dock; the tooltips say what they do.
        fine, coarse = QPushButton(icon("fa5s.random"), "Fine"), QPushButton(icon("fa5s.random"), "Coarse")
        fine.setToolTip("Resample the fine noise (Ctrl+Shift+F)")
        coarse.setToolTip("Resample the coarse noise (Ctrl+Shift+C)")
        fine.clicked.connect(lambda: self.resample_group("fine"))
        coarse.clicked.connect(lambda: self.resample_group("coarse"))
        self.animate = QCheckBox("Animate")
        self.timer = QTimer(self, interval=120)
        self.timer.timeout.connect(self.resample_all)
        self.animate.toggled.connect(self.set_animating)
        self.variation = QLabel("Variation: per-pixel standard deviation over noise draws")
        self.variation_of = None   # (latent, settings, mix) the shown map was computed for
        self.variation_note = QLabel(wordWrap=True)
        self.variation.setMinimumHeight(64)
        self.variation.setWordWrap(True)
        self.variation.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.draws = QSpinBox(minimum=4, maximum=200, value=32)
        show = QPushButton(icon("fa5s.chart-area"), "Show variation")
        show.clicked.connect(self.request_variation)
        save = QPushButton(icon("fa5s.save"), "Save map…")
        save.clicked.connect(lambda: self.save_variation())
        bar = QHBoxLayout()
        for w in (fine, coarse, self.animate):
            bar.addWidget(w)
        var_bar = QHBoxLayout()
        for w in (QLabel("Draws"), self.draws, show):
            var_bar.addWidget(w)
        rows = QWidget()
        rows.setLayout(self.table)
        self.rows_area = QScrollArea(widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
        self.rows_area.setWidget(rows)
        # Up to 9 resolutions (1024²): the rows scroll rather than push the window taller than the screen.
        self.rows_area.setMinimumHeight(4 * 30)
        self.none_note = QLabel(wordWrap=True)
        self.none_note.hide()
        self.controls = QWidget()
        inner = QVBoxLayout(self.controls)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.addWidget(self.rows_area, 1)
        inner.addLayout(bar)
        inner.addLayout(var_bar)
        inner.addWidget(self.variation, 0)
        inner.addWidget(self.variation_note, 0)
        inner.addWidget(save, 0, Qt.AlignmentFlag.AlignRight)
        lay = QVBoxLayout(self)
        lay.addWidget(self.none_note, 0)
        lay.addWidget(self.controls, 1)
        state.model_changed.connect(self.on_model)
        bridge.results(TARGET).connect(self.on_variation)
        state.changed.connect(self._note_stale)

    def on_model(self, info) -> None:
        """Build one row per noise resolution of the model; none (StyleGAN3): say so and disable the pane."""
        if not info.has_noise:
            self.animate.setChecked(False)
        why = " (StyleGAN3 has none)" if info.arch == "stylegan3" else " (trained without them)"
        self.none_note.setText(f"This model has no noise inputs{why}: nothing to set here.")
        self.none_note.setVisible(not info.has_noise)
        self.controls.setEnabled(info.has_noise)
        while self.table.count():
            self.table.takeAt(0).widget().deleteLater()
        self.rows.clear()
        self.values.clear()
        for r, res in enumerate(sorted(set(info.noise_resolutions))):
            mode = QComboBox()
            mode.addItems([m[0] for m in MODES])
            strength = QSlider(Qt.Orientation.Horizontal, minimum=0, maximum=200, value=100)
            strength.setToolTip("strength (100% = as trained)")
            again = QPushButton(icon("fa5s.redo"), "")
            again.setToolTip(f"Resample the {res}×{res} noise")
            mode.currentIndexChanged.connect(lambda _=0, res=res: self.changed(res))
            strength.valueChanged.connect(lambda _=0, res=res: self.changed(res))
            again.clicked.connect(lambda _=False, res=res: self.resample(res))
            value = QLabel("100%")
            value.setMinimumWidth(value.fontMetrics().horizontalAdvance("200%") + 4)
            strength.valueChanged.connect(lambda v, label=value: label.setText(f"{v}%"))
            for c, w in enumerate((QLabel(f"{res}×{res}"), mode, again, strength, value)):
                self.table.addWidget(w, r, c)
            self.rows[res], self.values[res] = (mode, strength), value
        self.apply_spec(self.state.settings.noise)

    def apply_spec(self, spec: NoiseSpec) -> None:
        """Show a spec in the widgets without echoing changes back."""
        for res, (mode, strength) in self.rows.items():
            s = spec.at(res)
            for w in (mode, strength):
                w.blockSignals(True)
            mode.setCurrentIndex([m[1] for m in MODES].index(s.mode))
            strength.setValue(round(s.strength * 100))
            self.values[res].setText(f"{strength.value()}%")
            for w in (mode, strength):
                w.blockSignals(False)

    def changed(self, res: int, seed: int | None = None) -> None:
        """A row changed: update that resolution's noise."""
        mode, strength = self.rows[res]
        old = self.state.settings.noise.at(res)
        setting = ResNoise(MODES[mode.currentIndex()][1], old.seed if seed is None else seed, strength.value() / 100)
        self.state.set_noise(self.state.settings.noise.with_res(res, setting))

    def resample(self, res: int) -> None:
        """A new noise seed for one resolution (switching it to Resampled)."""
        mode, _ = self.rows[res]
        mode.blockSignals(True)
        mode.setCurrentIndex(1)
        mode.blockSignals(False)
        self.changed(res, seed=next(self.seeds))

    def resample_group(self, name: str) -> None:
        """Resample every coarse (4²–8²) or fine (≥ 64², or the top two for small models) resolution."""
        resolutions = sorted(self.rows)
        if not resolutions:
            self.status.emit("This model has no noise inputs to resample")
            return
        if name == "coarse":
            chosen = [r for r in resolutions if r <= COARSE_MAX]
        else:
            chosen = [r for r in resolutions if r > MIDDLE_MAX] or resolutions[-2:]
        spec = self.state.settings.noise
        for res in chosen:
            spec = spec.with_res(res, ResNoise("random", next(self.seeds), spec.at(res).strength))
        self.state.set_noise(spec)
        self.apply_spec(spec)

    def set_animating(self, on: bool) -> None:
        """Start or stop the animation; stopping gives every row back the mode and noise it had before."""
        if on:
            self.before_animation = self.state.settings.noise
            self.timer.start()
            return
        self.timer.stop()
        if self.before_animation is not None:
            spec, old = self.state.settings.noise, self.before_animation
            for res in self.rows:   # strengths moved while animating stay as they are now
                spec = spec.with_res(res, ResNoise(old.at(res).mode, old.at(res).seed, spec.at(res).strength))
            self.before_animation = None
            self.state.set_noise(spec)
            self.apply_spec(spec)

    def resample_all(self) -> None:
        """Animation step: fresh noise at every resolution that is not off."""
        spec = self.state.settings.noise
        for res in self.rows:
            s = spec.at(res)
            if s.mode != "zero":
                spec = spec.with_res(res, ResNoise("random", next(self.seeds), s.strength))
        self.state.set_noise(spec)
        self.apply_spec(spec)

    def request_variation(self) -> None:
        """Ask for the std map of the current image over N noise draws."""
        self.bridge.submit(self.variation_request(self.bridge.next_stamp()))
        self.variation_of = self._current()
        self.variation.setText("Computing variation…")
        self.variation_note.setText(f"Variation of {self.state.latent.label()} over {self.draws.value()} draws")

    def save_variation(self, path: str | None = None) -> None:
        """Save the std map of the current image as a grey PNG with provenance."""
        path = save_name(self, "Save noise variation map", "noise-map.png", "PNG (*.png)", path)
        if path:
            self.bridge.post(ExportStill(path, self.variation_request()))

    def variation_request(self, stamp: int = 0) -> RenderVariation:
        """The std map of the current image over the chosen number of draws."""
        st = self.state
        return RenderVariation(TARGET, stamp, latent=st.latent, settings=st.settings, mix_with=st.mix_with,
                               mix_layers=st.mix_layers, draws=self.draws.value())

    def _current(self) -> tuple:
        """What the map depends on: the face and each resolution's noise on/off and strength (not its draw)."""
        st, noise = self.state, self.state.settings.noise
        strengths = tuple((r, noise.at(r).mode == "zero", noise.at(r).strength) for r in sorted(self.rows))
        return (st.latent, st.settings.psi, st.settings.cutoff, st.mix_with, st.mix_layers, strengths)

    def _note_stale(self) -> None:
        """Say so when the face on screen is no longer the one the map shows (new noise draws do not count)."""
        if self.variation_of is not None and self._current() != self.variation_of:
            label = self.variation_of[0].label()
            self.variation_note.setText(f"Variation of {label}, not the face on screen: press Show variation "
                                        "to update it")

    def on_variation(self, ev) -> None:
        """Show the standard-deviation map (a large model's map refines as draws arrive)."""
        side = max(128, min(self.variation.width(), self.variation.height()) - 4)
        self.variation.setPixmap(grey_pixmap(ev.std_map, side))
        self.variation.setToolTip("" if ev.done is None else f"{ev.done} draws so far")
