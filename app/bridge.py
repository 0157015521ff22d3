"""The one module that crosses from the Qt app into the torch engine.

EngineBridge owns an Engine and re-emits its events as Qt signals on the GUI thread: the engine
calls back on its own thread, the bridge forwards through a queued connection, and on the GUI
thread emits `event_received` plus one typed signal per event kind; render results (any
RenderResult) go to the signal of their target, `results(target)`, and to `render_result`.
"""
from __future__ import annotations

import itertools
import threading

from PySide6.QtCore import QObject, Qt, Signal, Slot

from ..engine.contract import messages as m
from ..engine.files.bundled import bundled_model_path  # pathlib only: no torch


def run_cli(argv: list[str]) -> int:
    """Run a headless CLI command in the engine."""
    from ..engine.cli.main import main as cli_main  # deliberate: torch loads only when a command runs
    return cli_main(argv)


# Event type → name of the typed signal that carries it (render results go by target instead).
TYPED_SIGNALS = {
    m.ModelInfo: "model_info", m.JobStarted: "job_started", m.JobProgress: "job_progress", m.JobFinished: "job_finished",
    m.TrainingTick: "training_tick", m.TrainingMetric: "training_metric", m.TrainingFakes: "training_fakes",
    m.TrainingSnapshot: "training_snapshot",
    m.TrainingState: "training_state", m.DatasetSummary: "dataset_summary", m.Saved: "saved",
    m.ErrorEvent: "error", m.DirectionsReady: "directions_ready", m.ProjectionPreview: "projection_preview",
    m.ProjectionDone: "projection_done", m.MetricResult: "metric_result", m.ModelDescription: "model_description",
    m.ImageRecord: "image_record", m.FaceLatent: "face_latent",
}


class _TargetResults(QObject):
    """The results of one render target."""

    ready = Signal(object)


class EngineBridge(QObject):
    """Qt face of the engine: submit/post from the GUI, receive events as signals on the GUI thread."""

    event_received = Signal(object)
    render_result = Signal(object)   # every fresh RenderResult, whatever its target
    model_info = Signal(object)
    job_started = Signal(object)
    job_progress = Signal(object)
    job_finished = Signal(object)
    training_tick = Signal(object)
    training_metric = Signal(object)
    training_fakes = Signal(object)
    training_snapshot = Signal(object)
    training_state = Signal(object)
    dataset_summary = Signal(object)
    model_description = Signal(object)
    image_record = Signal(object)
    face_latent = Signal(object)
    saved = Signal(object)
    projection_preview = Signal(object)
    projection_done = Signal(object)
    directions_ready = Signal(object)
    metric_result = Signal(object)
    error = Signal(object)
    _arrived = Signal(object)  # engine thread → GUI thread

    def __init__(self, parent: QObject | None = None, model_path: str | None = None, load_bundled: bool = True,
                 threads: int | None = None) -> None:
        super().__init__(parent)
        from ..engine.thread.engine import Engine  # deliberate: torch loads here, once, on the GUI thread (1.5 s)
        self._engine = Engine(self._from_engine, threads=threads)
        self._model_path, self._load_bundled = model_path, load_bundled
        self._stamp = itertools.count(1)
        self._stamp_lock = threading.Lock()
        self._submitted: dict[str, int] = {}   # newest stamp submitted per target
        self._delivered: dict[str, int] = {}   # newest stamp delivered per target
        self._targets: dict[str, _TargetResults] = {}
        self._closed = False
        self._arrived.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    # ---------------------------------------------------------------- API for the GUI
    def start(self) -> None:
        """Start the engine thread and open the initial model (the given file, else the bundled one)."""
        self._engine.start()
        path = self._model_path
        if path is None and self._load_bundled:
            bundled = bundled_model_path()
            path = str(bundled) if bundled else None
        if path:
            self.post(m.LoadModel(path))

    def next_stamp(self) -> int:
        """A new, strictly increasing stamp for a render request."""
        with self._stamp_lock:
            return next(self._stamp)

    def submit(self, request: m.RenderRequest) -> None:
        """Send a render request (latest wins per target)."""
        self._submitted[request.target] = max(request.stamp, self._submitted.get(request.target, request.stamp))
        self._engine.submit(request)

    def post(self, command: m.Command) -> None:
        """Send a command (FIFO, never dropped)."""
        self._engine.post(command)

    def close(self) -> None:
        """Stop the engine (returns within about a second); later events are not delivered."""
        self._closed = True
        self._engine.close()

    @property
    def engine_thread(self) -> threading.Thread:
        """The engine's thread (for tests and diagnostics)."""
        return self._engine.thread

    # ---------------------------------------------------------------- delivery
    def _from_engine(self, event: m.Event) -> None:
        """Called on the engine thread: queue the event to the GUI thread."""
        if not self._closed:
            self._arrived.emit(event)

    def results(self, target: str):
        """The signal carrying each fresh render result for `target` (created on first use)."""
        if target not in self._targets:
            self._targets[target] = _TargetResults(self)
        return self._targets[target].ready

    def is_stale(self, event: m.Event) -> bool:
        """True for a render result older than one already shown, or one of a replaced request that says so."""
        if not isinstance(event, m.RenderResult):
            return False
        if event.dropped_when_replaced and event.stamp < self._submitted.get(event.target, event.stamp):
            return True
        return event.stamp < self._delivered.get(event.target, event.stamp)

    @Slot(object)
    def _deliver(self, event: m.Event) -> None:
        """On the GUI thread: drop stale results, then emit event_received and the typed or target signal."""
        if self._closed or self.is_stale(event):
            return
        self.event_received.emit(event)
        if isinstance(event, m.RenderResult):
            self._delivered[event.target] = event.stamp
            self.render_result.emit(event)
            self.results(event.target).emit(event)
            return
        name = TYPED_SIGNALS.get(type(event))
        if name is not None:
            getattr(self, name).emit(event)
