"""Undo and redo of what the viewer shows: the face, its mixing and its settings (GUI thread only)."""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, QTimer, Signal

from ..engine.contract.latents import Latent, RenderSettings

SETTLE_MS = 500   # a view held this long is a step: a slider drag or a travel is one step, not hundreds
MAX_STEPS = 200   # views kept to go back to (a few KB each; a W+ face is num_ws × w_dim floats)


@dataclass(frozen=True)
class View:
    """One view: the face, the face its layers `mix_layers` come from, and ψ / cutoff / noise / input transform."""

    latent: Latent
    settings: RenderSettings
    mix_with: Latent | None = None
    mix_layers: tuple[int, ...] = ()


def view_of(state) -> View:
    """The view an ExploreState shows now."""
    return View(state.latent, state.settings, state.mix_with, state.mix_layers)


class History(QObject):
    """Records a step once the view has settled; `undo` / `redo` give the view to show (the caller shows it)."""

    changed = Signal()   # what can be undone or redone changed (the Edit menu greys its actions)

    def __init__(self, state, settle_ms: int = SETTLE_MS) -> None:
        super().__init__()
        self.state = state
        self.past: list[View] = []     # the views gone through; the last one is the view on screen once settled
        self.future: list[View] = []   # views undone, newest last
        self._model = None
        self.timer = QTimer(self, singleShot=True, interval=settle_ms)
        self.timer.timeout.connect(self.record)
        state.changed.connect(self.timer.start)
        state.model_changed.connect(self._on_model)

    def record(self) -> None:
        """Keep the view on screen as a step (unless it is the last one); a new step forgets what was undone."""
        self.timer.stop()
        if self.state.model is None:
            return
        view = view_of(self.state)
        if self.past and self.past[-1] == view:
            return
        self.past = (self.past + [view])[-MAX_STEPS:]
        self.future.clear()
        self.changed.emit()

    def undo(self) -> View | None:
        """The view before the one on screen, or None at the start."""
        self.record()   # a change still settling is a step of its own: undo goes back from it
        if len(self.past) < 2:
            return None
        self.future.append(self.past.pop())
        self.changed.emit()
        return self.past[-1]

    def redo(self) -> View | None:
        """The view undone last, or None."""
        self.record()
        if not self.future:
            return None
        self.past.append(self.future.pop())
        self.changed.emit()
        return self.past[-1]

    def can_undo(self) -> bool:
        """Whether there is a view to go back to (one still settling counts: undo goes back from it)."""
        return len(self.past) > 1 or (bool(self.past) and view_of(self.state) != self.past[-1])

    def can_redo(self) -> bool:
        """Whether a view was undone (and nothing new has happened since)."""
        return bool(self.future)

    def _on_model(self, info) -> None:
        # Another model: its faces differ (and a w may not fit it), so the steps start again. A training run's live
        # G_ema refreshes with the same key and keeps them.
        key = (info.path, info.model_id, info.live, info.w_dim)
        if key != self._model:
            self._model = key
            self.past, self.future = [], []
            self.timer.start()
            self.changed.emit()
