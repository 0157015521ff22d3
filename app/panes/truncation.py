"""The Truncation pane: ψ and cutoff sliders, presets, and a ψ strip of the current face."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout, QWidget

from ...engine.contract.latents import PAPER_PSIS as PSIS
from ...engine.contract.messages import ExportStill
from ...engine.contract.requests import RenderTruncationStrip
from ..qtutil import save_name, to_pixmap

THUMB = 64  # the strip's thumbnails, three to a row
TARGET = "truncation-strip"  # render target of the strip


class TruncationPane(QWidget):
    """ψ from −1 to 2 in 0.01 steps; cutoff from 0 to the number of layers (= all)."""

    def __init__(self, bridge, state) -> None:
        super().__init__()
        self.bridge, self.state = bridge, state
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
        lay.addLayout(strip)
        lay.addLayout(save_row)
        lay.addStretch(1)
        state.model_changed.connect(self.on_model)
        state.changed.connect(self.request_strip)
        bridge.results(TARGET).connect(self.on_strip)
        self._labels()

    def on_model(self, info) -> None:
        """Cutoff range follows the model's number of layers."""
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

    def request_strip(self) -> None:
        """Render the current face at the paper's ψ values."""
        if self.state.model is None or not self.isVisible():
            return
        self.bridge.submit(self.strip_request(self.bridge.next_stamp(), THUMB))

    def strip_request(self, stamp: int = 0, thumb: int | None = None) -> RenderTruncationStrip:
        """The strip as shown (thumbnails of `thumb` px) or as saved (None: the model's size)."""
        return RenderTruncationStrip(TARGET, stamp, latent=self.state.latent, settings=self.state.settings,
                                     psis=PSIS, thumb=thumb)

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
