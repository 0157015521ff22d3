"""A stand-in for EngineBridge that records requests and commands (for pane tests)."""
import itertools

from PySide6.QtCore import QObject, Signal


class FakeBridge(QObject):
    """Same signals and methods as EngineBridge; nothing is rendered."""

    event_received = Signal(object)
    frame_ready = Signal(object)
    grid_chunk = Signal(object)
    mix_grid_ready = Signal(object)
    variation_ready = Signal(object)
    strip_ready = Signal(object)
    model_info = Signal(object)
    job_started = Signal(object)
    job_progress = Signal(object)
    job_finished = Signal(object)
    training_tick = Signal(object)
    training_fakes = Signal(object)
    training_snapshot = Signal(object)
    training_state = Signal(object)
    dataset_summary = Signal(object)
    saved = Signal(object)
    error = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.requests, self.commands = [], []
        self._stamps = itertools.count(1)

    def start(self) -> None:
        pass

    def close(self) -> None:
        pass

    def next_stamp(self) -> int:
        return next(self._stamps)

    def submit(self, request) -> None:
        self.requests.append(request)

    def post(self, command) -> None:
        self.commands.append(command)

    def last(self, kind):
        """The newest recorded request or command of a type."""
        return next((r for r in reversed(self.requests + self.commands) if isinstance(r, kind)), None)
