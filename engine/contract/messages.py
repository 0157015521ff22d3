"""Commands and events between the app and the engine thread (the render requests: contract/requests.py).

Frozen dataclasses of numbers, strings, tuples and numpy arrays, never tensors. Like all of the contract,
this module imports only the standard library, numpy and the contract's other modules, so the Qt app can
import it without torch. The render requests are re-exported here: one vocabulary for the engine's messages.

How the engine (engine/thread/engine.py) treats them:
- Render requests: one slot per `target`; a newer request replaces a pending one, and a request
  whose stamp is lower than the last one accepted for its target is dropped. Each request type has
  live renderer (engine/render/streams.py) that yields RenderResult events. Every finished render
  is emitted (during a drag the newest finished frame shows); seed grids stream GridChunks (a first
  chunk of 2, then `chunk` at a time) and a newer request for the target stops the stream. Mixing
  grids, ψ strips and variation maps stream too: for a large model (a unit is one image at 1024² on
  a CPU) partial results arrive with `done` set, the complete one with `done` None; a small model
  gives the complete result at once. Single images are never streamed and go first.
  EngineBridge also drops results older than one already delivered for the target, and grid chunks
  of a grid that was replaced, and offers each target's results as one signal (bridge.results(target)).
- Commands: FIFO, never dropped; a failure is an ErrorEvent with the command as `source` (a failed
  LoadModel keeps the previous model).
- ModelInfo follows every model change: load, new, save, ExploreTraining on/off, each live G_ema
  refresh (live=True, kimg updated: re-request what is shown), and the end of an explored run
  (its last G_ema stays as the model, path = its last snapshot).
- Jobs (train, video, project): JobStarted, JobProgress (at most 10 a second per job, and the last unit),
  JobFinished(ok | cancelled | failed). Cancelling training writes a snapshot first. Closing the
  engine drops running jobs without a snapshot: post StopTraining and wait for JobFinished first.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from .blend import BlendSpec
from .directions import DirectionSet
from .latents import Latent, NoiseSpec, RenderSettings, ResNoise  # noqa: F401  (re-exported for the app)
from .projection import ProjectionOptions
from .requests import (LAYER_GRID_GAP, RenderBlend, RenderEditGrid, RenderFigure, RenderImage,  # noqa: F401
                       RenderInterpolation, RenderLayer, RenderMixGrid, RenderRequest,        # (one vocabulary)
                       RenderSeedGrid, RenderTruncationStrip, RenderVariation)
from .training import RESOLUTIONS as AVATAR_RESOLUTIONS  # faces at the sizes a run trains at
from .training import TrainConfig  # noqa: F401  (the app builds it from the Training pane)
from .errors import UserError

MAX_AVATARS = 1_000_000


# ---------------------------------------------------------------- commands (FIFO, never dropped)
@dataclass(frozen=True)
class Command:
    """Base of all commands."""


@dataclass(frozen=True)
class LoadModel(Command):
    """Open a model file (on failure the previous model stays loaded)."""

    path: str = ""


@dataclass(frozen=True)
class NewModel(Command):
    """Create a freshly initialised model in memory."""

    resolution: int = 64
    channels: int = 128
    z_dim: int = 128
    seed: int = 0


@dataclass(frozen=True)
class SaveModel(Command):
    """Write the current model to `path`."""

    path: str = ""


@dataclass(frozen=True)
class StartTraining(Command):
    """Train with `config` into `run_dir`, or continue `resume_dir` (optionally to a longer `kimg`)."""

    config: TrainConfig | None = None
    run_dir: str = ""
    resume_dir: str = ""
    kimg: float = 0.0       # resume only: a larger total length extends the run
    data: str = ""          # resume only: where the run's images lie now (the run folder's path is gone)


@dataclass(frozen=True)
class PauseTraining(Command):
    """Pause the running training job after its current minibatch."""


@dataclass(frozen=True)
class ResumeTraining(Command):
    """Continue a paused training job."""


@dataclass(frozen=True)
class StopTraining(Command):
    """Finish the current minibatch, write a snapshot and end the training job."""


@dataclass(frozen=True)
class ExploreTraining(Command):
    """live=True: renders use the run's current G_ema (refreshed every `refresh_s`); False: back to the model."""

    live: bool = True
    refresh_s: float = 5.0


@dataclass(frozen=True)
class ExportStill(Command):
    """Save what `request` (any render request: image, mixing grid, figure, noise map, strip) renders as a PNG
    with provenance; its `target` and `stamp` are not used."""

    path: str = ""
    request: RenderRequest | None = None


@dataclass(frozen=True)
class ExportFaces(Command):
    """Write each request's image as its own PNG with provenance into `folder` (a job), named by
    contract/facefiles.py from `labels` (one per request, or none)."""

    folder: str = ""
    requests: tuple[RenderImage, ...] = ()
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class SaveTravelPath(Command):
    """Write the window's travelled path (points in seed space, blended in `space`) for `video --path`."""

    path: str = ""
    points: tuple[tuple[float, float], ...] = ()
    space: str = "z"


@dataclass(frozen=True)
class SaveLatents(Command):
    """Write the ws of `latents` to an .npz (keys: w [N, w_dim], labels)."""

    path: str = ""
    latents: tuple[Latent, ...] = ()


@dataclass(frozen=True)
class MeasureFID(Command):
    """FID of the model renders use against held-out real images (a job; answers with MetricResult)."""

    data: str = ""               # folder or zip of real images
    count: int = 1000            # generated samples (seeds from `seed`)
    real: int = 5000             # held-out images used, at most
    psi: float = 1.0
    seed: int = 100_000


@dataclass(frozen=True)
class ExportTimelapse(Command):
    """Encode a training run's fakes grids, tick after tick, into a video (a job)."""

    run_dir: str = ""
    path: str = ""
    fps: int = 10
    width: int | None = None     # px; None: enlarged a whole number of times to at least 1024 px


@dataclass(frozen=True)
class ExportVideo(Command):
    """Render a video job; `spec` is a contract.video.VideoSpec."""

    path: str = ""
    spec: object = None


@dataclass(frozen=True)
class ValidateDataset(Command):
    """Check a folder or zip of images; answers with DatasetSummary."""

    path: str = ""
    resolution: int = 0          # 0: choose from the images


@dataclass(frozen=True)
class MakeAvatars(Command):
    """Build a training set of procedural cartoon faces (python-avatars, as the bundled model's) as a zip (a job)."""

    path: str = ""
    count: int = 10_000
    resolution: int = 64
    seed: int = 0                # the first avatar's seed (avatar i uses seed + i)

    def __post_init__(self) -> None:
        if not 1 <= self.count <= MAX_AVATARS:
            raise UserError(f"the number of faces must be from 1 to {MAX_AVATARS:,}, got {self.count}")
        if self.resolution not in AVATAR_RESOLUTIONS:
            raise UserError(f"face size must be one of {', '.join(map(str, AVATAR_RESOLUTIONS))}, "
                            f"got {self.resolution}")
        if self.seed < 0:
            raise UserError("the first seed must be 0 or more")


@dataclass(frozen=True)
class ComputeDirections(Command):
    """Find `count` directions of `kind` ('pca' or 'sefa') for `layers` of the model, as a job; answers DirectionsReady."""

    kind: str = "pca"
    layers: tuple[int, ...] = ()     # empty: all layers
    count: int = 10
    samples: int = 20000


@dataclass(frozen=True)
class LoadDirections(Command):
    """Read a directions file (.npz); answers DirectionsReady."""

    path: str = ""


@dataclass(frozen=True)
class SaveDirections(Command):
    """Write a direction set to an .npz."""

    path: str = ""
    directions: DirectionSet | None = None


@dataclass(frozen=True)
class ProjectImage(Command):
    """Find the latent whose image is closest to the image file `path`, as a job (one optimisation step a unit)."""

    path: str = ""
    options: ProjectionOptions = field(default_factory=ProjectionOptions)


@dataclass(frozen=True)
class SaveBlend(Command):
    """Write the blend of the model (the base) with the model file `other` to `path`; its card names both."""

    path: str = ""
    other: str = ""
    spec: BlendSpec = field(default_factory=BlendSpec)


@dataclass(frozen=True)
class DescribeModel(Command):
    """Describe the model renders use (answers with ModelDescription carrying the same `request`)."""

    request: int = 0


@dataclass(frozen=True)
class ReadImageRecord(Command):
    """Read what a PNG the studio saved records (answers with ImageRecord carrying the same `request`)."""

    path: str = ""
    request: int = 0


@dataclass(frozen=True)
class MixFace(Command):
    """The face `latent` with `mix_layers` from `mix_with`, as one latent (answers with FaceLatent)."""

    latent: Latent = None
    mix_with: Latent = None
    mix_layers: tuple[int, ...] = ()
    request: int = 0


@dataclass(frozen=True)
class CancelJob(Command):
    """Cancel a running job by id (0: every job)."""

    job_id: int = 0


# ---------------------------------------------------------------- events (engine → app)
@dataclass(frozen=True)
class Event:
    """Base of all events."""


@dataclass(frozen=True)
class ModelInfo(Event):
    """The model now used for rendering."""

    name: str
    path: str
    model_id: str
    resolution: int
    num_ws: int
    z_dim: int
    w_dim: int
    layer_resolutions: tuple[int, ...]   # G.ws_resolutions: the resolution each ws feeds
    device: str
    kimg: float = 0.0
    live: bool = False   # True while renders use a training run's G_ema
    notice: str = ""     # one line to show once, e.g. that an official pickle was converted and cached
    layer_labels: tuple[str, ...] = ()   # G.ws_labels; () → "R²" from layer_resolutions
    noise_resolutions: tuple[int, ...] | None = None  # G.noise_resolutions; None → one input per layer; () → none
    feature_layers: tuple[tuple[str, int, int], ...] = ()  # (name, resolution, channels) a layer view can show
    arch: str = "stylegan1"              # G.arch: the registry key ("stylegan1" | "stylegan2" | "stylegan3")
    c_dim: int = 0                       # number of classes of a class-conditional model (0: unconditional)
    has_input_transform: bool = False    # G.has_input_transform: translate/rotate of the input (StyleGAN3)
    can_train: bool = True               # whether `train --init` / fine-tuning can start from this model
    source_note: str = ""                # one line when an imported pickle's source differs from NVIDIA's releases
    grown_res: int = 0                   # a snapshot taken while growing: the resolution it renders at (upsampled)
    grown_alpha: float = 1.0             # … and the fade-in of that resolution (1: faded in)

    @property
    def has_noise(self) -> bool:
        """False for a model with no noise inputs (StyleGAN3): the Noise pane disables itself."""
        return bool(self.noise_resolutions)

    def __post_init__(self) -> None:
        if not self.layer_labels:
            object.__setattr__(self, "layer_labels", tuple(f"{r}²" for r in self.layer_resolutions))
        if self.noise_resolutions is None:
            object.__setattr__(self, "noise_resolutions", self.layer_resolutions)


@dataclass(frozen=True)
class RenderResult(Event):
    """Base of render results: the request's `target` and `stamp`, and the `seconds` the render (or unit) took.

    Results of one target arrive in stamp order; the bridge drops one older than a result already
    delivered, and, for kinds with `dropped_when_replaced`, one whose request has been replaced.
    """

    dropped_when_replaced: ClassVar[bool] = False
    target: str
    stamp: int
    seconds: float


@dataclass(frozen=True, kw_only=True)
class FrameReady(RenderResult):
    """A rendered image for a RenderImage."""

    image: np.ndarray            # [H, W, 3] uint8
    request: RenderRequest | None = None


@dataclass(frozen=True, kw_only=True)
class GridChunk(RenderResult):
    """Thumbnails images[k] for seeds[start + k] of a seed-grid request."""

    dropped_when_replaced: ClassVar[bool] = True  # a replaced grid's placeholders are gone
    start: int
    images: np.ndarray           # [K, h, w, 3] uint8
    total: int
    preview_res: int | None = None  # rendered only up to this resolution's ToRGB (a preview), else full


@dataclass(frozen=True, kw_only=True)
class MixGridReady(RenderResult):
    """Rendered mixing grid: row/column sources and cells (a half-filled grid: its sources only)."""

    row_images: np.ndarray       # [R, h, w, 3]
    col_images: np.ndarray       # [C, h, w, 3]
    cells: np.ndarray            # [R, C, h, w, 3]
    done: int | None = None      # while streaming: images rendered so far (rows, columns, then cells row by row)


@dataclass(frozen=True, kw_only=True)
class VariationReady(RenderResult):
    """Mean image and per-pixel standard deviation over noise draws."""

    image: np.ndarray            # [H, W, 3] uint8, one draw
    std_map: np.ndarray          # [H, W] float32
    done: int | None = None      # while streaming: draws so far (the map refines until all are in)


@dataclass(frozen=True, kw_only=True)
class StripReady(RenderResult):
    """One latent rendered at several ψ values."""

    psis: tuple[float, ...]
    images: np.ndarray           # [K, h, w, 3]
    done: int | None = None      # while streaming: images[:done] are rendered, the rest blank


@dataclass(frozen=True, kw_only=True)
class InterpolationReady(RenderResult):
    """The faces of an interpolation strip, start to end."""

    images: np.ndarray           # [K, h, w, 3]
    done: int | None = None      # while streaming: images[:done] are rendered, the rest blank


@dataclass(frozen=True, kw_only=True)
class BlendReady(RenderResult):
    """A RenderBlend's three rows for the same seeds: the base, the blend and the other model."""

    base_images: np.ndarray      # [N, h, w, 3] uint8
    blend_images: np.ndarray     # [N, h, w, 3]; rows not rendered yet are blank
    other_images: np.ndarray     # [N, h, w, 3]
    other_name: str
    other_id: str
    weights: tuple[tuple[int, float], ...]  # (resolution, share of the other model) per synthesis resolution
    note: str = ""               # a warning when the two models look unrelated (nets/blend.py relation_note)
    done: int | None = None      # while streaming: rows rendered so far (base, blend, other)


@dataclass(frozen=True, kw_only=True)
class LayerReady(RenderResult):
    """A layer view (RenderLayer) of each latent, or of the viewer's face (one image).

    order: the channels in the grid's order (highest energy first); lo, hi: the raw value range of the
    channel(s) shown (a grid: of the whole layer); cols, tile: the grid's columns and each tile's side in px
    (tiles are 1 px apart), so a click maps to a channel.
    """

    images: np.ndarray           # [K, h, w, 3] uint8
    start: int = 0               # images[k] belongs to latents[start + k]
    total: int = 1
    layer: str = ""
    mode: str = "grid"
    channels: int = 0            # the layer's channel count
    order: tuple[int, ...] = ()
    lo: float = 0.0
    hi: float = 0.0
    cols: int = 1
    tile: int = 0

    def channel_at(self, x: int, y: int) -> int | None:
        """The channel under pixel (x, y) of a grid image, or None (a gap, past the last tile, not a grid)."""
        if self.mode != "grid" or self.tile <= 0 or x < 0 or y < 0:
            return None
        (c, cx), (r, ry) = divmod(x, self.tile + LAYER_GRID_GAP), divmod(y, self.tile + LAYER_GRID_GAP)
        k = r * self.cols + c
        return self.order[k] if cx < self.tile and ry < self.tile and c < self.cols and k < len(self.order) else None


@dataclass(frozen=True)
class JobStarted(Event):
    """A long job began."""

    job_id: int
    kind: str                    # "train" | "video" | ...
    description: str = ""


@dataclass(frozen=True)
class JobProgress(Event):
    """A job advanced: `done` of `total` units (total 0 = unknown)."""

    job_id: int
    kind: str
    done: float
    total: float
    message: str = ""


@dataclass(frozen=True)
class JobFinished(Event):
    """A job ended: ok, cancelled or failed, with a one-line message and an output path if any."""

    job_id: int
    kind: str
    status: str                  # "ok" | "cancelled" | "failed"
    message: str = ""
    path: str = ""


@dataclass(frozen=True)
class ProjectionPreview(Event):
    """The current reconstruction of a projection job (at most ten a second, and the last step)."""

    job_id: int
    step: int
    total: int
    distance: float
    image: np.ndarray            # [H, W, 3] uint8
    target: np.ndarray           # [H, W, 3] uint8: the image as the model sees it (cropped, resized)


@dataclass(frozen=True)
class ProjectionDone(Event):
    """What a projection found: `latent` (w [w_dim] or per-layer ws [num_ws, w_dim]) and its image."""

    job_id: int
    path: str                    # the target image file
    latent: Latent
    image: np.ndarray            # [H, W, 3] uint8: the reconstruction (with its optimised noise maps if asked)
    psnr: float


@dataclass(frozen=True)
class TickStats:
    """Statistics of one training tick: a line of a run's stats.jsonl, and what TrainingTick carries."""

    tick: int
    kimg: float
    resolution: int
    fade: float                  # 1.0 when the resolution is fully faded in
    batch: int
    sec_per_kimg: float
    images_per_s: float
    loss_g: float
    loss_d: float
    r1: float
    score_real: float
    score_fake: float
    time: float                  # wall-clock time of the tick (seconds since the epoch)
    augment_p: float = math.nan  # the probability D's augmentations applied with (mean over the tick)
    r_t: float = math.nan        # E[sign(D(reals))]: ADA's overfitting heuristic (NaN: ticks of older runs)


@dataclass(frozen=True, kw_only=True)
class TrainingTick(TickStats, Event):
    """One tick of training statistics (a TickStats) for the window, with the run's place in time."""

    job_id: int
    run_dir: str
    total_kimg: float
    seconds: float               # since the run (or its resumption) started; NaN for replayed ticks
    eta_s: float


@dataclass(frozen=True)
class TrainingMetric(Event):
    """A measurement of the run's G_ema: 'fid1k' (FID of 1,000 samples, when asked for) or, every tick,
    'diversity' (the spread of 64 samples ÷ that of 64 reals: near 0 is collapse)."""

    job_id: int
    kimg: float
    name: str
    value: float


@dataclass(frozen=True)
class TrainingFakes(Event):
    """The latest grid of fakes from the run's fixed latents."""

    job_id: int
    kimg: float
    image: np.ndarray            # [H, W, 3] uint8


@dataclass(frozen=True)
class TrainingSnapshot(Event):
    """A model snapshot was written; `kept`: the run's snapshots still on disk (older ones are pruned)."""

    job_id: int
    path: str
    kimg: float
    kept: tuple[str, ...] | None = None   # None: not said (nothing was pruned)


@dataclass(frozen=True)
class MetricResult(Event):
    """A measurement of a model (MeasureFID): its value and what it was measured on."""

    job_id: int
    name: str                    # "fid"
    value: float
    model: str                   # the model's name
    n_fake: int
    n_real: int
    psi: float
    data: str
    seconds: float
    note: str = ""               # why the figure may mislead (too few images), or nothing


@dataclass(frozen=True)
class TrainingState(Event):
    """Training state changed: 'running', 'paused', 'stopped' (by the user), 'failed' (the reason comes with the
    job's JobFinished) or 'finished'."""

    job_id: int
    state: str
    # with a run's first 'running': the settings it trains with, its images (one line) and notes on its start
    config: TrainConfig | None = None
    dataset: str = ""
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class DatasetSummary(Event):
    """Validation of a dataset: counts, resolution and skipped files with reasons."""

    path: str
    count: int
    resolution: int
    skipped: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ModelDescription(Event):
    """What the open model is: the `info` command's lines, and its model card (Markdown) when one lies beside it."""

    request: int                 # DescribeModel's: answers may arrive out of order (a large pickle reads slowly)
    lines: tuple[str, ...]
    card: str = ""
    card_path: str = ""


@dataclass(frozen=True)
class FaceLatent(Event):
    """MixFace's answer: the mixed face as one latent (per-layer w), which drags, keeps and renders like any."""

    request: int
    latent: Latent


@dataclass(frozen=True)
class ImageRecord(Event):
    """What an image file records: the request that rendered it and its model, or `spec` None for an image the
    studio did not save (a photo, a drawing: the window projects it instead)."""

    request: int                 # ReadImageRecord's
    path: str
    spec: RenderRequest | None = None
    model_id: str = ""
    model_name: str = ""
    model_path: str = ""
    training_kimg: float | None = None   # saved from a training run's live G_ema, at this many kimg


@dataclass(frozen=True)
class Saved(Event):
    """A file was written by a command."""

    path: str
    what: str                    # "model" | "latents" | "video" | a still's kind ("image", "mix", "figure", ...)


@dataclass(frozen=True)
class DirectionsReady(Event):
    """A direction set computed for the model or read from `path`."""

    directions: DirectionSet
    path: str = ""


@dataclass(frozen=True)
class ErrorEvent(Event):
    """A request, command or job failed; `message` is one plain line."""

    message: str
    source: object = None
