"""The engine thread: one thread owns every torch object; latest-wins renders, FIFO commands, jobs."""
from __future__ import annotations

import atexit
import logging
import os
import threading
import weakref
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch

from . import commands
from ..contract.errors import EXPECTED, UserError
from ..nets.device import default_device
from .jobs import JobSet, Unit
from ..contract.messages import Command, ErrorEvent, Event, RenderRequest
from .model_slot import ModelSlot
from ..render.streams import renderer_for

log = logging.getLogger(__name__)
EXIT_JOIN_S = 30.0       # at interpreter exit, wait this long for a unit still running (see _join_at_exit)
STREAM_PRIORITY_S = 1.0  # while renders stream, jobs get one unit per this many seconds
EXTRAS_EVERY_S = 0.1     # a frame's extra results (the Layers view) give way to a newer frame at most this long


@dataclass(frozen=True)
class _Call(Command):
    """Internal: run a function on the engine thread (answers of helper threads, custom jobs)."""

    fn: Callable[[], None] = None


_ENGINES: "weakref.WeakSet[Engine]" = weakref.WeakSet()


@atexit.register
def _join_at_exit() -> None:
    """Let a unit still running after close() finish: a daemon thread killed inside torch aborts the process."""
    for engine in list(_ENGINES):
        with engine._cond:
            engine._closing = True
            engine._cond.notify()
        if engine.thread.is_alive():
            engine.thread.join(EXIT_JOIN_S)


class Engine:
    """Owns G and every job on one thread; `on_event` is called on that thread with each Event."""

    def __init__(self, on_event: Callable[[Event], None], threads: int | None = None,
                 device: torch.device | str | None = None) -> None:
        self.on_event = on_event
        self.threads = threads or os.cpu_count() or 1
        self.device = torch.device(device) if device is not None else default_device()
        self.model = ModelSlot(self.device)
        self.jobs = JobSet(self.emit, self._job_failed)
        self.training: dict = {}                        # job id → TrainingJob
        self._cond = threading.Condition()
        self._slots: dict[str, RenderRequest] = {}      # newest pending request per target
        self._extras_at: dict[str, float] = {}          # when an unstreamed request last ran to its end, per target
        self._stamps: dict[str, int] = {}               # newest accepted stamp per target
        self._commands: deque[Command] = deque()
        self._streams: dict[str, tuple[RenderRequest, Iterator]] = {}  # multi-image renders in progress
        self._closing = False
        self._job_at = 0.0                              # when a job unit last ran
        self.thread = threading.Thread(target=self._run, name="stylegan-engine", daemon=True)
        _ENGINES.add(self)

    # ---------------------------------------------------------------- API (any thread)
    def start(self) -> None:
        """Start the engine thread."""
        self.thread.start()

    def submit(self, request: RenderRequest) -> bool:
        """Queue a render; it replaces any pending one for its target. False when its stamp is stale."""
        if not isinstance(request, RenderRequest):
            raise TypeError(f"submit() takes a render request, not {type(request).__name__}")
        with self._cond:
            if request.stamp < self._stamps.get(request.target, request.stamp):
                return False
            self._stamps[request.target] = request.stamp
            self._slots[request.target] = request
            self._cond.notify()
        return True

    def post(self, command: Command) -> None:
        """Queue a command (FIFO, never dropped)."""
        if not isinstance(command, Command):
            raise TypeError(f"post() takes a command, not {type(command).__name__}")
        with self._cond:
            self._commands.append(command)
            self._cond.notify()

    def call_soon(self, fn: Callable[[], None]) -> None:
        """Run `fn` on the engine thread, in order with the commands."""
        self.post(_Call(fn))

    def start_job(self, kind: str, factory: Callable[[object], Iterator[Unit]], description: str = "") -> None:
        """Run a custom generator job: `factory(job)` is called on the engine thread and yields Units."""
        self.call_soon(lambda: self.jobs.add(kind, description or kind, factory))

    def close(self, timeout: float = 1.0) -> bool:
        """Stop the loop at its next unit and join; returns within `timeout` s. True when the thread ended."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        if self.thread.is_alive() and threading.current_thread() is not self.thread:
            self.thread.join(timeout)
        return not self.thread.is_alive()

    # ---------------------------------------------------------------- events and errors
    def emit(self, event: Event) -> None:
        """Hand an event to the app; a failing callback never takes the loop down."""
        if self._closing:
            return
        try:
            self.on_event(event)
        except Exception:
            log.exception("engine event callback failed")

    def describe(self, exc: BaseException) -> str:
        """One plain line for an exception."""
        if isinstance(exc, EXPECTED):
            text = str(exc) or type(exc).__name__
        else:
            log.error("engine error", exc_info=exc)
            text = f"internal error: {type(exc).__name__}: {exc}"
        line = " ".join(text.split())
        return line if len(line) <= 300 else line[:297] + "..."

    def report(self, exc: BaseException, source: object) -> str:
        """Emit an ErrorEvent for `source`; returns the message."""
        message = self.describe(exc)
        self.emit(ErrorEvent(message, source))
        return message

    def _job_failed(self, exc: BaseException, source: object) -> str:
        return self.report(exc, source)

    # ---------------------------------------------------------------- the loop
    def _run(self) -> None:
        torch.set_num_threads(self.threads)  # intra-op threads are per thread: set them where torch runs
        try:
            while self._wait_for_work():
                self._cycle()
        finally:
            self.jobs.close_all()
            for _, gen in self._streams.values():
                gen.close()

    def _wait_for_work(self) -> bool:
        """Block until something can be done; False when closing."""
        with self._cond:
            while not self._closing:
                if self._commands or self._slots or self._streams or self.jobs.runnable():
                    return True
                self._cond.wait(1.0)
            return False

    def _cycle(self) -> None:
        """One command, then every pending render, one chunk of each grid, one unit of one job."""
        try:
            with self._cond:
                cmd = self._commands.popleft() if self._commands else None
            if cmd is not None:
                self._command(cmd)
            self._serve_renders()
            self._advance_streams()
            if self._closing:
                return
            if self.model.refresh():
                self.emit(self.model.info())
            if self._streams and time.monotonic() - self._job_at < STREAM_PRIORITY_S:
                return  # a grid being streamed goes first, but cannot hold jobs back for long
            self.jobs.advance()
            self._job_at = time.monotonic()  # after the unit: a unit longer than the window must not void it
        except Exception as exc:  # the loop never dies
            self.report(exc, None)

    def _command(self, cmd: Command) -> None:
        try:
            if isinstance(cmd, _Call):
                cmd.fn()
                return
            handler = commands.HANDLERS.get(type(cmd))
            if handler is None:
                raise UserError(f"the engine does not know the command {type(cmd).__name__}")
            handler(self, cmd)
        except Exception as exc:
            self.report(exc, cmd)

    def _take_renders(self) -> list[RenderRequest]:
        with self._cond:
            pending = list(self._slots.values())
            self._slots.clear()
        return pending

    def _serve_renders(self) -> None:
        for req in self._take_renders():
            if self._closing:
                return
            self._streams.pop(req.target, None)  # a newer request for a streaming grid's target replaces it
            try:
                self._render(req)
            except Exception as exc:
                self.report(exc, req)

    def _render(self, req: RenderRequest) -> None:
        """Run the request's renderer: a streamed kind joins the round robin, others emit at once."""
        kind = renderer_for(req)
        events = kind.fn(self.model.render_G, req)
        if kind.streamed:
            self._streams[req.target] = (req, events)
            return
        for event in events:
            self.emit(event)
            with self._cond:
                newer = req.target in self._slots
            # Latest wins inside a request too: while a newer frame waits, the rest of this one (the Layers view)
            # is dropped, but never for longer than EXTRAS_EVERY_S, so the view still follows a saturating drag.
            if newer and time.monotonic() - self._extras_at.get(req.target, 0.0) < EXTRAS_EVERY_S:
                events.close()
                return
        self._extras_at[req.target] = time.monotonic()

    def _advance_streams(self) -> None:
        """One unit of the stream whose turn it is (round robin); units of a superseded request are dropped.

        One unit per cycle, not one per stream: with a large model each unit is an image taking
        seconds, and the viewer's next request is served at the start of the next cycle.
        """
        if not self._streams or self._closing:
            return
        target = next(iter(self._streams))
        req, gen = self._streams.pop(target)
        try:
            event = next(gen)
        except StopIteration:
            return
        except Exception as exc:
            self.report(exc, req)
            return
        self._streams[target] = (req, gen)  # back of the queue
        with self._cond:
            stale = self._stamps.get(target, req.stamp) > req.stamp
        if not stale:  # else the newer request is pending and will replace this stream
            self.emit(event)
