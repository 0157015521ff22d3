"""Export Video: choose a kind, seeds and format; the engine renders it as a cancellable job."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QPushButton, QSpinBox, QVBoxLayout)

from ...engine.contract.messages import ExportVideo
from ...engine.contract.latents import SpecError, parse_layers, parse_seeds
from ...engine.contract.video import KINDS, VideoSpec, check_format, reads
from .jobdialog import JobDialog
from ..qtutil import absolute

KIND_TEXT = {"walk": "Latent walk", "truncation": "Truncation sweep", "noise": "Noise (stochastic variation)",
             "morph": "Style morph (chosen layers A → B)", "grid": "Grid of walks",
             "direction": "Direction sweep (the Directions pane's last slider, ±3σ)"}


class ExportVideoDialog(JobDialog):
    """Non-modal: the window stays usable while the video renders; progress and Cancel here."""

    JOB_KIND = "video"

    def __init__(self, bridge, state, parent=None, favourites=tuple) -> None:
        super().__init__(bridge, "Export Video", "Export", parent)
        self.state = state
        self.favourites = favourites   # () → the Seeds pane's favourites, in order
        self.kind = QComboBox()
        for k in KINDS:
            self.kind.addItem(KIND_TEXT[k], k)
        seed = state.seed() if state.seed() is not None else 0
        self.seeds = QLineEdit(f"{seed}, {seed + 1}, {seed + 2}")
        self.space = QComboBox()
        self.space.addItems(["w", "z"])
        self.frames = QSpinBox(minimum=2, maximum=1000, value=30)
        self.fps = QSpinBox(minimum=1, maximum=120, value=30)
        self.size = QSpinBox(minimum=0, maximum=2048, value=256, specialValueText="native")
        self.layers = QLineEdit("coarse")
        self.loop = QCheckBox("Loop back to the start", checked=True)
        self.travelled = QCheckBox("Along the path travelled in the viewer (a walk; frames per step: per seed)")
        self.travelled.setToolTip("Drag the image with Shift held (or in Seed → Travel Mode) to travel")
        self.through_favs = QCheckBox("Through the favourites (Seeds pane), in their order, instead of the seeds")
        self.through_favs.setToolTip("Any kept face: seeds, projected images, faces edited in Directions")
        for one, other in ((self.travelled, self.through_favs), (self.through_favs, self.travelled)):
            one.toggled.connect(lambda on, other=other: on and other.setChecked(False))   # one source at a time
        self.path = QLineEdit(str(Path.cwd() / "video.mp4"))   # a full path: where it goes is on screen
        browse = QPushButton("…")
        browse.clicked.connect(self.browse)
        self.settings_line = QLabel(wordWrap=True)
        state.changed.connect(self._show_settings)
        self._show_settings()
        self._layout(browse)
        self.kind.currentIndexChanged.connect(self._show_used)
        self.travelled.toggled.connect(self._show_used)
        self.through_favs.toggled.connect(self._show_used)
        self._show_used()

    def _show_settings(self) -> None:
        """ψ, cutoff, noise and input transform every frame is rendered at: the viewer's."""
        self.settings_line.setText(f"{self.state.describe_settings()}  (the viewer's; a noise video animates its "
                                   "own)")

    def _show_used(self, *_) -> None:
        """Grey out what the chosen kind does not read (a walk along the travelled path: its seeds and space too)."""
        kind = self.kind.currentData()
        along_path = reads(kind, "path") and self.travelled.isChecked()
        through = reads(kind, "latents") and self.through_favs.isChecked()
        self.travelled.setEnabled(reads(kind, "path"))
        self.through_favs.setEnabled(reads(kind, "latents"))
        self.seeds.setEnabled(not (along_path or through))
        # a path blends in its own space, a walk through faces in W
        self.space.setEnabled(reads(kind, "space") and not (along_path or through))
        self.layers.setEnabled(kind == "morph")   # a direction's layers are the Directions pane's
        self.loop.setEnabled(reads(kind, "loop"))

    def _layout(self, browse) -> None:
        out = QHBoxLayout()
        out.addWidget(self.path)
        out.addWidget(browse)
        form = QFormLayout()
        for label, w in (("Kind", self.kind), ("Seeds", self.seeds), ("Interpolate in", self.space),
                         ("Frames per step", self.frames), ("Frames per second", self.fps),
                         ("Size (px)", self.size), ("Morph layers", self.layers), ("", self.loop), ("", self.travelled),
                         ("", self.through_favs), ("Rendered at", self.settings_line), ("File", out)):
            form.addRow(label, w)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        self.add_job_rows(lay)

    def browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Video file", self.path.text(),
                                              "Video (*.mp4 *.webm *.gif *.webp)")
        if path:
            self.path.setText(path)

    def spec(self) -> VideoSpec:
        """The VideoSpec the form describes (raises SpecError on bad input)."""
        ws_res = self.state.model.layer_resolutions if self.state.model else ()
        s = self.state.settings
        spec = VideoSpec(**self._direction(), kind=self.kind.currentData(), seeds=parse_seeds(self.seeds.text()),
                         space=self.space.currentText(), frames_per_step=self.frames.value(), fps=self.fps.value(),
                         size=self.size.value() or None, psi=s.psi, cutoff=s.cutoff,
                         layers=parse_layers(self.layers.text(), ws_res) if self.layers.isEnabled() and
                         self.layers.text().strip() else (),
                         loop=self.loop.isChecked(), c=self.state.label_class, translate=s.translate,
                         rotate=s.rotate, noise=s.noise)
        if self.travelled.isChecked() and reads(spec.kind, "path"):
            if len(self.state.travel_path) < 2:
                raise SpecError("no path travelled yet: drag the image with Shift held (or in travel mode)")
            return replace(spec, kind="walk", path=tuple(self.state.travel_path), space=self.state.travel_space)
        if self.through_favs.isChecked() and reads(spec.kind, "latents"):
            faces = tuple(self.favourites())
            if len(faces) < 2:
                raise SpecError(f"Keep two or more favourites first (Seeds pane: Keep current); there are {len(faces)}")
            return replace(spec, latents=faces, space="w")
        return replace(spec, layers=self.state.direction.layers) if spec.kind == "direction" else spec

    def _spec_for(self, path: str) -> VideoSpec:
        """The form's VideoSpec, for a file whose format is one a video can have."""
        spec = self.spec()
        check_format(path)
        return spec

    def _direction(self) -> dict:
        """A direction sweep's fields from the Directions pane's current direction (its layers, not Morph's)."""
        d = self.state.direction
        if self.kind.currentData() != "direction":
            return {}
        if d is None:
            raise SpecError("move a slider in the Directions pane first: the video sweeps that direction")
        return {"direction": d.vector, "sigma": d.sigma, "direction_name": d.name}

    def start(self) -> None:
        """Validate and post the export job."""
        path = absolute(self.path.text())
        spec = self.valid(lambda: self._spec_for(path))
        if spec is not None:
            self.post_job(ExportVideo(path, spec), "Starting…")

    def progress_text(self, ev) -> str:
        return f"{ev.done:g} / {ev.total:g} frames"

    def outcome_text(self, ev) -> str:
        return {"ok": f"Saved {ev.path or self.path.text()}", "cancelled": "Cancelled: no file written"}.get(
            ev.status, f"Failed: {ev.message}")
