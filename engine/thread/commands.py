"""Command handlers of the engine thread: models, training control, exports, measurements, dataset checks."""
from __future__ import annotations

import dataclasses
import gc
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from ..render import exports
from ..contract.errors import UserError
from ..render.synth import latents_to_w, latents_to_ws
from ..files.fileio import WriteError, atomic_write_bytes, check_suffix, describe_os_error
from ..contract.latentfile import encode_latents
from ..contract.video import encode_path
from .jobs import JobSet, Outcome, TrainingJob, Unit
from ..contract.messages import (CancelJob, Command, DatasetSummary, DescribeModel, ErrorEvent, Event,
                                 ExploreTraining, ExportFaces, ExportStill, ExportTimelapse, ExportVideo, FaceLatent,
                                 LoadModel, MakeAvatars, ImageRecord, MeasureFID, MetricResult, MixFace,
                                 ModelDescription, NewModel, PauseTraining, ProjectImage, ReadImageRecord,
                                 ResumeTraining, Saved, SaveBlend, SaveLatents, SaveModel, SaveTravelPath,
                                 StartTraining, StopTraining, TrainingState, ValidateDataset)
from .describe import card_path, describe, describe_file, read_card
from .model_slot import ModelSlot
from .direction_jobs import HANDLERS as DIRECTION_HANDLERS
from ..files.modelfile import ModelMeta, save_model
from ..files.pngio import read_request
from ..files.provenance import model_record
from ..files.dataset import validate
from ..render.blend_render import make_blend
from ..render.renderer import mixed_latent
from ..render.video import video_job
from ..train.avatars import avatar_zip_steps
from ..train.timelapse import timelapse_job, timelapse_ticks
from ..metrics.fid import fid_steps
from .project_job import projection_units


class EngineContext(Protocol):
    """What a handler may use of the engine (engine.Engine provides it; this module never imports it)."""

    model: ModelSlot
    jobs: JobSet
    training: dict

    def emit(self, event: Event) -> None: ...
    def describe(self, exc: BaseException) -> str: ...
    def call_soon(self, fn: Callable[[], None]) -> None: ...


# ---------------------------------------------------------------- models
def load(eng: EngineContext, cmd: LoadModel) -> None:
    """Open a model file; on failure the previous model stays and an error is reported."""
    notice = eng.model.load(cmd.path)
    eng.emit(dataclasses.replace(eng.model.info(), notice=notice))


def new(eng: EngineContext, cmd: NewModel) -> None:
    """Create a fresh model in memory."""
    eng.model.new(cmd)
    eng.emit(eng.model.info())


def save(eng: EngineContext, cmd: SaveModel) -> None:
    """Write the current model."""
    eng.model.save(cmd.path)
    eng.emit(Saved(cmd.path, "model"))
    eng.emit(eng.model.info())


def describe_model(eng: EngineContext, cmd: DescribeModel) -> None:
    """The model renders use, in the `info` command's words, with the model card beside its file if there is one.

    A model from a file is described as `info` reads that file (a pickle's own D included), on a helper thread:
    reading a large pickle again takes seconds, which renders should not wait for."""
    slot = eng.model
    if slot.live or not slot.path:
        meta = (ModelMeta(name="live G_ema", source=f"training run {slot.live_source.run_dir}",
                          kimg=round(slot.live_kimg, 3)) if slot.live else slot.meta)
        eng.emit(ModelDescription(cmd.request, tuple(describe(slot.render_G, meta, slot.render_G.cfg))))
        return
    path = slot.path

    def description() -> ModelDescription:
        card = card_path(path)
        return ModelDescription(cmd.request, tuple(describe_file(path)), read_card(card) if card else "",
                                str(card or ""))
    answer_off_thread(eng, cmd, "describe-model", description)


def save_blend(eng: EngineContext, cmd: SaveBlend) -> None:
    """Write the blend of the open model (the base) with `cmd.other` as a model file whose card names both."""
    if not cmd.path:
        raise UserError("no file name given for the blended model")
    if eng.model.live:
        raise UserError("stop exploring the training run first: a blend needs a fixed base model")
    slot = eng.model
    G, meta = make_blend(slot.render_G, slot.path, slot.meta, cmd.other, cmd.spec)
    save_model(G, cmd.path, meta)
    eng.emit(Saved(cmd.path, "model"))


# ---------------------------------------------------------------- training
def start_training(eng: EngineContext, cmd: StartTraining) -> None:
    """Start the (only) training job."""
    if eng.jobs.find("train") is not None:
        raise UserError("a training run is already going; stop it first")
    where = cmd.resume_dir or cmd.run_dir
    holder = {}

    def factory(job):
        holder["t"] = TrainingJob(cmd, job, eng.emit)
        return _ending(eng, holder["t"], holder["t"].units())
    job = eng.jobs.add("train", f"training {'(resumed) ' if cmd.resume_dir else ''}{where}", factory, cmd)
    eng.training[job.job_id] = holder["t"]


def _ending(eng: EngineContext, training: TrainingJob, units):
    """Pass the training units through; when the run ends, a live view keeps its last G_ema as the model."""
    try:
        out = yield from units
        return out
    finally:
        eng.training.pop(training.job.job_id, None)
        snaps = training.run.files.snapshots() if training.run is not None else []
        if eng.model.run_ended(training, str(snaps[-1]) if snaps else ""):
            eng.emit(eng.model.info())
        training.run = None
        release_garbage()


def release_garbage() -> None:
    """Free what a long job left in reference cycles now (a run's networks, optimizers and data: MBs to GBs).

    Objects that lived through a run reach the oldest garbage generation, which Python collects only once the
    long-lived objects grew by a quarter: with the window's ~360,000 objects, rarely. Until then a cycle that
    touched a run keeps it whole (torch's lazy imports during the first Adam make one). One full collection per
    run costs ~0.17 s with the window up (docs/robustness.md).
    """
    gc.collect()


def _training(eng: EngineContext) -> TrainingJob | None:
    """The training run going, or None.

    The window sends Pause, Resume, Stop and Explore live only while it shows a run, but the run's end may
    cross the click on its way: with no run there is nothing to do, and an error would only report the race.
    """
    job = eng.jobs.find("train")
    return None if job is None else eng.training.get(job.job_id)


def pause(eng: EngineContext, cmd: PauseTraining) -> None:
    """Stop advancing the training job after its current minibatch."""
    _set_paused(eng, True)


def resume(eng: EngineContext, cmd: ResumeTraining) -> None:
    """Continue a paused training job."""
    _set_paused(eng, False)


def _set_paused(eng: EngineContext, paused: bool) -> None:
    t = _training(eng)
    if t is not None:
        t.job.paused = paused
        eng.emit(TrainingState(t.job.job_id, "paused" if paused else "running"))


def stop(eng: EngineContext, cmd: StopTraining) -> None:
    """Snapshot and end the training job at its next unit (also when paused)."""
    t = _training(eng)
    if t is None:
        return
    t.request_stop()
    t.job.paused = False


def explore(eng: EngineContext, cmd: ExploreTraining) -> None:
    """Render with the run's live G_ema (refreshed every refresh_s), or go back to the model."""
    if not cmd.live:
        was_live = eng.model.live_source is not None
        eng.model.stop_live()
        if was_live and eng.model.G is not None:
            eng.emit(eng.model.info())
        return
    t = _training(eng)
    if t is not None and eng.model.start_live(t, cmd.refresh_s):
        eng.emit(eng.model.info())


def cancel(eng: EngineContext, cmd: CancelJob) -> None:
    """Cancel a job (0: all) at its next unit."""
    # A job that ended while the Cancel was on its way needs nothing: the window's Cancel races the job's end.
    if not eng.jobs.cancel(cmd.job_id) and not 0 < cmd.job_id < eng.jobs.next_id:
        raise UserError(f"no running job {cmd.job_id}" if cmd.job_id else "no job is running")


# ---------------------------------------------------------------- exports
def _render_model_record(eng: EngineContext) -> dict:
    """The provenance's model record of what renders use (a live training run's G_ema: with its kimg)."""
    m = eng.model
    extra = {"training_kimg": round(m.live_kimg, 3)} if m.live else {}
    return model_record(m.meta.model_id, m.meta.name, m.path, **extra)


def export_still(eng: EngineContext, cmd: ExportStill) -> None:
    """What a render request renders, as a PNG with provenance."""
    exports.save(cmd.path, eng.model.render_G, cmd.request, _render_model_record(eng))
    eng.emit(Saved(cmd.path, cmd.request.kind))


def export_faces(eng: EngineContext, cmd: ExportFaces) -> None:
    """Each face as its own PNG with provenance, as a job (a batch of faces per unit)."""
    if not cmd.folder:
        raise UserError("no folder given to export the faces into")
    G, model = eng.model.render_G, _render_model_record(eng)

    def factory(job):
        for done, total in exports.write_faces(G, cmd.requests, cmd.folder, model, cmd.labels):
            yield Unit(done, total, f"face {done} of {total}")
        eng.emit(Saved(cmd.folder, "faces"))
        return Outcome(f"wrote {len(cmd.requests)} images to {cmd.folder}", cmd.folder)
    eng.jobs.add("faces", f"faces into {Path(cmd.folder).name}", factory, cmd)


def save_latents(eng: EngineContext, cmd: SaveLatents) -> None:
    """An .npz with w [N, w_dim] (before truncation; ws [N, num_ws, w_dim] if one is per layer) and labels."""
    if not cmd.latents:
        raise UserError("no latents to save")
    check_suffix(cmd.path, ".npz")
    lats, G = list(cmd.latents), eng.model.render_G
    w = (latents_to_ws(G, lats) if any(lat.per_layer for lat in lats) else latents_to_w(G, lats)).cpu().numpy()
    atomic_write_bytes(cmd.path, encode_latents(w, [lat.label() for lat in cmd.latents]))
    eng.emit(Saved(cmd.path, "latents"))


def export_video(eng: EngineContext, cmd: ExportVideo) -> None:
    """Render a video as a job, one frame per unit."""
    if not cmd.path:
        raise UserError("no video file name given")
    G, meta, model_path = eng.model.render_G, eng.model.meta, eng.model.path

    def factory(job):
        for done, total in video_job(G, meta, model_path, cmd.spec, cmd.path):
            yield Unit(done, total, f"frame {done} of {total}")
        eng.emit(Saved(cmd.path, "video"))
        return Outcome(f"wrote {Path(cmd.path).name}", cmd.path)
    eng.jobs.add("video", f"video {Path(cmd.path).name}", factory, cmd)


def measure_fid(eng: EngineContext, cmd: MeasureFID) -> None:
    """FID of the model renders use, as a job (a batch of images per unit); ends with a MetricResult."""
    G, name = eng.model.render_G, eng.model.info().name

    def factory(job):
        t0 = time.monotonic()
        if not cmd.data:
            raise UserError("choose the held-out real images (a folder or zip) to measure against")
        for stage, done, total, result in fid_steps(G, cmd.data, cmd.count, cmd.real, cmd.psi, cmd.seed):
            yield Unit(done, total, f"{stage}: {done:,} of {total:,} images")
        eng.emit(MetricResult(job.job_id, "fid", result.value, name, result.n_fake, result.n_real, cmd.psi,
                              cmd.data, round(time.monotonic() - t0, 1), result.note))
        return Outcome(f"FID {result.value:.2f}: {result.n_fake:,} samples against {result.n_real:,} real images")
    eng.jobs.add("fid", f"FID of {name}", factory, cmd)


def export_timelapse(eng: EngineContext, cmd: ExportTimelapse) -> None:
    """A run's fakes grids as a video, as a job (one batch of grids per unit)."""
    if not cmd.path:
        raise UserError("no video file name given")
    timelapse_ticks(cmd.run_dir)  # a folder with no run or no grids: one line now, not a failed job

    def factory(job):
        for done, total in timelapse_job(cmd.run_dir, cmd.path, cmd.fps, width=cmd.width):
            yield Unit(done, total, f"grid {done} of {total}")
        eng.emit(Saved(cmd.path, "timelapse"))
        return Outcome(f"wrote {Path(cmd.path).name}", cmd.path)
    eng.jobs.add("timelapse", f"timelapse {Path(cmd.path).name}", factory, cmd)


def project_image(eng: EngineContext, cmd: ProjectImage) -> None:
    """Project an image file into the current model as a job, one optimisation step per unit."""
    if not cmd.path:
        raise UserError("no image file given to project")
    G = eng.model.render_G
    eng.jobs.add("project", f"project {Path(cmd.path).name}", lambda job: projection_units(G, cmd, job), cmd)


def answer_off_thread(eng: EngineContext, cmd: Command, name: str, make_event: Callable[[], Event]) -> None:
    """Make a command's answer on a helper thread (file work a render should not wait for); emit it, or its
    failure as an ErrorEvent, on the engine thread."""

    def work() -> None:
        try:
            event = make_event()
        except Exception as exc:
            event = ErrorEvent(eng.describe(exc), cmd)
        eng.call_soon(lambda: eng.emit(event))
    threading.Thread(target=work, name=name, daemon=True).start()


def validate_dataset(eng: EngineContext, cmd: ValidateDataset) -> None:
    """Check a dataset on a helper thread (pure file and image work, no torch), answer on the engine thread."""

    def summary() -> DatasetSummary:
        report, _ = validate(cmd.path, cmd.resolution)
        return DatasetSummary(str(cmd.path), report.count, report.resolution, report.skipped)
    answer_off_thread(eng, cmd, "dataset-check", summary)


def mix_face(eng: EngineContext, cmd: MixFace) -> None:
    """A mixed face as one latent (for the favourites and the mixing grid, which hold one latent per face)."""
    eng.emit(FaceLatent(cmd.request, mixed_latent(eng.model.render_G, cmd.latent, cmd.mix_with, cmd.mix_layers)))


def read_image_record(eng: EngineContext, cmd: ReadImageRecord) -> None:
    """What a PNG records (the request and model that made it), read on a helper thread: a file on a slow disk
    should not hold up renders."""

    def answer() -> ImageRecord:
        found = read_request(cmd.path)
        if found is None:
            return ImageRecord(cmd.request, cmd.path)
        spec, rec = found
        kimg = rec.get("training_kimg")
        return ImageRecord(cmd.request, cmd.path, spec, _text(rec, "model_id"), _text(rec, "model_name"),
                           _text(rec, "model_path"),
                           float(kimg) if isinstance(kimg, (int, float)) and not isinstance(kimg, bool) else None)
    answer_off_thread(eng, cmd, "image-record", answer)


def _text(rec: dict, key: str) -> str:
    """A record's text field, or "" (a hostile record may hold anything there)."""
    value = rec.get(key, "")
    return value if isinstance(value, str) else ""


POLL_S = 0.02  # Make Faces: the longest a render waits for the job between two looks at its workers


def make_avatars(eng: EngineContext, cmd: MakeAvatars) -> None:
    """Build an avatars zip as a job (a chunk of faces per unit) on every core; cancelled, it leaves no file."""
    if not cmd.path:
        raise UserError("no file name given for the faces")
    try:  # a new folder for datasets is what a user names here, e.g. ~/stylegan-data
        Path(cmd.path).parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(f"cannot write {cmd.path}: {describe_os_error(exc)}") from None

    def factory(job):
        # spawned workers: this process runs Qt's and torch's threads, and a forked child can inherit a held lock
        # and a short poll: renders wait at most that long for the job (a whole chunk's wait: ~1 s measured)
        steps = avatar_zip_steps(cmd.path, cmd.count, cmd.resolution, cmd.seed, workers=os.cpu_count() or 2,
                                 start_method="spawn", poll=POLL_S)
        for done in steps:
            yield Unit(done, cmd.count, f"{done:,} of {cmd.count:,} faces")
        eng.emit(Saved(cmd.path, "dataset"))
        return Outcome(f"wrote {Path(cmd.path).name}: {cmd.count:,} faces at {cmd.resolution}²", cmd.path)
    eng.jobs.add("avatars", f"faces {Path(cmd.path).name}", factory, cmd)


def save_travel_path(eng: EngineContext, cmd: SaveTravelPath) -> None:
    """A travelled path file (JSON), for `video --kind walk --path FILE`."""
    if len(cmd.points) < 2:
        raise UserError("no path travelled yet: drag in the viewer with Shift held (or in travel mode)")
    atomic_write_bytes(cmd.path, encode_path(cmd.points, cmd.space))
    eng.emit(Saved(cmd.path, "travelled path"))


HANDLERS = {**DIRECTION_HANDLERS, LoadModel: load, NewModel: new, SaveModel: save, SaveBlend: save_blend,
            DescribeModel: describe_model,
            StartTraining: start_training,
            PauseTraining: pause, ResumeTraining: resume, StopTraining: stop, ExploreTraining: explore,
            CancelJob: cancel, ExportStill: export_still,
            SaveLatents: save_latents, ExportFaces: export_faces, ExportVideo: export_video,
            ExportTimelapse: export_timelapse,
            MeasureFID: measure_fid,
            ValidateDataset: validate_dataset, MakeAvatars: make_avatars,
            ProjectImage: project_image, SaveTravelPath: save_travel_path, ReadImageRecord: read_image_record,
            MixFace: mix_face}
