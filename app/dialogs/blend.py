"""Blend Models: the open model's coarse layers with a second model's finer ones, live beside both, then saved."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog,
                               QFormLayout, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout,
                               QWidget)

from ...engine.contract.messages import GridChunk, LoadModel, RenderBlend, RenderSeedGrid, SaveBlend
from ...engine.contract.blend import MAX_WIDTH, BlendSpec
from ...engine.contract.latents import SpecError, parse_seeds
from ..qtutil import save_name, sentence, to_pixmap

TARGET = "blend"        # the render target of the three rows
THUMB = 96              # px per face
MAX_FACES = 8           # faces per row
ROWS = ("base", "blend", "other")


class CurvePlot(QWidget):
    """The share of the other model per synthesis resolution: the curve, a dot per resolution."""

    def __init__(self) -> None:
        super().__init__()
        self.setMinimumSize(300, 110)
        self.spec, self.resolutions = BlendSpec(), (4, 8, 16, 32, 64)

    def set_curve(self, spec: BlendSpec, resolutions) -> None:
        """Plot `spec` over `resolutions`."""
        self.spec, self.resolutions = spec, tuple(resolutions)
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        box = QRectF(48, 8, self.width() - 62, self.height() - 30)
        lo, hi = math.log2(self.resolutions[0]), math.log2(self.resolutions[-1])

        def at(log_res: float, t: float) -> QPointF:
            x = box.left() + (log_res - lo) / max(hi - lo, 1e-9) * box.width()
            return QPointF(x, box.bottom() - t * box.height())
        p.setPen(QPen(QColor("#888"), 1))
        p.drawRect(box)
        p.drawText(QRectF(0, box.top() - 7, 44, 14), Qt.AlignmentFlag.AlignRight, "other")
        p.drawText(QRectF(0, box.bottom() - 7, 44, 14), Qt.AlignmentFlag.AlignRight, "open")
        path = QPainterPath(at(lo, self.spec.weight(2 ** lo)))
        for k in range(1, 101):
            x = lo + (hi - lo) * k / 100
            path.lineTo(at(x, self.spec.weight(2 ** x)))
        p.setPen(QPen(QColor("#3d8fd1"), 2))
        p.drawPath(path)
        p.setBrush(QColor("#3d8fd1"))
        for r in self.resolutions:
            t = self.spec.weight(r)
            p.drawEllipse(at(math.log2(r), t), 3.5, 3.5)
            p.setPen(QPen(QColor("#aaa"), 1))
            p.drawText(QRectF(at(math.log2(r), 0).x() - 20, box.bottom() + 3, 40, 14),
                       Qt.AlignmentFlag.AlignCenter, f"{r}²")
            p.setPen(QPen(QColor("#3d8fd1"), 2))
        p.end()


class BlendDialog(QDialog):
    """Non-modal: choose the second model, where to swap and how smoothly; the engine renders the three rows."""

    opened = Signal(str)  # a saved blend the dialog asked the engine to open (the dialog closes)

    def __init__(self, bridge, state, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Blend Models")
        self.bridge, self.state = bridge, state
        self.other_path, self._saving, self._shown_stamp = "", "", 0
        self._row = None  # (stamp, faces) of the open model's row while no second model is chosen
        self._settings = state.settings     # the ψ and noise of the last request
        self.other_edit = QLineEdit(readOnly=True, placeholderText="Choose a model of the same kind, e.g. one "
                                    "fine-tuned from this one")
        self.choose_btn = QPushButton("Choose…")
        self.choose_btn.clicked.connect(lambda: self.choose_other())
        self.at = QComboBox()
        self.at.setToolTip("Resolutions below this come from the open model, this one and above from the other")
        self.width_box = QDoubleSpinBox(minimum=0.0, maximum=MAX_WIDTH, singleStep=0.25, value=1.0, decimals=2,
                                        suffix=" doublings")
        self.width_box.setToolTip("How gradual the swap is: 0 swaps at once; 1 goes from 10 % to 90 % of the other "
                                  "model between half the swap resolution and the swap resolution")
        self.seeds = QLineEdit(self._default_seeds())
        self.curve = CurvePlot()
        self.row_labels = [QLabel() for _ in ROWS]
        self.row_views = [QLabel() for _ in ROWS]
        for view in self.row_views:
            view.setMinimumHeight(THUMB)
            view.setStyleSheet("background: #2b2b2b")
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.open_after = QCheckBox("Open the blend after saving", checked=True)
        self.buttons = QDialogButtonBox()
        self.save_btn = self.buttons.addButton("Save Blend…", QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_btn.clicked.connect(lambda: self.save())
        self.buttons.addButton("Close", QDialogButtonBox.ButtonRole.RejectRole).clicked.connect(self.reject)
        self._layout()
        self._connect()
        if state.model is not None:
            self.on_model(state.model)

    def _default_seeds(self) -> str:
        seed = self.state.seed() if self.state.seed() is not None else 0
        return f"{seed}-{seed + 5}"

    def _layout(self) -> None:
        other = QHBoxLayout()
        other.addWidget(self.other_edit, 1)
        other.addWidget(self.choose_btn)
        form = QFormLayout()
        form.addRow("Second model", other)
        form.addRow("Swap at", self.at)
        form.addRow("Transition", self.width_box)
        form.addRow("Share of the second model", self.curve)
        form.addRow("Seeds", self.seeds)
        rows = QGridLayout()
        for i, (label, view) in enumerate(zip(self.row_labels, self.row_views)):
            rows.addWidget(label, i, 0)
            rows.addWidget(view, i, 1)
        rows.setColumnStretch(1, 1)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addLayout(rows)
        lay.addWidget(self.message)
        lay.addWidget(self.open_after)
        lay.addWidget(self.buttons)
        self._label_rows("")

    def _connect(self) -> None:
        self.at.currentIndexChanged.connect(self.request)
        self.width_box.valueChanged.connect(self.request)
        self.seeds.editingFinished.connect(self.request)
        self.bridge.results(TARGET).connect(self.on_result)
        self.bridge.error.connect(self.on_error)
        self.bridge.saved.connect(self.on_saved)
        self.state.model_changed.connect(self.on_model)
        self.state.changed.connect(self.on_state)

    def on_state(self) -> None:
        """The viewer's ψ or noise changed: the rows follow (a new face in the viewer does not concern them)."""
        if self.isVisible() and self.state.settings != self._settings:
            self.request()

    # ---------------------------------------------------------------- the form
    def spec(self) -> BlendSpec:
        """The blend the form describes."""
        return BlendSpec(int(self.at.currentData() or 16), round(self.width_box.value(), 2))

    def on_model(self, info) -> None:
        """The open model (the base) changed: offer its resolutions and render again."""
        current = self.at.currentData() or 16
        choices = [2 ** k for k in range(2, int(math.log2(info.resolution)) + 1)]
        self.at.blockSignals(True)
        self.at.clear()
        for r in choices:
            self.at.addItem(f"{r}²", r)
        self.at.setCurrentIndex(choices.index(current) if current in choices else min(2, len(choices) - 1))
        self.at.blockSignals(False)
        self._label_rows(None)
        if self.isVisible():
            self.request()

    def choose_other(self, path: str | None = None) -> None:
        """Pick the second model (asked for unless given) and render."""
        if not path:
            path, _ = QFileDialog.getOpenFileName(self, "Second model", "", "Models (*.safetensors *.pkl);;"
                                                  "All files (*)")
        if path:
            self.other_path = str(path)
            self.other_edit.setText(self.other_path)
            self._label_rows("")
            self.request()

    def _label_rows(self, other_name: str | None) -> None:
        base = self.state.model.name if self.state.model is not None else "open model"
        other = other_name if other_name else Path(self.other_path).stem if self.other_path else "second model"
        texts = (f"Open model\n{base}", "Blend", f"Second model\n{other}")
        for label, text in zip(self.row_labels, texts):
            label.setText(text)

    # ---------------------------------------------------------------- rendering (latest wins)
    def request(self) -> None:
        """Ask the engine for the three rows with the form's settings (a newer request replaces this one)."""
        try:
            seeds = parse_seeds(self.seeds.text(), limit=MAX_FACES)
            spec = self.spec()
        except SpecError as exc:
            self.message.setText(sentence(str(exc)))
            return
        self.curve.set_curve(spec, self._resolutions())
        if self.state.model is None:
            return
        if not self.other_path:
            self.message.setText("Choose a second model of the same kind (e.g. one fine-tuned from this one with "
                                 "train --init)")
            # meanwhile the open model's row: the faces the blend will start from
            self._settings = self.state.settings
            self.bridge.submit(RenderSeedGrid(TARGET, self.bridge.next_stamp(), seeds=seeds,
                                              settings=self.state.settings, thumb=THUMB, chunk=len(seeds),
                                              c=self.state.label_class))
            return
        self.message.setText("Blending…")
        self._settings = self.state.settings
        self.bridge.submit(RenderBlend(TARGET, self.bridge.next_stamp(), self.other_path, spec, seeds,
                                       self.state.settings, THUMB, c=self.state.label_class))

    def _resolutions(self) -> tuple[int, ...]:
        return tuple(self.at.itemData(i) for i in range(self.at.count())) or (4, 8, 16, 32, 64)

    def on_result(self, ev) -> None:
        """Show the rows rendered so far (only the open model's while no second model is chosen)."""
        self._shown_stamp = ev.stamp
        if isinstance(ev, GridChunk):  # streamed a few faces at a time: dark until each arrives
            if self._row is None or self._row[0] != ev.stamp or len(self._row[1]) != ev.total:
                self._row = (ev.stamp, np.full((ev.total, *ev.images.shape[1:]), 43, np.uint8))
            self._row[1][ev.start:ev.start + len(ev.images)] = ev.images
            self.row_views[0].setPixmap(to_pixmap(np.concatenate(list(self._row[1]), axis=1)))
            for view in self.row_views[1:]:
                view.clear()
            return
        for view, images in zip(self.row_views, (ev.base_images, ev.blend_images, ev.other_images)):
            view.setPixmap(to_pixmap(np.concatenate(list(images), axis=1)))
        self.save_btn.setEnabled(not self._saving)   # a blend is shown: it can be saved
        self._label_rows(ev.other_name)
        if ev.done is None:
            shares = ", ".join(f"{r}² {t:.0%}" for r, t in ev.weights)
            note = f"\n{sentence(ev.note)}" if ev.note else ""
            self.message.setText(f"Share of the second model ({ev.other_name}, id {ev.other_id}): {shares}{note}")

    def on_error(self, ev) -> None:
        """A blend that cannot be made (or saved) says why here, in one line."""
        if isinstance(ev.source, RenderBlend) and ev.source.target == TARGET \
                and ev.source.stamp >= self._shown_stamp:
            for view in self.row_views[1:]:
                view.clear()
            self.message.setText(sentence(ev.message))
            self.save_btn.setEnabled(False)   # nothing to save until a blend can be made
        elif isinstance(ev.source, SaveBlend):
            self._saving = ""
            self.save_btn.setEnabled(True)
            self.message.setText(sentence(ev.message))

    # ---------------------------------------------------------------- saving
    def save(self, path: str | None = None) -> None:
        """Write the blend as a model file (asks where unless given); opened afterwards when ticked."""
        if not self.other_path:
            self.message.setText("Choose a second model first")
            return
        path = save_name(self, "Save blended model", "blend.safetensors", "Models (*.safetensors)", path)
        if path:
            self._saving = path
            self.save_btn.setEnabled(False)
            self.message.setText(f"Saving {Path(path).name}…")
            self.bridge.post(SaveBlend(path, self.other_path, self.spec()))

    def on_saved(self, ev) -> None:
        if ev.what != "model" or ev.path != self._saving:
            return
        self._saving = ""
        self.save_btn.setEnabled(True)
        if self.open_after.isChecked():  # the blend becomes the open model: done here, explore it in the window
            self.bridge.post(LoadModel(ev.path))
            self.message.setText("")
            self.accept()
            self.opened.emit(ev.path)
        else:
            self.message.setText(f"Saved {Path(ev.path).name}; its card names both parents")
