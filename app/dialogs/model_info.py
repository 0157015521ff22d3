"""Model Info: what the open model is (the `info` command's text) and its model card, when one lies beside it."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTabWidget, QTextBrowser, QVBoxLayout

from ...engine.contract.messages import DescribeModel


class ModelInfoDialog(QDialog):
    """Non-modal; follows the open model (asks the engine again whenever the model changes while it is shown)."""

    def __init__(self, bridge, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Model Info")
        self.bridge = bridge
        self.asked = 0   # the latest DescribeModel's number: an older answer is not shown
        self.live = False  # renders use a training run's G_ema: its refreshes are the same model, not asked again
        self.summary = QTextBrowser()
        self.summary.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.summary.setLineWrapMode(QTextBrowser.LineWrapMode.NoWrap)
        self.card = QTextBrowser()
        self.card.setOpenLinks(False)  # a card is read here, never followed to other files
        self.tabs = QTabWidget()
        self.tabs.addTab(self.card, "Model card")
        self.tabs.addTab(self.summary, "Details")
        self.note = QLabel("Asking the engine…", wordWrap=True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        lay = QVBoxLayout(self)
        lay.addWidget(self.note)
        lay.addWidget(self.tabs, 1)
        lay.addWidget(buttons)
        self.resize(760, 620)
        bridge.model_description.connect(self.on_description)
        bridge.model_info.connect(self.on_model)

    def on_model(self, info) -> None:
        """Another model (or the live G_ema of a run, once): describe it while the dialog is shown."""
        if self.isVisible() and not (info.live and self.live):
            self.request()
        self.live = info.live

    def request(self) -> None:
        """Ask the engine to describe the model renders use now."""
        self.asked += 1
        self.bridge.post(DescribeModel(self.asked))

    def on_description(self, ev) -> None:
        """Show the details and the card (or say that the model has none)."""
        if ev.request != self.asked:
            return
        self.summary.setPlainText("\n".join(ev.lines))
        name = next((line.split(None, 1)[1] for line in ev.lines if line.startswith("name ")), "the model")
        if ev.card:
            self.card.document().setMetaInformation(self.card.document().MetaInformation.DocumentUrl,
                                                    Path(ev.card_path).parent.as_uri() + "/")
            self.card.setMarkdown(ev.card)
            self.note.setText(f"{name}: its model card ({Path(ev.card_path).name}) and details.")
        else:
            self.card.setMarkdown("*No model card lies beside this model's file* (a card is a Markdown file of the "
                                  "same name, e.g. `faces.md` beside `faces.safetensors`: how and on what the model "
                                  "was trained, and how good it is).")
            self.note.setText(f"{name}: no model card; Details lists what is recorded of it.")
        self.tabs.setCurrentWidget(self.card if ev.card else self.summary)
