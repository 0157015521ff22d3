"""Direction commands of the engine thread: compute PCA/SeFa as a job, read and write direction files."""
from __future__ import annotations

from pathlib import Path

from ..directions import attributes, classifier, compute
from ..contract.directions import read
from ..contract.errors import UserError
from ..contract.messages import ComputeDirections, DirectionsReady, LoadDirections, Saved, SaveDirections
from .jobs import Outcome, Unit

METHODS = {"pca": "PCA", "sefa": "SeFa", "attributes": "attribute"}


def compute_directions(eng, cmd: ComputeDirections) -> None:
    """PCA or SeFa of the model in use, one batch of mapped samples per unit."""
    if cmd.kind not in METHODS:
        raise UserError(f"directions must be {' or '.join(METHODS)}, got {cmd.kind!r}")
    if not 1 <= cmd.count <= 512 or not 2 <= cmd.samples <= 1_000_000:
        raise UserError("directions: count must be 1-512 and samples 2-1000000")
    G, model_id = eng.model.render_G, eng.model.meta.model_id
    bad = [i for i in cmd.layers if not 0 <= i < G.num_ws]
    if bad:
        raise UserError(f"layer {bad[0]} does not exist: this model has layers 0-{G.num_ws - 1}")

    net = _classifier() if cmd.kind == "attributes" else None

    def factory(job):
        if cmd.kind == "attributes":
            work = attributes.attribute_directions(G, net, model_id, cmd.samples)
        elif cmd.kind == "pca":
            work = compute.pca(G, model_id, cmd.count, cmd.samples, layers=cmd.layers)
        else:
            work = compute.sefa(G, model_id, cmd.count, cmd.layers, cmd.samples)
        while True:
            try:
                done, total = next(work)
            except StopIteration as end:
                ds = end.value
                break
            yield Unit(done, total, f"{'classified' if net else 'mapped'} {done:,} of {total:,} samples")
        yield Unit(cmd.samples, cmd.samples, f"{len(ds)} {METHODS[cmd.kind]} directions", (DirectionsReady(ds),))
        return Outcome(f"{len(ds)} {METHODS[cmd.kind]} directions")
    eng.jobs.add("directions", f"{METHODS[cmd.kind]} directions", factory, cmd)


def _classifier():
    """The bundled attribute classifier (attribute directions need it)."""
    path = attributes.bundled_classifier()
    if not path.is_file():
        raise UserError("attribute directions need the attribute classifier, which this install lacks")
    return classifier.load(path)


def load_directions(eng, cmd: LoadDirections) -> None:
    """Read a directions file made for a w of this model's size."""
    ds = read(cmd.path)
    w_dim = eng.model.render_G.w_dim
    if ds.w_dim != w_dim:
        raise UserError(f"{Path(cmd.path).name} holds directions of {ds.w_dim} values; this model's w has {w_dim}")
    eng.emit(DirectionsReady(ds, str(cmd.path)))


def save_directions(eng, cmd: SaveDirections) -> None:
    """Write a direction set."""
    if cmd.directions is None or not cmd.path:
        raise UserError("no directions to save")
    compute.save(cmd.path, cmd.directions)
    eng.emit(Saved(cmd.path, "directions"))


HANDLERS = {ComputeDirections: compute_directions, LoadDirections: load_directions, SaveDirections: save_directions}
