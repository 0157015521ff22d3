"""The Interpolation pane: the faces on the straight line in W from the current face to another seed."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from ...engine.contract.latents import Latent
from ...engine.contract.messages import ExportStill
from ...engine.contract.requests import RenderInterpolation
from ..qtutil import AcceptsFaces, save_name, to_pixmap

THUMB = 64  # the strip's thumbnails, four to a row: fits a narrow side dock
PER_ROW = 4
TARGET = "interpolation"  # render target of the strip


class InterpolationPane(AcceptsFaces, QWidget):
    """From the face in the viewer (as shown: truncated, edited, mixed) to a seed, or to any face dropped on the pane (a
    favourite, a projected image), in 2 to 16 steps."""

    def __init__(self, bridge, state) -> None:
        super().__init__()
        self.bridge, self.state = bridge, state
        self.shown: bool | None = None  # set by the window from its dock (isVisible() is True for a tab behind another)
        self.end_face: Latent | None = None   # a face dropped here; None: the seed below
        self.to_seed = QSpinBox(minimum=0, maximum=2 ** 31 - 1, value=1)
        self.to_seed.setToolTip("The seed of the face the strip ends at (or drop any face on this pane)")
        self.steps = QSpinBox(minimum=2, maximum=16, value=8)
        self.steps.setToolTip("Faces in the strip, both ends included")
        self.to_seed.valueChanged.connect(self.end_at_seed)
        self.setAcceptDrops(True)
        self.steps.valueChanged.connect(self.on_steps)
        self.note = QLabel(wordWrap=True)
        self.note.setStyleSheet("color: #777;")
        form = QHBoxLayout()
        form.addWidget(QLabel("To seed"))
        form.addWidget(self.to_seed)
        form.addWidget(QLabel("Steps"))
        form.addWidget(self.steps)
        form.addStretch(1)
        self.grid = QGridLayout()
        self.cells: list[QLabel] = []
        save = QPushButton("Save strip…")
        save.clicked.connect(lambda: self.save_strip())
        save_row = QHBoxLayout()
        save_row.addStretch(1)
        save_row.addWidget(save)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.note)
        lay.addLayout(self.grid)
        lay.addLayout(save_row)
        lay.addStretch(1)
        self.on_steps()
        state.changed.connect(self.request_strip)
        bridge.results(TARGET).connect(self.on_strip)

    def on_steps(self) -> None:
        """One thumbnail per step, PER_ROW to a row."""
        for cell in self.cells:
            self.grid.removeWidget(cell)
            cell.deleteLater()
        self.cells = [QLabel(alignment=Qt.AlignmentFlag.AlignCenter) for _ in range(self.steps.value())]
        for k, cell in enumerate(self.cells):
            cell.setFixedSize(THUMB, THUMB)
            self.grid.addWidget(cell, *divmod(k, PER_ROW))
        self.request_strip()

    def set_end(self, end: Latent, steps: int) -> None:
        """Show the strip to `end` in `steps` faces (e.g. a saved strip opened again): a plain seed goes into the
        seed box, any other face is the dropped end."""
        plain_seed = self._seed_box_holds(end)
        for spin, value in ((self.to_seed, end.seed if plain_seed else self.to_seed.value()), (self.steps, steps)):
            spin.blockSignals(True)
            spin.setValue(value)
            spin.blockSignals(False)
        self.end_face = None if plain_seed else end
        self.on_steps()

    def end_at(self, latent: Latent) -> None:
        """End the strip at any face (dropped on the pane, or the faces' right-click menu); a plain seed goes into
        the seed box, so the box never names another end than the strip's."""
        latent = self.state.fit_latent(latent)
        if self._seed_box_holds(latent):
            self.set_end(latent, self.steps.value())
            return
        self.end_face = latent
        self.request_strip()

    def _seed_box_holds(self, latent: Latent) -> bool:
        """Whether the seed box can name this face: a seed, unedited, in the class the Seeds pane shows."""
        return latent.seed is not None and latent.edit is None and latent == self.state.seed_latent(latent.seed)

    def end_at_seed(self) -> None:
        """The seed box changed: the strip ends at that seed again."""
        self.end_face = None
        self.request_strip()

    def end(self) -> Latent:
        """The face the strip ends at."""
        return self.end_face if self.end_face is not None else self.state.seed_latent(self.to_seed.value())

    def face_dropped(self, latent: Latent) -> None:
        """A face dropped on the pane is the strip's end."""
        self.end_at(latent)

    def strip_request(self, stamp: int = 0, thumb: int | None = None) -> RenderInterpolation:
        """The strip as shown (thumbnails of `thumb` px) or as saved (None: the model's size)."""
        st = self.state
        return RenderInterpolation(TARGET, stamp, start=st.latent, end=self.end(), steps=self.steps.value(),
                                   settings=st.settings, thumb=thumb, mix_with=st.mix_with if st.mix_layers else None,
                                   mix_layers=st.mix_layers if st.mix_with is not None else ())

    def request_strip(self) -> None:
        """Render the strip from the current face to the chosen seed."""
        shown = self.isVisible() if self.shown is None else self.shown
        if self.state.model is None or not shown:
            return
        self.note.setText(f"From {self.state.describe_face()} to {self.end().label()}")
        self.bridge.submit(self.strip_request(self.bridge.next_stamp(), THUMB))

    def set_shown(self, shown: bool) -> None:
        """Its dock became visible (shown, its tab raised) or not: a strip out of sight is not rendered."""
        self.shown = bool(shown)
        if self.shown:
            self.request_strip()

    def save_strip(self, path: str | None = None) -> None:
        """Save the strip at the model's size as one PNG with provenance."""
        path = save_name(self, "Save interpolation strip", "interpolation.png", "PNG (*.png)", path)
        if path:
            self.bridge.post(ExportStill(path, self.strip_request()))

    def on_strip(self, ev) -> None:
        done = len(ev.images) if ev.done is None else ev.done  # a large model's strip streams in
        for cell, img in zip(self.cells, ev.images[:done]):
            cell.setPixmap(to_pixmap(img, THUMB))

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self.request_strip()
