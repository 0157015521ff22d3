"""Generator jobs advanced one unit at a time by the engine loop: the set of running jobs, training, video."""
from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from ..contract.messages import (Command, Event, JobFinished, JobProgress, JobStarted, StartTraining, TrainingFakes,
                                 TrainingMetric, TrainingSnapshot, TrainingState, TrainingTick)
from ..contract.errors import UserError
from ..train.run import Drive, TrainingRun

PROGRESS_INTERVAL_S = 0.1  # at most ten progress events a second per job


@dataclass(frozen=True)
class Unit:
    """What one unit of a job did: progress, a line of text, and events to emit."""

    done: float
    total: float
    message: str = ""
    events: tuple[Event, ...] = ()


@dataclass(frozen=True)
class Outcome:
    """How a job ended when it returned normally: a message and the file it wrote, if any."""

    message: str = ""
    path: str = ""


@dataclass
class Job:
    """One running job: its generator of Units, the command that started it, and control flags."""

    job_id: int
    kind: str
    description: str
    units: Iterator[Unit]
    source: Command | None = None
    paused: bool = False
    cancelled: bool = False
    stop: Callable[[], None] | None = None   # asks the job to end gracefully (training: snapshot first)
    last_progress: float = field(default=0.0)


class JobSet:
    """The running jobs, advanced round-robin; emits JobStarted/JobProgress/JobFinished and errors."""

    def __init__(self, emit: Callable[[Event], None], fail: Callable[[BaseException, object], str]) -> None:
        self.emit, self.fail = emit, fail
        self.jobs: list[Job] = []
        self.next_id = 1
        self.turn = 0

    def add(self, kind: str, description: str, factory: Callable[["Job"], Iterator[Unit]],
            source: Command | None = None) -> Job:
        """Start a job whose generator `factory(job)` builds (called here, on the engine thread)."""
        job = Job(self.next_id, kind, description, iter(()), source)
        self.next_id += 1
        self.emit(JobStarted(job.job_id, kind, description))
        job.units = factory(job)
        self.jobs.append(job)
        return job

    def find(self, kind: str) -> Job | None:
        """The first running job of a kind."""
        return next((j for j in self.jobs if j.kind == kind), None)

    def runnable(self) -> bool:
        """True when some job can advance now."""
        return any(not j.paused or j.cancelled for j in self.jobs)

    def cancel(self, job_id: int) -> bool:
        """Mark a job (0: all jobs) to stop at its next unit; False when no such job runs."""
        hit = [j for j in self.jobs if job_id in (0, j.job_id)]
        for job in hit:
            job.cancelled = True
            if job.stop is not None:
                job.stop()
        return bool(hit)

    def advance(self) -> bool:
        """Advance the next runnable job by one unit; False when none could run."""
        ready = [j for j in self.jobs if not j.paused or j.cancelled]
        if not ready:
            return False
        self.turn = (self.turn + 1) % len(ready)
        job = ready[self.turn]
        if job.cancelled and job.stop is None:
            self._end(job, "cancelled", "cancelled")
            return True
        self._step(job)
        return True

    def _step(self, job: Job) -> None:
        try:
            unit = next(job.units)
        except StopIteration as end:
            out = end.value if isinstance(end.value, Outcome) else Outcome()
            status = "cancelled" if job.cancelled else "ok"
            self._end(job, status, out.message or ("cancelled" if job.cancelled else "done"), out.path, close=False)
            return
        except Exception as exc:  # a failing job ends alone; the loop keeps serving
            message = self.fail(exc, job.source)
            self._end(job, "failed", message, close=False)
            return
        for event in unit.events:
            self.emit(event)
        now = time.monotonic()
        if now - job.last_progress >= PROGRESS_INTERVAL_S or (unit.total and unit.done >= unit.total):
            job.last_progress = now
            self.emit(JobProgress(job.job_id, job.kind, unit.done, unit.total, unit.message))

    def _end(self, job: Job, status: str, message: str, path: str = "", close: bool = True) -> None:
        self.jobs.remove(job)
        if close:
            _close_quietly(job.units)
        # A job's stop hook and generator usually refer back to it (TrainingJob.job); cut them, or a finished
        # run (networks, optimizer state, dataset) lives on as a cycle until a rare full garbage collection.
        job.units, job.stop = iter(()), None
        self.emit(JobFinished(job.job_id, job.kind, status, message, path))

    def close_all(self) -> None:
        """Close every job's generator (its cleanup runs) without events: the engine is shutting down."""
        for job in self.jobs:
            _close_quietly(job.units)
        self.jobs.clear()


def _close_quietly(gen: Iterator) -> None:
    close = getattr(gen, "close", None)
    if close is not None:
        try:
            close()
        except Exception:
            pass  # cleanup of a job that is being dropped must not take the loop down


# ---------------------------------------------------------------- training
class TrainingJob:
    """Runs a TrainingRun one minibatch per unit; stop() makes the next unit write a snapshot and end."""

    def __init__(self, cmd: StartTraining, job: Job, emit: Callable[[Event], None]) -> None:
        self.cmd, self.job, self.emit = cmd, job, emit
        self.run = None            # the TrainingRun once built (its G_ema feeds live exploring)
        self.stopping = False
        self.run_dir = cmd.resume_dir or cmd.run_dir
        job.stop = self.request_stop

    def request_stop(self) -> None:
        """End at the next unit, after a snapshot."""
        self.stopping = True

    def _build(self) -> TrainingRun:
        if self.cmd.resume_dir:
            moved = {"data": self.cmd.data} if self.cmd.data else None
            return TrainingRun(None, self.cmd.resume_dir, resume=True, total_kimg=self.cmd.kimg or None,
                               overrides=moved)
        if not self.cmd.config or not self.cmd.config.data or not self.cmd.run_dir:
            raise UserError("training needs a dataset and a run folder")
        return TrainingRun(self.cmd.config, self.cmd.run_dir)

    def units(self) -> Iterator[Unit]:
        """The job: build the run, then one minibatch per unit; ends with TrainingState 'finished', 'stopped' or
        'failed'."""
        jid, ended = self.job.job_id, "stopped"
        try:
            if self.stopping:
                return Outcome("stopped before it started")
            self.run = self._build()
            total = self.run.cfg.total_kimg
            summary = "; ".join((self.run.report.summary(), *self.run.notes))  # e.g. started from a model, resumed
            started = TrainingState(jid, "running", self.run.cfg.portable(), self.run.report.summary(), self.run.notes)
            # a resumed run first replays its earlier ticks, so its curves continue where they left off
            yield Unit(self.run.kimg, total, summary, (started, *self._history()))
            t0, drive = time.monotonic(), Drive(self.run, lambda: self.stopping)
            for update in drive:
                yield Unit(update.kimg, total, update.message or f"{update.kimg:.2f} kimg at {update.resolution}²",
                           self._events(update, time.monotonic() - t0))
            if drive.end.status == "finished":
                ended = "finished"
                return Outcome(f"finished at {self.run.kimg:.2f} kimg", drive.end.snapshot)
            self.emit(TrainingSnapshot(jid, drive.end.snapshot, self.run.kimg,
                                       tuple(str(p) for p in self.run.files.snapshot_paths())))
            return Outcome(f"stopped at {self.run.kimg:.2f} kimg", drive.end.snapshot)
        except Exception:   # (its reason follows in the job's JobFinished; Stop and cancel are not failures)
            ended = "failed"
            raise
        finally:
            self.emit(TrainingState(jid, ended))

    def _tick_event(self, s, total_kimg: float, seconds: float, eta_s: float) -> TrainingTick:
        """A tick's statistics (TickStats) as the event the window plots."""
        return TrainingTick(**dataclasses.asdict(s), job_id=self.job.job_id, run_dir=self.run_dir,
                            total_kimg=total_kimg, seconds=seconds, eta_s=eta_s)

    def _history(self) -> tuple[Event, ...]:
        """The resumed run's earlier ticks, measurements, snapshots and newest fakes grid as a live run sends them."""
        if not self.cmd.resume_dir:
            return ()
        jid, total = self.job.job_id, self.run.cfg.total_kimg
        ticks, metrics = self.run.files.history(self.run.kimg)
        out = [self._tick_event(s, total, float("nan"), float("nan")) for s in ticks]
        out += [TrainingMetric(jid, kimg, name, value) for kimg, name, value in metrics]
        out += [TrainingSnapshot(jid, str(p), kimg) for p, kimg in self.run.files.snapshots_upto(self.run.tick)]
        fakes = self.run.files.latest_fakes(self.run.tick)
        return tuple(out) + ((TrainingFakes(jid, self.run.kimg, fakes),) if fakes is not None else ())

    def _events(self, update, seconds: float) -> tuple[Event, ...]:
        jid, out = self.job.job_id, []
        if update.tick_stats is not None:
            eta = max(update.total_kimg - update.kimg, 0.0) * update.tick_stats.sec_per_kimg
            out.append(self._tick_event(update.tick_stats, update.total_kimg, seconds, eta))
            if update.diversity is not None:  # every tick: a run converging onto one outline shows it falling
                out.append(TrainingMetric(jid, update.kimg, "diversity", update.diversity))
        if update.metric is not None:
            out.append(TrainingMetric(jid, update.kimg, *update.metric))
        if update.fakes is not None:
            out.append(TrainingFakes(jid, update.kimg, update.fakes))
        if update.snapshot_path:
            kept = tuple(str(p) for p in self.run.files.snapshot_paths())
            out.append(TrainingSnapshot(jid, update.snapshot_path, update.kimg, kept))
        return tuple(out)
