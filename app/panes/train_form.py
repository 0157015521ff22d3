"""The Training pane's settings form, built from TrainConfig's declared options (one place for both)."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QGridLayout, QHBoxLayout, QLabel,
                               QLineEdit, QPushButton, QSpinBox, QWidget)

from ...engine.contract.errors import UserError
from ...engine.contract.messages import TrainConfig
from ...engine.contract.training import GROWING_OPTIONS, MODEL_OPTIONS, choice_label, option_kind, options

BASIC = ("architecture", "resolution", "total_kimg", "batch", "gamma", "augment", "augment_p", "mapping_layers", "growing",
         "mirror")


class TrainForm(QWidget):
    """One widget per user-settable TrainConfig field; `config(data)` reads them back."""

    changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.fields = {f.name: f for f in options() if f.metadata["ui"]}
        self.widgets = {name: _widget(f) for name, f in self.fields.items()}
        self.pickers: dict[str, QPushButton] = {}  # option name → its file-picker button
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        names = [n for n in BASIC if n in self.widgets] + [n for n in self.widgets if n not in BASIC]
        picks = [n for n in names if self.fields[n].metadata["pick"]]  # a file path: a whole row, first
        # One setting per row: two columns were clipped at the right edge in a bottom dock (seen under Xvfb).
        for row, name in enumerate(picks + [n for n in names if n not in picks]):
            self._place(grid, name, row, 0, 1)
        grid.setColumnStretch(1, 1)
        for name in ("init", "architecture"):
            if name in self.widgets:
                changed_signal(self.widgets[name]).connect(self._show_used_options)
        self.set_config(TrainConfig())

    def _place(self, grid: QGridLayout, name: str, row: int, col: int, span: int) -> None:
        """One setting at (row, col): a check box, or a label and its widget spanning `span` columns."""
        w = self.widgets[name]
        w.setToolTip(self.fields[name].metadata["help"])
        if isinstance(w, QCheckBox):
            grid.addWidget(w, row, col, 1, span + 1)
        else:
            grid.addWidget(QLabel(self.fields[name].metadata["label"]), row, col)
            grid.addWidget(self._with_picker(name, w), row, col + 1, 1, span)
        changed_signal(w).connect(self.changed)

    def _with_picker(self, name: str, edit: QWidget) -> QWidget:
        """`edit` with a file-picker button beside it when the option declares one."""
        if not self.fields[name].metadata.get("pick"):
            return edit
        text, file_filter = self.fields[name].metadata["pick"]
        button = QPushButton(text)
        button.clicked.connect(lambda: self._pick_file(edit, text.rstrip("…"), file_filter))
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(button)  # first: the path beside it may run past a narrow pane's edge
        row.addWidget(edit, 1)
        self.pickers[name] = button
        return box

    def _pick_file(self, edit: QLineEdit, title: str, file_filter: str) -> None:
        path = QFileDialog.getOpenFileName(self, title, "", file_filter)[0]
        if path:
            edit.setText(path)

    def _show_used_options(self, *_) -> None:
        """Grey out the settings a run will not use: those a model it starts from decides, growing for StyleGAN2."""
        from_model = "init" in self.widgets and bool(self.widgets["init"].text().strip())
        no_growing = "architecture" in self.widgets and self.widgets["architecture"].currentData() != "stylegan1"
        for name, w in self.widgets.items():
            w.setEnabled(not ((from_model and name in MODEL_OPTIONS) or (no_growing and name in GROWING_OPTIONS)))

    def set_config(self, cfg: TrainConfig) -> None:
        """Show the settings of `cfg`."""
        for name, w in self.widgets.items():
            _set(w, getattr(cfg, name))

    def values(self) -> dict:
        """The settings as TrainConfig keyword arguments."""
        return {name: _get(w, self.fields[name]) for name, w in self.widgets.items()}

    def config(self, data: str) -> TrainConfig:
        """A TrainConfig with the form's settings (raises UserError for impossible ones)."""
        return TrainConfig(data=data, **self.values())


class TrimmedSpinBox(QDoubleSpinBox):
    """A number box that shows 20, not 20.0000: four decimals are kept for a learning rate's sake."""

    def textFromValue(self, value: float) -> str:  # noqa: N802
        text = self.locale().toString(value, "f", self.decimals())
        if not self.isGroupSeparatorShown():  # as QDoubleSpinBox's own: 1000, not 1,000
            text = text.replace(self.locale().groupSeparator(), "")
        point = self.locale().decimalPoint()
        return text.rstrip("0").rstrip(point) if point in text else text


def _widget(f) -> QWidget:
    kind = option_kind(f)
    if kind == "bool":
        return QCheckBox(f.metadata["label"])
    if kind == "choice":
        box = QComboBox()
        for c in f.metadata["choices"]:
            box.addItem(choice_label(f, c), c)   # the words shown, the value kept
        return box
    if kind in ("int", "float"):
        box = QSpinBox(maximum=1_000_000) if kind == "int" else TrimmedSpinBox(maximum=1_000_000, decimals=4)
        box.setMinimum(0)
        box.setSpecialValueText(f.metadata["zero"])  # shown at the minimum, 0: "per resolution", not "0"
        return box
    return QLineEdit(placeholderText="auto" if kind == "auto-float" else "none")


def changed_signal(w: QWidget):
    """The signal a settings widget emits when its value changes."""
    if isinstance(w, QCheckBox):
        return w.toggled
    if isinstance(w, QComboBox):
        return w.currentTextChanged
    if isinstance(w, QLineEdit):
        return w.textChanged
    return w.valueChanged


def _set(w: QWidget, value) -> None:
    if isinstance(w, QCheckBox):
        w.setChecked(bool(value))
    elif isinstance(w, QComboBox):
        if w.findData(value) >= 0:   # a value the form does not offer leaves the choice as it was
            w.setCurrentIndex(w.findData(value))
    elif isinstance(w, QLineEdit):
        w.setText("auto" if value is None else str(value))
    else:
        w.setValue(value)


def _get(w: QWidget, f):
    kind = option_kind(f)
    if kind == "bool":
        return w.isChecked()
    if kind == "choice":
        return w.currentData()
    if kind in ("int", "float"):
        return w.value()
    text = w.text().strip()
    if kind == "auto-float":
        return None if text in ("", "auto") else _number(text, f.metadata["label"])
    return text


def _number(text: str, label: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise UserError(f"{label}: expected a number or auto, got {text!r}") from None
