"""The projection job: one optimisation step per unit, a live preview, the latent found as an event."""
from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

from ..contract.messages import Latent, ProjectImage, ProjectionDone, ProjectionPreview
from ..nets.api import GeneratorNet
from ..render.project import Projection, load_target, psnr
from .jobs import Job, Outcome, Unit

PREVIEW_INTERVAL_S = 0.1  # at most ten preview images a second


def projection_units(G: GeneratorNet, cmd: ProjectImage, job: Job) -> Iterator[Unit]:
    """Load the target (one line if unreadable), optimise step by step, then emit ProjectionDone."""
    target = load_target(cmd.path, G.img_resolution)
    proj = Projection(G, target, cmd.options)
    name, shown = Path(cmd.path).name, 0.0
    for step in proj.steps():
        now, events = time.monotonic(), ()
        if now - shown >= PREVIEW_INTERVAL_S or step.step == step.total:
            shown = now
            events = (ProjectionPreview(job.job_id, step.step, step.total, step.distance, step.image, target),)
        yield Unit(step.step, step.total, f"{name}: step {step.step} of {step.total}", events)
    result = proj.result()
    score = psnr(result.image, target)
    done = ProjectionDone(job.job_id, str(cmd.path), Latent(w=result.w), result.image, score)
    yield Unit(step.total, step.total, f"{name}: {score:.1f} dB", (done,))
    return Outcome(f"projected {name} into {cmd.options.space.upper()}: PSNR {score:.1f} dB")
