"""Every dock pane declared once: the window builds its docks, the View menu and the shortcut help from PANES."""
from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class PaneEntry:
    """A pane class (built as cls(bridge, state)), its dock title and area, its View shortcut, a dock to tab with."""

    cls: type
    title: str
    area: Qt.DockWidgetArea
    shortcut: str
    tab_with: str = ""


PANES = (
    PaneEntry(SeedsPane, "Seeds", Area.LeftDockWidgetArea, "Ctrl+1"),
    PaneEntry(MixingPane, "Style Mixing", Area.BottomDockWidgetArea, "Ctrl+2"),
    PaneEntry(NoisePane, "Noise", Area.RightDockWidgetArea, "Ctrl+3"),
    PaneEntry(TruncationPane, "Truncation", Area.RightDockWidgetArea, "Ctrl+4", tab_with="Noise"),
    PaneEntry(TrainingPane, "Training", Area.BottomDockWidgetArea, "Ctrl+5", tab_with="Style Mixing"),
    PaneEntry(DirectionsPane, "Directions", Area.RightDockWidgetArea, "Ctrl+6", tab_with="Noise"),
    PaneEntry(InterpolationPane, "Interpolation", Area.RightDockWidgetArea, "Ctrl+7", tab_with="Noise"),
    PaneEntry(LayersPane, "Layers", Area.RightDockWidgetArea, "Ctrl+8", tab_with="Noise"),
)
