"""Measure FID: the open model against a folder or zip of real images, as a job with progress and Cancel."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (QDoubleSpinBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QListWidget, QPushButton, QSpinBox, QVBoxLayout)

from ...engine.contract.messages import MeasureFID
from .jobdialog import JobDialog


class MeasureFidDialog(JobDialog):
    """Non-modal; every result of the session stays listed, so models measured one after another compare."""

    JOB_KIND = "fid"

    def __init__(self, bridge, parent=None) -> None:
        super().__init__(bridge, "Measure FID", "Measure", parent)
        self.data = QLineEdit(placeholderText="folder or zip of real images, held out from training")
        self.count = QSpinBox(minimum=100, maximum=50_000, value=1000, singleStep=500)
        self.count.setToolTip("Generated samples: 1,000 takes minutes on a CPU; papers quote 50,000 (FID reads "
                              "higher with fewer samples, so compare figures of equal counts)")
        self.real = QSpinBox(minimum=100, maximum=50_000, value=5000, singleStep=1000)
        self.real.setToolTip("Real images used, at most (their features are cached: a second measurement "
                             "against the same images skips them)")
        self.psi = QDoubleSpinBox(minimum=0.0, maximum=2.0, value=1.0, singleStep=0.1, decimals=2)
        self.psi.setToolTip("Truncation of the samples (1: none, as FID is usually quoted)")
        self.results = QListWidget()
        self.results.setMinimumHeight(80)
        self.results.setWordWrap(True)  # a result line says what was measured: it must read whole
        self.setMinimumWidth(560)
        self._layout()
        bridge.metric_result.connect(self.on_result)

    def _layout(self) -> None:
        folder, zipped = QPushButton("Folder…"), QPushButton("Zip…")
        folder.clicked.connect(lambda: self._pick(QFileDialog.getExistingDirectory(self, "Real images")))
        zipped.clicked.connect(lambda: self._pick(QFileDialog.getOpenFileName(self, "Real images", "",
                                                                              "Zip (*.zip)")[0]))
        row = QHBoxLayout()
        for w in (self.data, folder, zipped):
            row.addWidget(w)
        form = QFormLayout()
        form.addRow("Real images", row)
        form.addRow("Samples", self.count)
        form.addRow("Real images used", self.real)
        form.addRow("ψ", self.psi)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(QLabel("Results (lower is closer to the real images)"))
        lay.addWidget(self.results)
        self.add_job_rows(lay)

    def _pick(self, path: str) -> None:
        if path:
            self.data.setText(path)

    def request(self) -> MeasureFID:
        """The measurement the form describes."""
        return MeasureFID(data=self.data.text().strip(), count=self.count.value(), real=self.real.value(),
                          psi=round(self.psi.value(), 2))

    def start(self) -> None:
        """Measure the open model; one measurement at a time."""
        if not self.data.text().strip():
            self.message.setText("Choose the real images to measure against")
            return
        self.post_job(self.request(), "Starting (the first measurement loads the Inception network)…")

    def on_result(self, ev) -> None:
        """List the measurement with what it was measured on."""
        self.results.addItem(f"{ev.model}: FID {ev.value:.2f} · {ev.n_fake:,} samples at ψ {ev.psi:g} against "
                             f"{ev.n_real:,} images of {Path(ev.data).name} · {_duration(ev.seconds)}"
                             + (f" — note: {ev.note}" if ev.note else ""))
        self.results.scrollToBottom()


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"
