"""Project Image: find the face in the model closest to an image file, with a live preview and Cancel."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QGridLayout, QLabel, QSpinBox, QVBoxLayout

from ...engine.contract.messages import ProjectImage
from ...engine.contract.projection import DEFAULT_SPACE, DEFAULT_STEPS, ProjectionOptions
from ..qtutil import to_pixmap
from .jobdialog import JobDialog

PREVIEW = 192  # px: the target and the reconstruction, enlarged
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff")
SPACE_TEXT = {"w+": "One style per layer (closer)", "w": "One style for all layers (mixes like a seed)"}


def is_image_path(path: str) -> bool:
    """True for a file name the window projects when it is dropped."""
    return path.lower().endswith(IMAGE_SUFFIXES)


class ProjectImageDialog(JobDialog):
    """Non-modal: the window stays usable while the engine optimises; `projected` carries ProjectionDone."""

    JOB_KIND = "project"
    projected = Signal(object)

    def __init__(self, bridge, state, parent=None) -> None:
        super().__init__(bridge, "Project Image", "Project", parent)
        self.state = state   # a class-conditional model projects within the class the Seeds pane shows
        self.path = ""
        self.space = QComboBox()
        for key, text in SPACE_TEXT.items():
            self.space.addItem(text, key)
        self.space.setCurrentIndex(self.space.findData(DEFAULT_SPACE))   # one default with the CLI's
        self.steps = QSpinBox(minimum=10, maximum=5000, value=DEFAULT_STEPS, singleStep=50)
        self.steps.setToolTip("More steps get closer; each takes a fraction of a second on a CPU")
        self.target_view, self.result_view = QLabel(), QLabel()
        for view in (self.target_view, self.result_view):
            view.setFixedSize(PREVIEW, PREVIEW)
            view.setAlignment(Qt.AlignmentFlag.AlignCenter)
            view.setStyleSheet("background: #2b2b2b")
        self._layout()
        bridge.projection_preview.connect(self.on_preview)
        bridge.projection_done.connect(self.on_done)

    def _layout(self) -> None:
        form = QFormLayout()
        form.addRow("Latent", self.space)
        form.addRow("Steps", self.steps)
        views = QGridLayout()
        views.addWidget(QLabel("Target"), 0, 0)
        views.addWidget(QLabel("Closest face so far"), 0, 1)
        views.addWidget(self.target_view, 1, 0)
        views.addWidget(self.result_view, 1, 1)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addLayout(views)
        self.add_job_rows(lay)

    def options(self) -> ProjectionOptions:
        """The options the form describes."""
        return ProjectionOptions(space=self.space.currentData(), steps=self.steps.value(), c=self.state.label_class)

    def start(self, path: str | None = None) -> None:
        """Project `path` (or the last file) with the form's options; one projection at a time."""
        if self.job_id:
            self.message.setText("A projection is running: cancel it first")
            return
        self.path = path or self.path
        if not self.path:
            return
        self.target_view.clear()
        self.result_view.clear()
        self.post_job(ProjectImage(self.path, self.options()), f"Starting {Path(self.path).name}…")

    def on_preview(self, ev) -> None:
        if ev.job_id == self.job_id:
            if self.target_view.pixmap().isNull():
                self.target_view.setPixmap(to_pixmap(ev.target, PREVIEW))
            self.result_view.setPixmap(to_pixmap(ev.image, PREVIEW))

    def on_done(self, ev) -> None:
        if ev.job_id == self.job_id:
            self.result_view.setPixmap(to_pixmap(ev.image, PREVIEW))
            self.projected.emit(ev)

    def outcome_text(self, ev) -> str:
        if ev.status == "ok":
            return f"{ev.message}. In the favourites (Seeds pane): drag it into the mixing grid."
        return super().outcome_text(ev)
