"""JobDialog: the one non-modal dialog shape for a long engine job (progress, outcome line, Start and Cancel/Close)."""
from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QProgressBar

from ...engine.contract.errors import StudioError
from ...engine.contract.messages import CancelJob
from ..qtutil import sentence


class JobDialog(QDialog):
    """Follows one kind of job; a subclass lays out its form and defines start(), which calls post_job."""

    JOB_KIND = ""  # the JobStarted kind this dialog follows ("video", "project", ...)

    def __init__(self, bridge, title: str, start_text: str, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.bridge, self.job_id = bridge, 0
        self.progress = QProgressBar()
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.buttons = QDialogButtonBox()
        self.start_btn = self.buttons.addButton(start_text, QDialogButtonBox.ButtonRole.AcceptRole)
        # "Cancel" only while a job runs; otherwise there is nothing to cancel and the button closes
        self.cancel_btn = self.buttons.addButton("Close", QDialogButtonBox.ButtonRole.RejectRole)
        self.start_btn.clicked.connect(lambda: self.start())  # the lambda drops `checked`, which start must not get
        self.cancel_btn.clicked.connect(self.cancel)
        bridge.job_started.connect(self.on_started)
        bridge.job_progress.connect(self.on_progress)
        bridge.job_finished.connect(self.on_finished)

    def add_job_rows(self, layout) -> None:
        """Put the progress bar, the message line and the buttons at the bottom of `layout`."""
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

    def valid(self, build):
        """What `build()` returns, or None with its error (bad input in the form) said on the message line."""
        try:
            return build()
        except StudioError as exc:
            self.message.setText(sentence(str(exc)))
            return None

    def post_job(self, request, text: str) -> None:
        """Reset the progress, say `text` and post `request`; Start stays off until the job finishes."""
        self.progress.setValue(0)
        self.message.setText(text)
        self.start_btn.setEnabled(False)
        self.bridge.post(request)

    def cancel(self) -> None:
        """Cancel the running job, or close the dialog."""
        if self.job_id:
            self.bridge.post(CancelJob(self.job_id))
        else:
            self.reject()

    def on_started(self, ev) -> None:
        if ev.kind == self.JOB_KIND:
            self.job_id = ev.job_id
            self.cancel_btn.setText("Cancel")

    def on_progress(self, ev) -> None:
        if ev.job_id == self.job_id and ev.total:
            self.progress.setValue(int(100 * ev.done / ev.total))
            self.message.setText(self.progress_text(ev))

    def on_finished(self, ev) -> None:
        if ev.job_id != self.job_id:
            return
        self.job_id = 0
        self.start_btn.setEnabled(True)
        self.cancel_btn.setText("Close")
        if ev.status == "ok":
            self.progress.setValue(100)
        self.message.setText(self.outcome_text(ev))

    def progress_text(self, ev) -> str:
        """The message line while the job runs."""
        return ev.message

    def outcome_text(self, ev) -> str:
        """The message line once the job ended with ev.status "ok", "cancelled" or "failed"."""
        return sentence(ev.message)
