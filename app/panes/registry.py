"""Every dock pane declared once: the window builds its docks, the View menu and the shortcut help from PANES."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from PySide6.QtCore import Qt

from .directions import DirectionsPane
from .interpolation import InterpolationPane
from .layers import LayersPane
from .mixing import MixingPane
from .noise import NoisePane
from .seeds import SeedsPane
from .training import TrainingPane
from .truncation import TruncationPane

Area = Qt.DockWidgetArea


class Pane(StrEnum):
    """The key the window and the tests find a pane and its dock by (a title is words for people and may change)."""

    SEEDS = "seeds"
    MIXING = "mixing"
    NOISE = "noise"
    TRUNCATION = "truncation"
    TRAINING = "training"
    DIRECTIONS = "directions"
    INTERPOLATION = "interpolation"
    LAYERS = "layers"


@dataclass(frozen=True)
class PaneEntry:
    """A pane's key, class (built as cls(bridge, state)), dock title and area, View shortcut, a dock to tab with."""

    key: Pane
    cls: type
    title: str
    area: Qt.DockWidgetArea
    shortcut: str
    tab_with: Pane | None = None


PANES = (
    PaneEntry(Pane.SEEDS, SeedsPane, "Seeds", Area.LeftDockWidgetArea, "Ctrl+1"),
    PaneEntry(Pane.MIXING, MixingPane, "Style Mixing", Area.BottomDockWidgetArea, "Ctrl+2"),
    PaneEntry(Pane.NOISE, NoisePane, "Noise", Area.RightDockWidgetArea, "Ctrl+3"),
    PaneEntry(Pane.TRUNCATION, TruncationPane, "Truncation", Area.RightDockWidgetArea, "Ctrl+4", Pane.NOISE),
    PaneEntry(Pane.TRAINING, TrainingPane, "Training", Area.BottomDockWidgetArea, "Ctrl+5", Pane.MIXING),
    PaneEntry(Pane.DIRECTIONS, DirectionsPane, "Directions", Area.RightDockWidgetArea, "Ctrl+6", Pane.NOISE),
    PaneEntry(Pane.INTERPOLATION, InterpolationPane, "Interpolation", Area.RightDockWidgetArea, "Ctrl+7", Pane.NOISE),
    PaneEntry(Pane.LAYERS, LayersPane, "Layers", Area.RightDockWidgetArea, "Ctrl+8", Pane.NOISE),
)
