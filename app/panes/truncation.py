"""The Truncation pane: ψ and cutoff sliders, presets, a ψ strip of the current face, and for a model with a
Fourier input (StyleGAN3) the input's translate and rotate (NVIDIA's visualizer calls it equivariance)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QGridLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout,
                               QWidget)

from ...engine.contract.latents import PAPER_PSIS as PSIS
from ...engine.contract.messages import ExportStill
from ...engine.contract.requests import RenderTruncationStrip
from ..qtutil import save_name, to_pixmap

THUMB = 64  # the strip's thumbnails, three to a row
TARGET = "truncation-strip"  # render target of the strip
MOVE_STEPS = 100   # translate slider steps per image width
MAX_MOVE = 1.0     # ±1 image width: the face leaves the frame entirely


class TruncationPane(QWidget):
    """ψ from −1 to 2 in 0.01 steps; cutoff from 0 to the number of layers (= all)."""

    def __init__(self, bridge, state) -> None:
        super().__init__()
        self.bridge, self.state = bridge, state
        self.shown: bool | None = None  # set by the window from its dock (isVisible() is True for a tab behind another)
        self.psi = QSlider(Qt.Orientation.Horizontal, minimum=-100, maximum=200, value=round(state.settings.psi * 100))
        self.psi_label = QLabel()
        self.cutoff = QSlider(Qt.Orientation.Horizontal, minimum=0, maximum=10, value=10)
        self.cutoff_label = QLabel()
        self.psi.valueChanged.connect(self.on_psi)
        self.cutoff.valueChanged.connect(self.on_cutoff)
        one, paper = QPushButton("ψ 1 (none)"), QPushButton("ψ 0.7, cutoff 8 (paper)")
        one.clicked.connect(lambda: self.set_values(1.0, None))
        paper.clicked.connect(lambda: self.set_values(0.7, 8))
        self.strip = [QLabel(alignment=Qt.AlignmentFlag.AlignCenter) for _ in PSIS]
        form = QGridLayout()
        form.addWidget(QLabel("ψ"), 0, 0)
        form.addWidget(self.psi, 0, 1)
        form.addWidget(self.psi_label, 0, 2)
        form.addWidget(QLabel("Cutoff"), 1, 0)
        form.addWidget(self.cutoff, 1, 1)
        form.addWidget(self.cutoff_label, 1, 2)
        buttons = QHBoxLayout()
        buttons.addWidget(one)
        buttons.addWidget(paper)
        save = QPushButton("Save strip…")
        save.clicked.connect(lambda: self.save_strip())
        save_row = QHBoxLayout()
        save_row.addStretch(1)
        save_row.addWidget(save)
        strip = QGridLayout()
        for k, (psi, lab) in enumerate(zip(PSIS, self.strip)):  # two rows of three: fits a narrow side dock
            r, c = divmod(k, 3)
            strip.addWidget(lab, 2 * r, c)
            strip.addWidget(QLabel(f"ψ {psi:g}", alignment=Qt.AlignmentFlag.AlignCenter), 2 * r + 1, c)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addLayout(buttons)
        lay.addWidget(self._transform_box())
        lay.addLayout(strip)
        lay.addLayout(save_row)
        lay.addStretch(1)
        state.model_changed.connect(self.on_model)
        state.changed.connect(self.request_strip)
        bridge.results(TARGET).connect(self.on_strip)
        self._labels()

    def _transform_box(self) -> QGroupBox:
        """Translate x / y and rotate of the Fourier input; shown only for a model that has one."""
        span = round(MAX_MOVE * MOVE_STEPS)
        self.move_x, self.move_y = (QSlider(Qt.Orientation.Horizontal, minimum=-span, maximum=span) for _ in "xy")
        self.rotate = QSlider(Qt.Orientation.Horizontal, minimum=-180, maximum=180)
        self.transform_labels = [QLabel() for _ in range(3)]
        reset = QPushButton("Reset")
        reset.setToolTip("Back to the untransformed input")
        reset.clicked.connect(lambda: self.set_transform((0.0, 0.0), 0.0))
        grid = QGridLayout()
        for r, (text, slider, label) in enumerate(zip(("Move x", "Move y", "Rotate"),  # moves in image widths
                                                      (self.move_x, self.move_y, self.rotate), self.transform_labels)):
            slider.valueChanged.connect(self.on_transform)
            label.setMinimumWidth(label.fontMetrics().horizontalAdvance("+180°") + 4)
            grid.addWidget(QLabel(text), r, 0)
            grid.addWidget(slider, r, 1)
            grid.addWidget(label, r, 2)
        grid.addWidget(reset, 3, 2)
        self.transform_box = QGroupBox("Input shift and rotation (StyleGAN3)")
        self.transform_box.setToolTip("Moves and turns the generator's input: the image follows without its details "
                                      "sticking to the frame (equivariance)")
        self.transform_box.setLayout(grid)
        self.transform_box.hide()
        return self.transform_box

    def set_transform(self, translate: tuple[float, float], rotate: float) -> None:
        """Show and apply an input transform (one render, not three)."""
        for slider, value in zip((self.move_x, self.move_y, self.rotate),
                                 (translate[0] * MOVE_STEPS, translate[1] * MOVE_STEPS, rotate)):
            slider.blockSignals(True)
            slider.setValue(round(value))
            slider.blockSignals(False)
        self.on_transform()

    def on_transform(self, _=None) -> None:
        """A transform slider moved: re-render (latest wins while dragging)."""
        translate = (self.move_x.value() / MOVE_STEPS, self.move_y.value() / MOVE_STEPS)
        self._labels()
        self.state.set_settings(translate=translate, rotate=float(self.rotate.value()))

    def on_model(self, info) -> None:
        """Cutoff range follows the model's number of layers; the transform shows for a Fourier input only."""
        self.transform_box.setVisible(info.has_input_transform)
        s = self.state.settings
        self.set_transform(s.translate, s.rotate)
        self.cutoff.blockSignals(True)
        self.cutoff.setMaximum(info.num_ws)
        cut = self.state.settings.cutoff
        self.cutoff.setValue(info.num_ws if cut is None else cut)
        self.cutoff.blockSignals(False)
        self._labels()

    def set_values(self, psi: float, cutoff: int | None) -> None:
        """Apply a preset."""
        self.psi.setValue(round(psi * 100))
        top = self.cutoff.maximum()
        self.cutoff.setValue(top if cutoff is None else min(cutoff, top))

    def show_settings(self, settings) -> None:
        """Show ψ, cutoff and the input transform of `settings` (RenderSettings) without echoing them back: the
        caller sets them exactly (a saved ψ of 0.537 is not the slider's 0.54)."""
        top = self.cutoff.maximum()
        cutoff = top if settings.cutoff is None else settings.cutoff
        values = ((self.psi, settings.psi * 100), (self.cutoff, cutoff),
                  (self.move_x, settings.translate[0] * MOVE_STEPS), (self.move_y, settings.translate[1] * MOVE_STEPS),
                  (self.rotate, settings.rotate))
        for slider, value in values:
            slider.blockSignals(True)
            slider.setValue(round(value))
            slider.blockSignals(False)
        self._labels()

    def on_psi(self, value: int) -> None:
        self._labels()
        self.state.set_settings(psi=value / 100)

    def on_cutoff(self, value: int) -> None:
        self._labels()
        self.state.set_settings(cutoff=None if value >= self.cutoff.maximum() else value)

    def _labels(self) -> None:
        self.psi_label.setText(f"{self.psi.value() / 100:+.2f}")
        top = self.cutoff.value() >= self.cutoff.maximum()
        self.cutoff_label.setText("all layers" if top else f"layers < {self.cutoff.value()}")
        x, y, angle = self.transform_labels
        x.setText(f"{self.move_x.value() / MOVE_STEPS:+.2f}")
        y.setText(f"{self.move_y.value() / MOVE_STEPS:+.2f}")
        angle.setText(f"{self.rotate.value():+d}°")

    def request_strip(self) -> None:
        """Render the current face at the paper's ψ values."""
        shown = self.isVisible() if self.shown is None else self.shown
        if self.state.model is None or not shown:
            return
        self.bridge.submit(self.strip_request(self.bridge.next_stamp(), THUMB))

    def set_shown(self, shown: bool) -> None:
        """Its dock came into sight (its tab raised) or went out: a strip out of sight is not rendered."""
        self.shown = bool(shown)
        if self.shown:
            self.request_strip()

    def strip_request(self, stamp: int = 0, thumb: int | None = None) -> RenderTruncationStrip:
        """The strip as shown (thumbnails of `thumb` px) or as saved (None: the model's size)."""
        st = self.state
        return RenderTruncationStrip(TARGET, stamp, latent=st.latent, settings=st.settings, psis=PSIS, thumb=thumb,
                                     mix_with=st.mix_with if st.mix_layers else None,
                                     mix_layers=st.mix_layers if st.mix_with is not None else ())

    def save_strip(self, path: str | None = None) -> None:
        """Save the current face at the strip's ψ values as one PNG with provenance."""
        path = save_name(self, "Save ψ strip", "truncation-strip.png", "PNG (*.png)", path)
        if path:
            self.bridge.post(ExportStill(path, self.strip_request()))

    def on_strip(self, ev) -> None:
        done = len(ev.images) if ev.done is None else ev.done  # a large model's strip streams in
        for lab, img in zip(self.strip, ev.images[:done]):
            lab.setPixmap(to_pixmap(img, THUMB))

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self.request_strip()
