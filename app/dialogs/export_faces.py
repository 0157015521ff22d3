"""Export Faces: seeds or the favourites, one PNG each (with provenance) into a folder, as a cancellable job."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import (QButtonGroup, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QMessageBox,
                               QRadioButton, QToolButton, QVBoxLayout)

from ...engine.contract.facefiles import face_file_names
from ...engine.contract.latents import Latent, SpecError, parse_seeds
from ...engine.contract.messages import ExportFaces, RenderImage
from ..qtutil import absolute, compact, sentence
from .jobdialog import JobDialog

Entries = Callable[[], list[tuple[Latent, str]]]


class ExportFacesDialog(JobDialog):
    """Non-modal: the faces render at the viewer's ψ, cutoff, noise and input transform (not its mixing)."""

    JOB_KIND = "faces"

    def __init__(self, bridge, state, seeds_text: Callable[[], str], favourites: Entries, parent=None) -> None:
        super().__init__(bridge, "Export Faces", "Export", parent)
        self.state, self.favourites, self.seeds_text = state, favourites, seeds_text
        self.from_seeds = QRadioButton("Seeds")
        self.from_favs = QRadioButton("The favourites")
        group = QButtonGroup(self)
        for b in (self.from_seeds, self.from_favs):
            group.addButton(b)
            b.toggled.connect(self._show_used)
        self.seeds = QLineEdit(placeholderText="e.g. 0-63 or 7, 42, 100-120")
        self.folder = QLineEdit(str(Path.cwd() / "faces"))
        self.settings_line = QLabel()
        self.settings_line.setWordWrap(True)
        browse = compact(QToolButton(text="…"))
        browse.clicked.connect(self.browse)
        self._layout(browse)
        self.setMinimumWidth(520)
        self.from_seeds.setChecked(True)
        self.refresh()
        state.changed.connect(self._show_settings)   # ψ moved with the dialog open: the line follows

    def _layout(self, browse: QToolButton) -> None:
        seeds_row = QHBoxLayout()
        seeds_row.addWidget(self.from_seeds)
        seeds_row.addWidget(self.seeds, 1)
        out = QHBoxLayout()
        out.addWidget(self.folder)
        out.addWidget(browse)
        form = QFormLayout()
        form.addRow("Faces", seeds_row)
        form.addRow("", self.from_favs)
        form.addRow("Rendered at", self.settings_line)
        form.addRow("Folder", out)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("One PNG per face, each recording how it was made (File → Open Saved Image brings "
                             "it back)", wordWrap=True))
        lay.addLayout(form)
        self.add_job_rows(lay)

    def refresh(self) -> None:
        """Bring the favourites' count and the viewer's settings up to date (on showing the dialog); reopened,
        it starts from the Seeds pane's seeds again."""
        if not self.isVisible():
            self.seeds.setText(self.seeds_text())
        n = len(self.favourites())
        self.from_favs.setText(f"The favourites ({n})")
        self.from_favs.setEnabled(n > 0)
        if not n:
            self.from_seeds.setChecked(True)
        self._show_settings()

    def _show_settings(self) -> None:
        """The viewer's settings the faces render at, and the class seeds are drawn in (a conditional model)."""
        c = self.state.label_class
        drawn = f" · seeds in class {c}" if c is not None and self.from_seeds.isChecked() else ""
        self.settings_line.setText(f"{self.state.describe_settings()}{drawn}  (the viewer's)")

    def _show_used(self, *_) -> None:
        self.seeds.setEnabled(self.from_seeds.isChecked())
        self._show_settings()

    def browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Folder for the faces", self.folder.text())
        if path:
            self.folder.setText(path)

    def faces(self) -> tuple[list[Latent], list[str]]:
        """The faces the form names and their labels (raises SpecError when there are none)."""
        if self.from_favs.isChecked():
            entries = self.favourites()
            if not entries:
                raise SpecError("no favourites yet: keep faces with Keep current in the Seeds pane")
            return [lat for lat, _ in entries], [text for _, text in entries]
        seeds = parse_seeds(self.seeds.text())
        return [Latent(seed=s, c=self.state.label_class) for s in seeds], []

    def request(self) -> ExportFaces:
        """The export the form describes (raises SpecError on bad input)."""
        latents, labels = self.faces()
        folder = absolute(self.folder.text())
        if not folder:
            raise SpecError("choose a folder for the faces")
        s = self.state.settings
        return ExportFaces(folder, tuple(RenderImage(latent=lat, settings=s) for lat in latents), tuple(labels))

    def start(self) -> None:
        """Validate, ask before replacing files already in the folder, and post the job."""
        req = self.valid(self.request)
        if req is None:
            return
        names = face_file_names([r.latent for r in req.requests], req.labels)
        there = sum((Path(req.folder) / name).exists() for name in names)
        if there and QMessageBox.question(
                self, "Replace files?", f"{there:,} of the {len(names):,} files are in {req.folder} already. "
                                        "Replace them?") != QMessageBox.StandardButton.Yes:
            self.message.setText("Nothing exported: choose another folder, or replace the files")
            return
        self.post_job(req, f"Exporting {len(names):,} faces…")

    def progress_text(self, ev) -> str:
        return f"{ev.done:g} of {ev.total:g} faces"

    def outcome_text(self, ev) -> str:
        if ev.status == "cancelled":
            return f"Cancelled: the faces written so far are in {self.folder.text()}"
        return sentence(ev.message) if ev.status == "ok" else f"Failed: {ev.message}"
