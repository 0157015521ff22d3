"""A layer-range control: Coarse / Middle / Fine / All presets and one toggle per layer (custom)."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QGridLayout, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QToolButton,
                               QVBoxLayout, QWidget)

from ...engine.contract.latents import layer_ranges

PRESETS = ("coarse", "middle", "fine", "all")


def _small(text: str) -> QLabel:
    label = QLabel(text, alignment=Qt.AlignmentFlag.AlignCenter)
    label.setStyleSheet("font-size: 9px; color: #777;")
    return label


class LayerPicker(QWidget):
    """Emits `changed` with the sorted chosen layers whenever a preset or a toggle changes them."""

    changed = Signal(tuple)

    def __init__(self, presets: tuple[str, ...] = PRESETS, beside: bool = False) -> None:
        """`beside`: presets and toggles in one row (a wide bottom dock); else presets above the toggles."""
        super().__init__()
        self.resolutions: tuple[int, ...] = ()
        self.layers: set[int] = set()
        self.toggles: list[QCheckBox] = []
        self.buttons: dict[str, QPushButton | QToolButton] = {}
        self.box = QGridLayout()
        self.box.setSpacing(0)
        self.box.setHorizontalSpacing(2)
        if beside:  # one row leaves the most height to what the pane shows below
            row = toggles = QHBoxLayout(self)
        else:       # presets above the toggles: fits a narrow side dock
            outer = QVBoxLayout(self)
            row, toggles = QHBoxLayout(), QHBoxLayout()
            outer.addLayout(row)
            outer.addLayout(toggles)
        self.layout().setContentsMargins(0, 0, 0, 0)
        for name in presets:
            b = self.buttons[name] = self._preset_button(name, beside)
            b.clicked.connect(lambda _=False, n=name: self.preset(n))
            row.addWidget(b)
        if beside:
            row.addSpacing(8)
        toggles.addLayout(self.box)
        toggles.addStretch(1)

    @staticmethod
    def _preset_button(name: str, beside: bool) -> QPushButton | QToolButton:
        if beside:  # push buttons, like the row's other buttons
            b = QPushButton(name.capitalize())
        else:       # tool buttons are narrower than push buttons: fit a side dock
            b = QToolButton(text=name.capitalize())
            b.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        b.setToolTip(f"choose the {name} layers" if name != "all" else "choose every layer")
        return b

    def set_model(self, resolutions: tuple[int, ...], labels: tuple[str, ...], layers: tuple[int, ...] = ()) -> None:
        """One toggle per layer (ws) of the model, its size over each run of equal sizes, the full label as the
        toggle's tooltip; `layers` chosen (default: all)."""
        while self.box.count():
            self.box.takeAt(0).widget().deleteLater()
        self.resolutions, self.toggles = tuple(resolutions), []
        # A label's last word is its size ("8²"; v3's "L3 52²" → "52²"): one header per run, so 16 v3 layers fit.
        sizes = [label.split()[-1] if label.strip() else label for label in labels]
        for i, res in enumerate(resolutions):
            if i == 0 or sizes[i] != sizes[i - 1]:
                span = next((j for j in range(i + 1, len(sizes)) if sizes[j] != sizes[i]), len(sizes)) - i
                self.box.addWidget(_small(sizes[i]), 0, i, 1, span)
            t = QCheckBox()
            t.setToolTip(f"layer {i} ({labels[i]})")
            t.toggled.connect(lambda on, i=i: self.toggle(i, on))
            self.box.addWidget(t, 1, i, alignment=Qt.AlignmentFlag.AlignCenter)
            self.box.addWidget(_small(str(i)), 2, i)
            self.toggles.append(t)
        ranges = layer_ranges(resolutions)
        for name, b in self.buttons.items():  # a range the model has no layer in (e.g. coarse of a 32² model) greys out
            b.setEnabled(name == "all" or bool(ranges[name]))
        self.set_layers(layers or tuple(range(len(resolutions))), emit=False)

    def chosen(self) -> tuple[int, ...]:
        """The chosen layers, sorted."""
        return tuple(sorted(self.layers))

    def set_layers(self, layers, emit: bool = True) -> None:
        """Choose exactly `layers` (those the model has)."""
        self.layers = {i for i in layers if i < len(self.toggles)}
        for i, t in enumerate(self.toggles):
            t.blockSignals(True)
            t.setChecked(i in self.layers)
            t.blockSignals(False)
        if emit:
            self.changed.emit(self.chosen())

    def preset(self, name: str) -> None:
        """The paper's coarse / middle / fine layers, or all of them."""
        if not self.toggles:
            return
        self.set_layers(range(len(self.toggles)) if name == "all" else layer_ranges(self.resolutions)[name])

    def toggle(self, layer: int, on: bool) -> None:
        """One layer on or off (a custom range)."""
        (self.layers.add if on else self.layers.discard)(layer)
        self.changed.emit(self.chosen())
