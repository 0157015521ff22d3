"""Make Faces: a training set of procedural cartoon faces (as the bundled model's), built as a job."""
from __future__ import annotations

import os

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QLineEdit, QPushButton, QSpinBox,
                               QVBoxLayout)

from ...engine.contract.errors import UserError
from ...engine.contract.messages import AVATAR_RESOLUTIONS, MAX_AVATARS, MakeAvatars
from .jobdialog import JobDialog
from ..qtutil import absolute


class MakeAvatarsDialog(JobDialog):
    """Non-modal; `made` carries the zip's path once it is written, for the Training pane to train on."""

    JOB_KIND = "avatars"
    made = Signal(str)

    def __init__(self, bridge, resolution: int = 64, parent=None) -> None:
        super().__init__(bridge, "Make Faces", "Make", parent)
        self.count = QSpinBox(minimum=1, maximum=MAX_AVATARS, value=10_000, singleStep=1000)
        self.count.setGroupSeparatorShown(True)
        self.count.setToolTip("About 5 ms per 64² face per core (100,000 took 241 s on 2 cores); the bundled model "
                              "trained on 100,000")
        self.resolution = QComboBox()
        self.resolution.addItems([str(r) for r in AVATAR_RESOLUTIONS if r >= 16])
        self.resolution.setCurrentText(str(resolution))
        self.seed = QSpinBox(minimum=0, maximum=2**31 - 1, value=0)
        self.seed.setToolTip("Face i is drawn from seed + i: another first seed gives other faces (e.g. held-out "
                             "ones for Measure FID; the bundled model's held-out faces start at 1,000,000)")
        self.path = QLineEdit()
        self._named = ""         # the name last given from count and size: any other name is the user's, kept
        self.count.valueChanged.connect(self._default_path)
        self.resolution.currentTextChanged.connect(self._default_path)
        self._default_path()
        self.setMinimumWidth(520)
        self._layout()

    def _layout(self) -> None:
        browse = QPushButton("…")
        browse.clicked.connect(self.browse)
        out = QHBoxLayout()
        out.addWidget(self.path)
        out.addWidget(browse)
        form = QFormLayout()
        form.addRow("Faces", self.count)
        form.addRow("Size (px)", self.resolution)
        form.addRow("First seed", self.seed)
        form.addRow("File", out)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        self.add_job_rows(lay)

    def _default_path(self, *_) -> None:
        """A name that says what the zip holds, until the user picks one."""
        if self.path.text() != self._named:
            return
        count = self.count.value()
        size = f"{count // 1000}k" if count % 1000 == 0 else str(count)
        self._named = os.path.join(os.path.expanduser("~"), "stylegan-data",
                                   f"avatars{self.resolution.currentText()}-{size}.zip")
        self.path.setText(self._named)

    def browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Faces zip", self.path.text(), "Zip (*.zip)")
        if path:
            self.path.setText(path if path.lower().endswith(".zip") else path + ".zip")

    def request(self) -> MakeAvatars:
        """The command the form describes (UserError for impossible settings)."""
        path = absolute(self.path.text())
        if not path.lower().endswith(".zip"):
            raise UserError("the faces are written as a .zip: give the file a .zip name")
        return MakeAvatars(path, self.count.value(), int(self.resolution.currentText()), self.seed.value())

    def start(self) -> None:
        """Validate and post the job."""
        request = self.valid(self.request)
        if request is not None:
            self.post_job(request, "Starting the workers…")

    def on_finished(self, ev) -> None:
        mine = bool(self.job_id) and ev.job_id == self.job_id
        super().on_finished(ev)
        if mine and ev.status == "ok":
            self.made.emit(ev.path)
